"""Routing frames on a socket: a waiting visitor's choice (wait, message, callback, bot, leave)."""

from __future__ import annotations

from tresen.peer import Peer
from tresen.realtime.protocol import QueueChoiceIn
from tresen.routing.actions import check_queue_choice


async def on_queue_choice(peer: Peer, frame: QueueChoiceIn) -> None:
    details = {"email": frame.email, "phone": frame.phone, "when": frame.when}
    await check_queue_choice(peer.rt, peer.who, frame.conversation_id, frame.choice, details)
