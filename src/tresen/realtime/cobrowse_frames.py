"""The co-browsing frames on the WebSocket wire (docs/cobrowse.md, docs/protocol.md): what
agents and visitors send about a session, and what the server sends them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from tresen.realtime.frame_base import InFrame, OutFrame

# ---- client to server --------------------------------------------------------------

CobrowseAction = Literal[
    "pointer", "navigate", "fill", "click", "scroll", "type", "request_control", "snapshot"
]


class CobrowseRequestIn(InFrame):
    """An agent asks the visitor of a conversation to share their screen."""

    type: Literal["cobrowse_request"]
    conversation_id: int


class CobrowseReplyIn(InFrame):
    """The visitor's answer to a request. ``auto_follow``: pushed pages open without asking."""

    type: Literal["cobrowse_reply"]
    session_id: int
    accept: bool
    auto_follow: bool = False


class CobrowseStopIn(InFrame):
    """Either side ends the session at once."""

    type: Literal["cobrowse_stop"]
    session_id: int


class CobrowseControlIn(InFrame):
    """The visitor's second, separate consent: may the agent click, scroll and type?"""

    type: Literal["cobrowse_control"]
    session_id: int
    granted: bool


class CobrowseWatchIn(InFrame):
    """An agent opens the mirror of a session (late joiners get a fresh full snapshot)."""

    type: Literal["cobrowse_watch"]
    session_id: int


class CobrowseResumeIn(InFrame):
    """The visitor's page after a navigation: is the session still on?"""

    type: Literal["cobrowse_resume"]
    session_id: int


class CobrowseEventsIn(InFrame):
    """Recorded page events (rrweb), batched by the visitor's recorder. Never stored."""

    type: Literal["cobrowse_events"]
    session_id: int
    events: Annotated[list[dict[str, Any]], Field(max_length=500)]
    url: Annotated[str, Field(max_length=2048)] = ""


class CobrowseCommandIn(InFrame):
    """An agent tool: ``pointer`` (node id), ``navigate`` (url), ``fill`` (node id, value),
    ``click`` / ``scroll`` / ``type`` (remote control, after the visitor granted it),
    ``request_control``, ``snapshot``."""

    type: Literal["cobrowse_command"]
    session_id: int
    action: CobrowseAction
    node: int | None = None
    url: Annotated[str, Field(max_length=2048)] | None = None
    value: Annotated[str, Field(max_length=2000)] | None = None
    x: float | None = None
    y: float | None = None
    escort: bool = False


class CobrowseCodeIn(InFrame):
    """The visitor asks for a 6-digit support code to read out to a phone agent."""

    type: Literal["cobrowse_code"]


# ---- server to client ----------------------------------------------------------------------------


class CobrowseOut(OutFrame):
    """A co-browsing session's state: ``requested`` (the visitor is asked), ``active``,
    ``declined`` or ``ended``. ``control``: remote control granted."""

    type: Literal["cobrowse"] = "cobrowse"
    session_id: int
    conversation_id: int
    status: Literal["requested", "active", "declined", "ended"]
    control: bool = False
    auto_follow: bool = False
    agent_name: str | None = None
    by: Literal["visitor", "agent", "system"] | None = None


class CobrowseEventsOut(OutFrame):
    """For agents watching: the visitor's recorded events, relayed (never stored)."""

    type: Literal["cobrowse_events"] = "cobrowse_events"
    session_id: int
    events: list[dict[str, Any]]
    url: str = ""


class CobrowseCommandOut(OutFrame):
    """For the visitor's page: an agent tool to apply (see ``CobrowseCommandIn``)."""

    type: Literal["cobrowse_command"] = "cobrowse_command"
    session_id: int
    action: str
    node: int | None = None
    url: str | None = None
    value: str | None = None
    x: float | None = None
    y: float | None = None
    escort: bool = False
    agent_name: str | None = None


class CobrowseNoticeOut(OutFrame):
    """Something about the mirror: ``snapshot_too_large`` (the page is too big to mirror),
    ``dropped`` (a batch carried an unmasked private value and was not relayed),
    ``snapshot_needed`` (for the recorder: take a full snapshot)."""

    type: Literal["cobrowse_notice"] = "cobrowse_notice"
    session_id: int
    code: str
    message: str
    url: str | None = None  # ``dropped``: the page the batch came from
    snapshot: bool = False  # ``dropped``: the batch held a full snapshot (a page not shown)


class CobrowseCodeOut(OutFrame):
    """A support code for the visitor to read out; valid once, for ``expires_in`` seconds."""

    type: Literal["cobrowse_code"] = "cobrowse_code"
    code: str
    expires_in: int
