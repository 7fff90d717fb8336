"""What a domain's frame handler may use of the socket a frame came from.

The gateway's ``Connection`` is one; domains see only this, so they never import the gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tresen.principal import Principal

if TYPE_CHECKING:
    from tresen.runtime import Runtime


class Peer(Protocol):
    rt: Runtime
    who: Principal
    closed: bool
    frame_bytes: int
    tab: str
    """A visitor's browser tab (several sockets of one visitor may share a visit)."""
    """Size of the frame being handled, in bytes."""
    cobrowse: Any
    """The co-browse relay's state for this socket (``cobrowse.relay.RelayState``), if any."""

    def send(self, frame: str) -> None:
        """Queue a frame for this socket only."""

    async def join(self, topic: str) -> None:
        """Follow one more bus topic until the socket closes."""

    async def leave(self, topic: str) -> None:
        """Stop following a topic joined with ``join``."""

    def conversation_brief(self, conversation_id: int) -> tuple[int, int | None] | None:
        """(visitor id, assignee id) of a conversation this socket has seen, if it has."""

    def remember_conversation(
        self, conversation_id: int, visitor_id: int, assignee_id: int | None
    ) -> None:
        """Note who a conversation is between (typing goes there without a database read)."""

    def track_from_start(self, conversation_id: int) -> None:
        """This socket created the conversation: deliver its messages gapless from seq 1 (as
        if it had seen the ``created`` change, which a bus outage may have swallowed)."""
