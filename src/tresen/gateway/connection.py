"""One WebSocket: a bounded send queue, ordered gapless delivery per conversation, frame handling.

Delivery rule: for every conversation the client told us its position in (``resume``) or that was
created while it was connected, frames reach it in ``seq`` order, each exactly once. A gap (a
newer seq arriving first, from another process or a concurrent writer) is filled from the
database, which is the log; the bus only rings the bell.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections import OrderedDict, deque
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.websockets import WebSocket

from tresen.aio import spawn
from tresen.errors import TresenError
from tresen.gateway.frames import FrameRouter, send_missed
from tresen.gateway.transport import PROTOCOL_SCOPE_KEY, TRANSPORT_SCOPE_KEY
from tresen.principal import Principal
from tresen.realtime.hub import Tag
from tresen.realtime.protocol import CLIENT_MODELS, PongOut, error_frame

if TYPE_CHECKING:
    from tresen.runtime import Runtime

log = logging.getLogger(__name__)
CLOSE_SLOW_CONSUMER = 4008
CLOSE_SESSION_ENDED = 4001
CLOSE_ACCESS_CHANGED = 4002  # the agent's sites changed: reconnect to follow the new ones
CLOSE_GRACE_SECONDS = 5.0
"""A close the server decided must complete within this time; else the transport is aborted
(a peer that stopped reading never takes the close frame, and would stay connected, silent)."""
FILL_PAGE = 200
RECENT = 256
"""Messages of untracked conversations remembered, so one published to several topics this
socket follows (its agent's, a watch, the inbox) reaches it once."""
RESUME_WAIT_SECONDS = 1.0
"""How long messages of untracked conversations wait for the client's first frame (its resume)."""


class _Writes:
    """The sockets that got frames in this turn of the loop, written once the turn's callbacks
    ran: a commit queues the message frames of all its sends and then resumes the senders, who
    queue their acks; one write per socket then carries them all (a write per frame was the
    largest single cost of a send, bench/README.md)."""

    __slots__ = ("due", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: list[Connection] = []

    def add(self, conn: Connection) -> None:
        self.due.append(conn)
        if len(self.due) == 1:
            self.loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self.loop.call_soon(self._write)  # after the callbacks (woken senders) queued so far

    def _write(self) -> None:
        due, self.due = self.due, []
        for conn in due:
            conn.write_queued()


_writes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writes] = weakref.WeakKeyDictionary()


def _writes_of_loop() -> _Writes:
    loop = asyncio.get_running_loop()
    writes = _writes.get(loop)
    if writes is None:
        writes = _writes[loop] = _Writes(loop)
    return writes


class Connection:
    def __init__(self, ws: WebSocket, who: Principal, rt: Runtime, router: FrameRouter) -> None:
        self.ws = ws
        # uvicorn's sans-I/O protocol as ``gateway/lean_socket.py`` runs it: the frames of a
        # loop turn go out in one write. Any other server or protocol: one ``send`` per frame.
        protocol = ws.scope.get(PROTOCOL_SCOPE_KEY)
        self._protocol = protocol if hasattr(protocol, "write_texts") else None
        self._writes = _writes_of_loop()
        self._write_due = False
        self.who = who
        self.rt = rt
        self.router = router
        self.queue: deque[str] = deque()
        self.positions: dict[int, int] = {}
        self.briefs: dict[int, tuple[int, int | None]] = {}
        self._recent: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._filling: dict[int, list[tuple[str, int]]] = {}
        # Until the client's first frame (normally ``resume``) is handled, messages of
        # conversations it has not resumed yet are held: sent now, they would overtake the gap
        # the resume fills and then come again with the fill.
        self._early: list[tuple[str, int, int]] | None = []
        self._drainer: asyncio.Task[None] | None = None
        self._tokens = float(rt.settings.frames_burst)
        self._tokens_at = rt.clock.monotonic()
        self.last_recv = rt.clock.monotonic()
        self.closed = False
        # Topics joined after connect (watches, views, ``cb:<session>``), the co-browse relay's
        # state for a visitor's recorder, and the size of the frame being handled.
        self.topics: set[str] = set()
        self.cobrowse: Any = None
        self.frame_bytes = 0
        self.tab = ""  # a visitor's browser tab (``radar``: one visit, several tabs)
        self.sites: frozenset[int] | None = None  # an agent's sites when it connected; None: all

    # ---- outgoing ----------------------------------------------------------------------------

    def send(self, frame: str) -> None:
        """Queue a frame. A client that cannot keep up is disconnected, never buffered forever."""
        if self.closed:
            return
        if len(self.queue) >= self.rt.settings.send_queue_limit:
            log.warning("closing slow %s %s: send queue full", self.who.kind, self.who.id)
            self.close(CLOSE_SLOW_CONSUMER, "send queue full")
            return
        self.queue.append(frame)
        if self._drainer is not None:
            return  # it sends what is queued once the socket is writable again
        if self._protocol is None:
            self._drainer = asyncio.create_task(self._drain())
        elif not self._write_due:
            self._write_due = True
            self._writes.add(self)

    def write_queued(self) -> None:
        """Everything queued in one write; while the transport is paused (the peer reads
        slowly), a drainer waits for it and the queue fills up to its limit (then 4008)."""
        self._write_due = False
        protocol = self._protocol
        if self.closed or not self.queue or self._drainer is not None or protocol is None:
            return
        if not protocol.writable.is_set():
            self._drainer = asyncio.create_task(self._drain())
            return
        frames = list(self.queue)
        self.queue.clear()
        try:
            protocol.write_texts(frames)
        except Exception:
            self.closed = True

    async def _drain(self) -> None:
        protocol = self._protocol
        try:
            while self.queue:
                if protocol is None:
                    await self.ws.send_text(self.queue.popleft())
                    continue
                await protocol.writable.wait()
                if self.closed:
                    return
                frames = list(self.queue)
                self.queue.clear()
                protocol.write_texts(frames)
        except Exception:
            self.closed = True
        finally:
            self._drainer = None

    def close(self, code: int = 1000, reason: str = "", last_frame: str | None = None) -> None:
        """Close with ``code`` (after ``last_frame``, if given); abort the transport if the
        close has not completed after ``CLOSE_GRACE_SECONDS`` (on the injected scheduler)."""
        if self.closed:
            return
        self.closed = True
        self.queue.clear()
        if self._drainer is not None:
            self._drainer.cancel()
        spawn(_close_quietly(self.ws, code, reason, last_frame))
        deadline = self.rt.clock.now().timestamp() + CLOSE_GRACE_SECONDS
        self.rt.scheduler.call_at(deadline, partial(abort_transport, self.ws))

    def deliver(self, frame: str, tag: Tag | None) -> None:
        """A frame from the hub. Message frames of tracked conversations keep seq order."""
        if tag is None:
            self.send(frame)
        elif tag.kind == "s":
            if tag.sessions is None or self.who.session_id in tag.sessions:
                self.close(CLOSE_SESSION_ENDED, "session ended", last_frame=frame)
        elif tag.kind == "r":
            self.close(CLOSE_ACCESS_CHANGED, "access changed; reconnect", last_frame=frame)
        elif tag.kind == "c":
            if tag.created:
                # New while we are connected: we saw it from its start, so track it.
                # A change to an older conversation starts nothing: only ``resume`` does.
                self.positions.setdefault(tag.conversation_id, 0)
            self.remember_conversation(tag.conversation_id, tag.visitor_id, tag.assignee_id)
            self.send(frame)
        else:
            self._deliver_message(frame, tag.conversation_id, tag.seq)

    def _deliver_message(self, frame: str, conversation_id: int, seq: int) -> None:
        buffer = self._filling.get(conversation_id)
        if buffer is not None:
            buffer.append((frame, seq))
            return
        position = self.positions.get(conversation_id)
        if position is None and self._early is not None:
            self._early.append((frame, conversation_id, seq))
            if len(self._early) >= self.rt.settings.send_queue_limit:
                self.release_early()
        elif position is None:
            if (conversation_id, seq) in self._recent:
                return  # the same message through another topic
            self._recent[(conversation_id, seq)] = None
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
            self.send(frame)
        elif seq == position + 1:
            self.positions[conversation_id] = seq
            self.send(frame)
        elif seq > position + 1:
            self._filling[conversation_id] = [(frame, seq)]
            spawn(self.fill(conversation_id, started=True))

    async def fill(self, conversation_id: int, *, started: bool = False) -> None:
        """Send what the store has after our position, then what arrived meanwhile."""
        if not started:
            self._filling.setdefault(conversation_id, [])
        try:
            await send_missed(self, conversation_id, FILL_PAGE)
        except TresenError as exc:
            self.positions.pop(conversation_id, None)
            self.send(error_frame(exc.code, exc.message))
        except Exception:
            log.exception("gap fill failed for conversation %s", conversation_id)
        buffered = self._filling.pop(conversation_id, [])
        for frame, seq in buffered:
            self._deliver_message(frame, conversation_id, seq)

    # ---- incoming ----------------------------------------------------------------------------

    def release_early(self) -> None:
        """Deliver the held messages, now that the client has said where it stands."""
        early, self._early = self._early, None
        for frame, conversation_id, seq in early or ():
            self._deliver_message(frame, conversation_id, seq)

    async def run(self) -> None:
        self.rt.scheduler.call_at(
            self.rt.clock.now().timestamp() + RESUME_WAIT_SECONDS, self.release_early
        )
        while True:
            msg = await self.ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            self.last_recv = self.rt.clock.monotonic()
            text = msg.get("text")
            if text is None:
                self.send(error_frame("binary_not_supported", "send JSON text frames"))
            else:
                await self.handle(text)
            if self._early is not None:
                self.release_early()

    async def handle(self, text: str) -> None:
        """One client frame: parsed first, then its type decides its size cap, its rate
        bucket, the model that validates it and the handler that takes it."""
        self.frame_bytes = len(text.encode())
        settings = self.rt.settings
        largest = max(settings.max_frame_bytes, settings.cobrowse_max_frame_bytes or 0)
        if self.frame_bytes > largest:  # before parsing: no frame type allows more
            return self._reject("frame_too_large", f"frames are limited to {largest} bytes")
        data = _parse(text)
        if not isinstance(data, dict):
            return self._reject("bad_json", "a frame is one JSON object")
        kind = data.get("type")
        route = self.router.routes.get(kind) if isinstance(kind, str) else None
        model = CLIENT_MODELS.get(kind) if isinstance(kind, str) else None
        if route is None or model is None:
            return self._reject("unknown_type", f"unknown frame type {str(kind)[:40]!r}")
        limit = route.max_bytes or self.rt.settings.max_frame_bytes
        if self.frame_bytes > limit:
            return self._reject("frame_too_large", f"frames are limited to {limit} bytes")
        if not route.own_rate_limit and not self._take_token():
            return self._reject("rate_limited", "too many frames; slow down")
        ref = data.get("client_msg_id") if isinstance(data.get("client_msg_id"), str) else None
        try:
            frame = model.model_validate(data)
        except ValidationError as exc:
            return self._reject("invalid_frame", _summarize(exc), ref)
        except RecursionError:
            return self._reject("invalid_frame", "the frame is nested too deeply", ref)
        try:
            await route.handler(self, frame)
        except TresenError as exc:
            self._reject(exc.code, exc.message, ref)
        except (OverflowError, RecursionError) as exc:
            self._reject("invalid_frame", f"a value is out of range ({type(exc).__name__})", ref)
        except Exception:
            log.exception("frame handling failed")
            self._reject("internal", "something went wrong on our side; nothing was lost", ref)

    def _reject(self, code: str, message: str, ref: str | None = None) -> None:
        log.info("rejected frame from %s %s: %s", self.who.kind, self.who.id, code)
        self.send(error_frame(code, message, ref))

    def _take_token(self) -> bool:
        now = self.rt.clock.monotonic()
        rate, burst = self.rt.settings.frames_per_second, self.rt.settings.frames_burst
        self._tokens = min(burst, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def pong(self) -> None:
        self.send(PongOut().frame())

    async def join(self, topic: str) -> None:
        """Follow one more bus topic until the socket closes (the gateway leaves them)."""
        if topic not in self.topics and not self.closed:
            self.topics.add(topic)
            await self.rt.hub.join(topic, self)

    async def leave(self, topic: str) -> None:
        if topic in self.topics:
            self.topics.discard(topic)
            await self.rt.hub.leave(topic, self)

    def conversation_brief(self, conversation_id: int) -> tuple[int, int | None] | None:
        return self.briefs.get(conversation_id)

    def remember_conversation(
        self, conversation_id: int, visitor_id: int, assignee_id: int | None
    ) -> None:
        self.briefs[conversation_id] = (visitor_id, assignee_id or None)

    def track_from_start(self, conversation_id: int) -> None:
        self.positions.setdefault(conversation_id, 0)

    def catch_up(self) -> None:
        """The bus lost messages (it reconnected): fill every tracked conversation from the
        database, the log. Conversations already being filled are left to that fill."""
        for conversation_id in list(self.positions):
            if conversation_id not in self._filling and not self.closed:
                # Claimed now, not when the task starts: a gap seen meanwhile must join this
                # fill's buffer, never start a second fill from the same position (twice sent).
                self._filling[conversation_id] = []
                spawn(self.fill(conversation_id, started=True))


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested beyond the parser's depth
        return None


def _summarize(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "frame"
    return f"{where}: {first['msg']}"


async def _close_quietly(ws: WebSocket, code: int, reason: str, last_frame: str | None) -> None:
    try:
        async with asyncio.timeout(CLOSE_GRACE_SECONDS + 1):
            if last_frame is not None:
                await ws.send_text(last_frame)
            await ws.close(code, reason)
    except Exception:
        pass


def abort_transport(ws: WebSocket) -> None:
    """Drop the TCP connection under ``ws`` unless it closed cleanly (nothing left to write)."""
    transport = ws.scope.get(TRANSPORT_SCOPE_KEY)
    if transport is None or (transport.is_closing() and not transport.get_write_buffer_size()):
        return
    log.warning("aborting a connection whose close did not complete")
    transport.abort()
