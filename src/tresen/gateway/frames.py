"""Which handler takes each client frame type. Domains register theirs (``tresen.wiring``); the
gateway's own are here: resume, watch/unwatch, subscribe/unsubscribe, ping/pong.

The decision is made on the parsed frame: its ``type`` picks the model that validates it, the
handler, and the size cap (``FrameRoute.max_bytes``) and rate bucket that apply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tresen.conversations.missed import visitor_missed
from tresen.conversations.queries import access_conversation_by_id, messages_page
from tresen.errors import Forbidden, Invalid
from tresen.realtime.protocol import (
    PingIn,
    PongIn,
    ResumedOut,
    ResumeIn,
    SubscribeIn,
    UnsubscribeIn,
    UnwatchIn,
    WatchIn,
)
from tresen.realtime.topics import RADAR_TOPIC, radar_topic, site_topics, watch_topic
from tresen.storage.models import Conversation

if TYPE_CHECKING:
    from tresen.gateway.connection import Connection

Handler = Callable[[Any, Any], Awaitable[None]]
MAX_RESUME = 100
MAX_WATCHES = 50
VIEWS = {"visitors": (RADAR_TOPIC, radar_topic)}  # every site's, one site's


@dataclass(frozen=True)
class FrameRoute:
    handler: Handler
    max_bytes: int | None = None  # None: the general frame limit
    own_rate_limit: bool = False  # True: the handler limits its rate itself (co-browse batches)


class FrameRouter:
    def __init__(self) -> None:
        self.routes: dict[str, FrameRoute] = {}

    def register(self, frame_type: str, handler: Handler, **options: Any) -> None:
        if frame_type in self.routes:
            raise ValueError(f"a handler for {frame_type!r} is registered already")
        self.routes[frame_type] = FrameRoute(handler, **options)

    def register_core(self) -> None:
        self.register("resume", on_resume)
        self.register("watch", on_watch)
        self.register("unwatch", on_unwatch)
        self.register("subscribe", on_subscribe)
        self.register("unsubscribe", on_unsubscribe)
        self.register("ping", on_ping)
        self.register("pong", on_pong)


async def on_ping(conn: Connection, frame: PingIn) -> None:
    conn.pong()


async def on_pong(conn: Connection, frame: PongIn) -> None:
    """A client's answer to our ping: reading it refreshed ``last_recv``."""


async def on_resume(conn: Connection, frame: ResumeIn) -> None:
    """Track each named conversation from the given seq and send everything after it."""
    if len(frame.conversations) > MAX_RESUME:
        raise Invalid(f"resume at most {MAX_RESUME} conversations at once")
    for conv_id, seq in frame.conversations.items():
        conn.positions[conv_id] = seq
        await conn.fill(conv_id)
    known = {c: conn.positions[c] for c in frame.conversations if c in conn.positions}
    conn.send(ResumedOut(conversations=known).frame())


def _agents_only(conn: Connection) -> None:
    if conn.who.kind != "agent":
        raise Forbidden("only agents send this frame")


async def on_watch(conn: Connection, frame: WatchIn) -> None:
    """Follow a conversation that is not (or not only) this agent's: a supervisor, an agent who
    opened it from the inbox."""
    _agents_only(conn)
    async with conn.rt.db.read() as s:
        conv = await access_conversation_by_id(s, conn.who, frame.conversation_id)
    conn.remember_conversation(conv.id, conv.visitor_id, conv.assignee_id)
    topic = watch_topic(conv.id)
    if topic not in conn.topics and sum(t.startswith("w:") for t in conn.topics) >= MAX_WATCHES:
        raise Invalid(f"watch at most {MAX_WATCHES} conversations at once", code="too_many")
    await conn.join(topic)
    if conv.id not in conn.positions and frame.seq is not None:
        conn.positions[conv.id] = min(frame.seq, conv.last_seq)
    if conv.id in conn.positions:
        await conn.fill(conv.id)  # what it missed while the conversation was not its business


async def on_unwatch(conn: Connection, frame: UnwatchIn) -> None:
    _agents_only(conn)
    await conn.leave(watch_topic(frame.conversation_id))


def view_topics(conn: Connection, view: str) -> list[str]:
    """A view's topics for this console: every site's (admins) or those of its sites."""
    everything, per_site = VIEWS[view]
    return site_topics(everything, per_site, conn.sites)


async def on_subscribe(conn: Connection, frame: SubscribeIn) -> None:
    _agents_only(conn)
    for topic in view_topics(conn, frame.view):
        await conn.join(topic)


async def on_unsubscribe(conn: Connection, frame: UnsubscribeIn) -> None:
    _agents_only(conn)
    for topic in view_topics(conn, frame.view):
        await conn.leave(topic)


async def send_missed(conn: Connection, conversation_id: int, page: int) -> None:
    """Send stored messages after the connection's position, then advance the position past
    everything committed (internal notes a visitor never sees included)."""
    while True:
        after = conn.positions[conversation_id]
        if conn.who.kind == "visitor":  # a storm of visitors' resumes: grouped reads
            work = visitor_missed(conn.who, conversation_id, after, page)
            last, missed = await conn.rt.db.read_grouped(work)
            for _, frame in missed:
                conn.send(frame)
            if len(missed) < page:
                conn.positions[conversation_id] = max(after, last, *(seq for seq, _ in missed))
                return
            conn.positions[conversation_id] = missed[-1][0]
            continue
        async with conn.rt.db.read() as s:
            last_seq = (
                await s.execute(
                    select(Conversation.last_seq).where(Conversation.id == conversation_id)
                )
            ).scalar_one_or_none()
            msgs = await messages_page(s, conn.who, conversation_id, after_seq=after, limit=page)
        for msg in msgs:
            conn.send(msg.frame())
        if len(msgs) < page:
            conn.positions[conversation_id] = max(after, last_seq or 0, *(m.seq for m in msgs))
            return
        conn.positions[conversation_id] = msgs[-1].seq
