"""Relay a visitor's recorded page events to the agents watching, on the bus.

The recorder masks on the device (rrweb ``maskAllInputs``; passwords, card fields and
``data-tresen-private`` elements are blocked, i.e. never serialised). This is the second line:
a batch that carries the value of a masked field, or a field that should have been blocked, is
dropped whole and the visitor's page is told. Rate and size are limited per connection.
Events are never stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tresen.aio import spawn
from tresen.cobrowse.actions import access_session_by_id, gate_topic, session_topic
from tresen.errors import Invalid, RateLimited
from tresen.peer import Peer as Connection
from tresen.realtime.cobrowse_frames import CobrowseEventsIn, CobrowseEventsOut, CobrowseNoticeOut
from tresen.realtime.hub import Tag

FULL_SNAPSHOT, INCREMENTAL = 2, 3
MUTATION, INPUT = 0, 5
ELEMENT = 2
VALUE_TAGS = frozenset({"input", "textarea", "select"})
ALLOW_ATTR = "data-tresen-allow"
TEXT_TAGS = frozenset({"input", "textarea"})
NOT_TEXT = frozenset(
    {"password", "hidden", "file", "submit", "button", "image", "reset", "checkbox", "radio"}
    | {"range", "color"}
)
BLOCKED_ATTR = "rr_width"  # rrweb serialises a blocked element as class + rr_width/rr_height
ACTIVE_RECHECK_SECONDS = 1.0


@dataclass
class RelayState:
    """Per visitor connection: what the recorder has shown us of the page."""

    allowed: set[int] = field(default_factory=set)  # element ids allow-listed for values
    value_ids: set[int] = field(default_factory=set)  # input, textarea, select
    typable: set[int] = field(default_factory=set)  # text fields shown, not blocked or private
    hidden_ids: set[int] = field(default_factory=set)  # <input type=hidden>: values omitted
    gates: dict[int, Gate] = field(default_factory=dict)  # session id -> its command gate
    checked: dict[int, float] = field(default_factory=dict)  # session id -> when verified
    tokens: float = 0.0
    tokens_at: float = 0.0
    bytes_window: tuple[int, int] = (0, 0)  # (minute, bytes)


class Leak(Exception):
    """A batch carries something that must never leave the visitor's device."""


def masked(value: object) -> bool:
    return isinstance(value, str) and value.strip("*") == ""


def _private_attrs(attrs: dict[str, Any]) -> bool:
    kind = str(attrs.get("type", "")).lower()
    auto = str(attrs.get("autocomplete", "")).lower()
    return kind == "password" or auto.startswith("cc-") or "data-tresen-private" in attrs


def _text_field(tag: str, attrs: dict[str, Any]) -> bool:
    kind = str(attrs.get("type", "text")).lower()
    return tag in TEXT_TAGS and BLOCKED_ATTR not in attrs and kind not in NOT_TEXT


def scan_node(state: RelayState, root: dict[str, Any]) -> None:
    """Walk a serialised node tree: learn value fields, refuse unmasked or private ones."""
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") == ELEMENT:
            attrs = node.get("attributes") or {}
            if not isinstance(attrs, dict) or _private_attrs(attrs):
                raise Leak("a private field was serialised")
            nid = node.get("id")
            tag = str(node.get("tagName", "")).lower()
            if isinstance(nid, int) and ALLOW_ATTR in attrs:
                state.allowed.add(nid)
            if isinstance(nid, int) and _text_field(tag, attrs):
                state.typable.add(nid)
            if tag == "input" and str(attrs.get("type", "")).lower() == "hidden":
                # Never the visitor's typing (a CSRF token, a product id), never masked by
                # the recorder: the value is omitted and the page is shown.
                attrs.pop("value", None)
                if isinstance(nid, int):
                    state.hidden_ids.add(nid)
            elif isinstance(nid, int) and tag in VALUE_TAGS:
                state.value_ids.add(nid)
                if "value" in attrs and nid not in state.allowed and not masked(attrs["value"]):
                    raise Leak("an unmasked field value")
        stack.extend(node.get("childNodes") or [])


def _check_mutation(state: RelayState, data: dict[str, Any]) -> None:
    for removed in data.get("removes") or []:
        if isinstance(removed, dict):
            state.typable.discard(removed.get("id"))  # type: ignore[arg-type]
    for add in data.get("adds") or []:
        scan_node(state, add.get("node") or {})
    for change in data.get("attributes") or []:
        nid, attrs = change.get("id"), change.get("attributes") or {}
        if not isinstance(attrs, dict) or _private_attrs(attrs):
            state.typable.discard(nid)
            raise Leak("a field became private while recorded")
        if str(attrs.get("type") or "").lower() in NOT_TEXT:
            state.typable.discard(nid)
        if nid in state.hidden_ids or str(attrs.get("type") or "").lower() == "hidden":
            attrs.pop("value", None)  # a hidden input's value is omitted, as in snapshots
            if isinstance(nid, int):
                state.hidden_ids.add(nid)
        if "value" in attrs and nid not in state.allowed and not masked(attrs["value"]):
            if nid in state.value_ids or not isinstance(nid, int):
                raise Leak("an unmasked field value")


def check_events(state: RelayState, events: list[dict[str, Any]]) -> None:
    """Raise ``Leak`` if any event carries what masking should have hidden."""
    for ev in events:
        kind, data = ev.get("type"), ev.get("data")
        if not isinstance(data, dict):
            continue
        if kind == FULL_SNAPSHOT:
            state.allowed.clear()
            state.value_ids.clear()
            state.typable.clear()
            state.hidden_ids.clear()
            scan_node(state, data.get("node") or {})
        elif kind == INCREMENTAL and data.get("source") == MUTATION:
            _check_mutation(state, data)
        elif kind == INCREMENTAL and data.get("source") == INPUT:
            if data.get("id") not in state.allowed and not masked(data.get("text", "")):
                raise Leak("an unmasked input value")


def _state(conn: Connection) -> RelayState:
    state = conn.cobrowse
    if state is None:
        state = conn.cobrowse = RelayState(tokens=conn.rt.settings.cobrowse_frames_burst)
        state.tokens_at = conn.rt.clock.monotonic()
    return state


def _take(conn: Connection, state: RelayState, size: int) -> None:
    settings, now = conn.rt.settings, conn.rt.clock.monotonic()
    rate, burst = settings.cobrowse_frames_per_second, settings.cobrowse_frames_burst
    state.tokens = min(burst, state.tokens + (now - state.tokens_at) * rate)
    state.tokens_at = now
    minute, used = state.bytes_window
    if int(now // 60) != minute:
        minute, used = int(now // 60), 0
    if state.tokens < 1 or used + size > settings.cobrowse_bytes_per_minute:
        raise RateLimited("co-browsing events over the limit; slow down")
    state.tokens -= 1
    state.bytes_window = (minute, used + size)


async def _check_active(conn: Connection, state: RelayState, session_id: int) -> None:
    now = conn.rt.clock.monotonic()
    if now - state.checked.get(session_id, -1e9) < ACTIVE_RECHECK_SECONDS:
        return
    async with conn.rt.db.read() as s:
        cb = await access_session_by_id(s, conn.who, session_id)
    if cb.status != "active":
        state.checked.pop(session_id, None)
        raise Invalid("the co-browsing session is not active", code="session_closed")
    state.checked[session_id] = now


def forget(conn: Connection, session_id: int) -> None:
    """The session ended on this connection: the next batch is checked again at once."""
    if conn.cobrowse is not None:
        conn.cobrowse.checked.pop(session_id, None)
        gate = conn.cobrowse.gates.get(session_id)
        if gate is not None:
            gate.close()


class Gate:
    """The relay's check of field commands (``fill``, ``type``) for one recording connection.

    Those commands travel on ``cbc:<session>``, which only the connection that relays the
    session's events follows, through this gate: a command reaches the page only for a text
    field this connection's recorder has shown unblocked and not private. Anything else (a
    password, ``cc-*`` or ``data-tresen-private`` field, which is blocked and so never shown, an
    unknown id, a checkbox) is refused and the agents are told. The gate leaves its topic when
    the session ends, the visitor stops or the socket is gone.
    """

    def __init__(self, conn: Connection, state: RelayState, session_id: int) -> None:
        self.conn, self.state, self.session_id = conn, state, session_id
        self.topic = gate_topic(session_id)
        self.closed = False

    def deliver(self, frame: str, tag: Tag | None) -> None:
        if self.closed:
            return
        if self.conn.closed:
            self.close()
            return
        data = json.loads(frame)
        if data.get("type") == "cobrowse" and data.get("status") != "active":
            self.close()
        elif data.get("type") == "cobrowse_command":
            if allowed_command(self.state, data):
                self.conn.send(frame)
            else:
                notice = CobrowseNoticeOut(
                    session_id=self.session_id,
                    code="refused",
                    message="that field is private or not a text field: nothing was typed",
                )
                self.conn.rt.bus.publish_nowait(session_topic(self.session_id), notice.frame())

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.state.checked.pop(self.session_id, None)  # the next batch is checked at once
        if self.state.gates.get(self.session_id) is self:
            del self.state.gates[self.session_id]
        spawn(self.conn.rt.hub.leave(self.topic, self))


def allowed_command(state: RelayState, command: dict[str, Any]) -> bool:
    """A field command may reach the page only for a text field shown unblocked, not private."""
    node = command.get("node")
    return isinstance(node, int) and node in state.typable


async def _open_gate(conn: Connection, state: RelayState, session_id: int) -> None:
    gate = state.gates.get(session_id)
    if gate is None or gate.closed:
        gate = state.gates[session_id] = Gate(conn, state, session_id)
        await conn.rt.hub.join(gate.topic, gate)


async def relay_events(conn: Connection, frame: CobrowseEventsIn, size: int) -> None:
    if conn.who.kind != "visitor":
        raise Invalid("only the visitor's page sends co-browsing events")
    state = _state(conn)
    try:
        _take(conn, state, size)
    except RateLimited:
        if frame.session_id in state.checked:  # a session this connection relays: tell agents
            _not_relayed(conn, frame, "over the co-browsing limit", tell_visitor=False)
        raise
    try:
        await _check_active(conn, state, frame.session_id)
    except Invalid:
        forget(conn, frame.session_id)
        raise
    await _open_gate(conn, state, frame.session_id)
    try:
        check_events(state, frame.events)
    except Leak as exc:
        _not_relayed(conn, frame, str(exc))
        return
    out = CobrowseEventsOut(session_id=frame.session_id, events=frame.events, url=frame.url)
    conn.rt.bus.publish_nowait(session_topic(frame.session_id), out.frame())


def _not_relayed(
    conn: Connection, frame: CobrowseEventsIn, why: str, *, tell_visitor: bool = True
) -> None:
    """Tell the agents (and the visitor's page) that a batch was not relayed, with the page it
    came from and whether it was a new page's snapshot: the mirror then shows "page not shown"
    for that URL instead of the previous page."""
    snapshot = any(isinstance(ev, dict) and ev.get("type") == FULL_SNAPSHOT for ev in frame.events)
    notice = CobrowseNoticeOut(
        session_id=frame.session_id,
        code="dropped",
        message=f"batch not relayed: {why}",
        url=frame.url or None,
        snapshot=snapshot,
    ).frame()
    if tell_visitor:
        conn.send(notice)
    conn.rt.bus.publish_nowait(session_topic(frame.session_id), notice)
