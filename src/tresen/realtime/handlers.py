"""What each client frame does. Thin: validate access, call an action, answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from tresen.assist.bot import check_handover
from tresen.cobrowse import actions as cobrowse_actions
from tresen.cobrowse import wire as cobrowse
from tresen.conversations import actions
from tresen.conversations.queries import access_conversation_by_id, messages_page
from tresen.errors import Forbidden
from tresen.realtime.protocol import (
    AckOut,
    Author,
    CobrowseCodeIn,
    CobrowseCommandIn,
    CobrowseControlIn,
    CobrowseEventsIn,
    CobrowseReplyIn,
    CobrowseRequestIn,
    CobrowseResumeIn,
    CobrowseStopIn,
    CobrowseWatchIn,
    HandoverIn,
    OfferReplyIn,
    QueueChoiceIn,
    ReadIn,
    ResumedOut,
    ResumeIn,
    SendIn,
    TrackIn,
    TypingIn,
    TypingOut,
)
from tresen.routing.actions import check_queue_choice
from tresen.runtime import AGENTS_TOPIC, visitor_topic
from tresen.storage.models import Conversation

if TYPE_CHECKING:
    from tresen.realtime.connection import Connection

MAX_RESUME = 100


async def dispatch(conn: Connection, frame: object) -> None:
    match frame:
        case SendIn():
            await on_send(conn, frame)
        case ResumeIn():
            await on_resume(conn, frame)
        case TypingIn():
            await on_typing(conn, frame)
        case ReadIn():
            await actions.check_mark_read(conn.rt, conn.who, frame.conversation_id, frame.seq)
        case TrackIn():
            _visitors_only(conn)
            await conn.rt.radar.track(conn.who, frame)
        case QueueChoiceIn():
            details = {"email": frame.email, "phone": frame.phone, "when": frame.when}
            await check_queue_choice(
                conn.rt, conn.who, frame.conversation_id, frame.choice, details
            )
        case HandoverIn():
            await check_handover(conn.rt, conn.who, frame.conversation_id)
        case OfferReplyIn():
            _visitors_only(conn)
            await conn.rt.radar.reply(conn.who, frame.offer_id, frame.outcome)
        case CobrowseEventsIn():
            await cobrowse.on_events(conn, frame)
        case CobrowseRequestIn():
            await cobrowse.on_request(conn, frame)
        case CobrowseReplyIn():
            await cobrowse.on_reply(conn, frame)
        case CobrowseStopIn():
            await cobrowse.on_stop(conn, frame)
        case CobrowseControlIn():
            await cobrowse.on_control(conn, frame)
        case CobrowseWatchIn():
            await cobrowse.on_watch(conn, frame)
        case CobrowseResumeIn():
            await cobrowse.on_resume(conn, frame)
        case CobrowseCommandIn():
            await cobrowse_actions.check_command(conn.rt, conn.who, frame)
        case CobrowseCodeIn():
            await cobrowse.on_code(conn, frame)
        case _ if getattr(frame, "type", None) == "ping":
            conn.pong()


def _visitors_only(conn: Connection) -> None:
    if conn.who.kind != "visitor":
        raise Forbidden("only visitors send this frame")


async def on_send(conn: Connection, frame: SendIn) -> None:
    sent = await actions.check_send_message(
        conn.rt,
        conn.who,
        body=frame.body,
        client_msg_id=frame.client_msg_id,
        conversation_id=frame.conversation_id,
        internal=frame.internal,
        skill=frame.skill,
    )
    conn.visitor_of[sent.conversation.id] = sent.conversation.visitor_id
    conn.send(
        AckOut(
            client_msg_id=frame.client_msg_id,
            conversation_id=sent.conversation.id,
            seq=sent.message.seq,
            id=sent.message.id,
            duplicate=sent.duplicate,
        ).frame()
    )


async def on_resume(conn: Connection, frame: ResumeIn) -> None:
    """Track each named conversation from the given seq and send everything after it."""
    if len(frame.conversations) > MAX_RESUME:
        from tresen.errors import Invalid

        raise Invalid(f"resume at most {MAX_RESUME} conversations at once")
    for conv_id, seq in frame.conversations.items():
        conn.positions[conv_id] = seq
        await conn.fill(conv_id)
    known = {c: conn.positions[c] for c in frame.conversations if c in conn.positions}
    conn.send(ResumedOut(conversations=known).frame())


async def send_missed(conn: Connection, conversation_id: int, page: int) -> None:
    """Send stored messages after the connection's position, then advance the position past
    everything committed (internal notes a visitor never sees included)."""
    while True:
        after = conn.positions[conversation_id]
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


async def on_typing(conn: Connection, frame: TypingIn) -> None:
    conv_id = frame.conversation_id
    visitor_id = conn.visitor_of.get(conv_id)
    if visitor_id is None:
        async with conn.rt.db.read() as s:
            conv = await access_conversation_by_id(s, conn.who, conv_id)
        visitor_id = conn.visitor_of[conv_id] = conv.visitor_id
    out = TypingOut(
        conversation_id=conv_id,
        author=Author(kind=conn.who.kind, id=conn.who.id, name=conn.who.name),
        is_typing=frame.is_typing,
    ).frame()
    await conn.rt.publish(AGENTS_TOPIC, out)
    if conn.who.kind == "agent":
        await conn.rt.publish(visitor_topic(visitor_id), out)
