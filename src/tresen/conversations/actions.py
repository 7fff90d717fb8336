"""The one write path for conversations and messages. Events go out after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tresen.conversations.events import conversation_frames, message_out
from tresen.conversations.grouped import send_grouped
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Forbidden, Invalid
from tresen.principal import Principal
from tresen.realtime.protocol import MessageOut, ReadOut
from tresen.routing.enqueue import prepare_queue
from tresen.runtime import AGENTS_TOPIC, CAPACITY_TOPIC, Runtime, visitor_topic
from tresen.storage.models import Conversation, Message, Visitor
from tresen.storage.models.conversation import STATUSES


@dataclass(frozen=True)
class Sent:
    message: MessageOut
    conversation: Conversation
    duplicate: bool = False
    created: bool = False
    reopened: bool = False


def check_body(rt: Runtime, body: str) -> str:
    if not body.strip():
        raise Invalid("message is empty", code="empty_message")
    if len(body) > rt.settings.max_message_chars:
        raise Invalid(
            f"message has {len(body)} characters; the limit is {rt.settings.max_message_chars}",
            code="message_too_long",
        )
    if "\x00" in body:
        raise Invalid("message contains a NUL character", code="bad_characters")
    if not body.isascii():
        try:
            body.encode()
        except UnicodeEncodeError:
            raise Invalid(
                "message contains an unpaired surrogate (not valid Unicode text)",
                code="bad_characters",
            ) from None
    return body


async def check_send_message(
    rt: Runtime,
    who: Principal,
    *,
    body: str,
    client_msg_id: str,
    conversation_id: int | None = None,
    internal: bool = False,
    skill: str | None = None,
) -> Sent:
    check_body(rt, body)
    if internal and who.kind != "agent":
        raise Forbidden("only agents write internal notes")
    if conversation_id is None and who.kind != "visitor":
        raise Invalid("conversation_id is required", code="missing_conversation")
    for _attempt in range(3):
        try:
            sent = None
            if rt.db.is_sqlite and conversation_id is not None:
                # Group commit: concurrent sends share one SQLite transaction (see grouped.py).
                sent = await send_grouped(rt, who, body, client_msg_id, conversation_id, internal)
            if sent is None:
                sent = await do_send_message(
                    rt, who, body, client_msg_id, conversation_id, internal, skill
                )
            break
        except IntegrityError:
            continue  # a concurrent resend of the same client_msg_id won; look it up again
    else:
        raise Invalid("could not store the message; resend it", code="retry")
    if not sent.duplicate:
        await _publish_sent(rt, sent)
    return sent


async def do_send_message(
    rt: Runtime,
    who: Principal,
    body: str,
    client_msg_id: str,
    conversation_id: int | None,
    internal: bool,
    skill: str | None = None,
) -> Sent:
    now = rt.clock.now()
    async with rt.db.write() as s:
        created = conversation_id is None
        if not created:
            # Access first: a stranger's resend must not learn which ids exist or are used.
            conv = await access_conversation_by_id(s, who, conversation_id)  # type: ignore[arg-type]
        else:
            await _lock_visitor(s, who)
        existing = await _find_resend(s, who, client_msg_id, conversation_id)
        if existing is not None:
            conv = await access_conversation_by_id(s, who, existing.conversation_id)
            return Sent(message_out(existing, who.name), conv, duplicate=True)
        if created:
            conv = _new_conversation(who, now)
            conv.skill = skill
            s.add(conv)
            await s.flush()
            await prepare_queue(s, rt.settings, conv, now)
        seq = await _next_seq(s, conv, now)
        msg = Message(
            conversation_id=conv.id,
            seq=seq,
            author_kind=who.kind,
            author_id=who.id,
            body=body,
            internal=internal,
            client_msg_id=client_msg_id,
            created_at=now,
        )
        s.add(msg)
        reopened = who.kind == "visitor" and conv.status == "resolved"
        if reopened:
            conv.status, conv.closed_at = "open", None
            await prepare_queue(s, rt.settings, conv, now)
        await s.flush()
    return Sent(message_out(msg, who.name), conv, created=created, reopened=reopened)


async def _lock_visitor(s: AsyncSession, who: Principal) -> None:
    """Serialise a visitor's conversation-opening sends (PostgreSQL row lock; SQLite has one
    writer anyway), so concurrent resends of a first message find each other, not open two."""
    await s.execute(select(Visitor.id).where(Visitor.id == who.id).with_for_update())


def _new_conversation(who: Principal, now: datetime) -> Conversation:
    return Conversation(
        site_id=who.site_id, visitor_id=who.id, status="open", created_at=now, updated_at=now
    )


async def _next_seq(s: AsyncSession, conv: Conversation, now: datetime) -> int:
    """Atomic per-conversation counter; on PostgreSQL the row lock orders concurrent writers,
    so a committed ``last_seq`` of N means every message up to N is committed too."""
    stmt = (
        update(Conversation)
        .where(Conversation.id == conv.id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=now)
        .returning(Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    seq = int((await s.execute(stmt)).scalar_one())
    set_committed_value(conv, "last_seq", seq)
    set_committed_value(conv, "updated_at", now)
    return seq


async def _find_resend(
    s: AsyncSession, who: Principal, client_msg_id: str, conversation_id: int | None
) -> Message | None:
    stmt = select(Message).where(Message.client_msg_id == client_msg_id)
    if conversation_id is not None:
        stmt = stmt.where(Message.conversation_id == conversation_id)
    else:
        stmt = stmt.join(Conversation, Conversation.id == Message.conversation_id).where(
            Conversation.visitor_id == who.id
        )
    msg = (await s.execute(stmt)).scalar_one_or_none()
    if msg is not None and (msg.author_kind != who.kind or msg.author_id != who.id):
        raise Invalid("client_msg_id already used by someone else", code="duplicate_id")
    return msg


async def _publish_sent(rt: Runtime, sent: Sent) -> None:
    conv = sent.conversation
    if sent.created or sent.reopened:
        agents_frame, visitor_frame = conversation_frames(conv, created=sent.created)
        await rt.publish(AGENTS_TOPIC, agents_frame)
        await rt.publish(visitor_topic(conv.visitor_id), visitor_frame)
    frame = sent.message.frame()
    await rt.publish(AGENTS_TOPIC, frame)
    if not sent.message.internal:
        await rt.publish(visitor_topic(conv.visitor_id), frame)
    if sent.created or sent.reopened:
        await rt.publish(CAPACITY_TOPIC, str(conv.id))  # a chat joined the queue: route it
    elif sent.message.author.kind == "visitor" and (conv.meta or {}).get("bot"):
        from tresen.assist.bot import on_visitor_message  # a listener: assist uses this module

        on_visitor_message(rt, conv.id, sent.message.body)


async def check_set_status(
    rt: Runtime, who: Principal, conversation_id: int, status: str
) -> Conversation:
    if status not in STATUSES:
        raise Invalid(f"status: one of {', '.join(STATUSES)}")
    if who.kind != "agent":
        raise Forbidden("only agents change a conversation's status")
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        conv.status, conv.updated_at = status, now
        conv.closed_at = now if status == "resolved" else None
    await publish_conversation(rt, conv)
    return conv


async def check_assign(
    rt: Runtime, who: Principal, conversation_id: int, assignee_id: int | None
) -> Conversation:
    if who.kind != "agent":
        raise Forbidden("only agents assign conversations")
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        if assignee_id is not None:
            from tresen.agents.queries import access_agent_by_id

            await access_agent_by_id(s, assignee_id)
        conv.assignee_id, conv.updated_at = assignee_id, rt.clock.now()
    await publish_conversation(rt, conv)
    return conv


async def publish_conversation(rt: Runtime, conv: Conversation) -> None:
    await rt.publish(CAPACITY_TOPIC, str(conv.id))
    agents_frame, visitor_frame = conversation_frames(conv)
    await rt.publish(AGENTS_TOPIC, agents_frame)
    await rt.publish(visitor_topic(conv.visitor_id), visitor_frame)


async def check_mark_read(rt: Runtime, who: Principal, conversation_id: int, seq: int) -> int:
    """Move the reader's read marker forward (never back). Returns the marker."""
    column = Conversation.visitor_read_seq if who.kind == "visitor" else Conversation.agent_read_seq
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        if seq > conv.last_seq:
            raise Invalid(f"seq {seq} is beyond the newest message {conv.last_seq}")
        current = conv.visitor_read_seq if who.kind == "visitor" else conv.agent_read_seq
        if seq <= current:
            return current
        await s.execute(
            update(Conversation)
            .where(Conversation.id == conv.id, column < seq)
            .values({column: seq})
        )
    frame = ReadOut(conversation_id=conv.id, reader=who.kind, seq=seq).frame()
    await rt.publish(AGENTS_TOPIC, frame)
    await rt.publish(visitor_topic(conv.visitor_id), frame)
    return seq


async def access_for_typing(rt: Runtime, who: Principal, conversation_id: int) -> Conversation:
    async with rt.db.read() as s:
        return await access_conversation_by_id(s, who, conversation_id)


async def do_open_from_offer(
    rt: Runtime,
    who: Principal,
    *,
    skill: str | None,
    opening: str,
    assignee_id: int | None,
    bot_name: str | None = None,
) -> Conversation:
    """An accepted invitation: a conversation asking for ``skill`` (or assigned to the agent
    who invited by hand), opened by the invitation's text as a system message, so the agent
    sees what the visitor said yes to. With ``bot_name`` the bot has it (not queued) and the
    text is the bot's greeting."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = _new_conversation(who, now)
        conv.skill, conv.last_seq = skill, 1
        if bot_name is not None:
            conv.meta = {"bot": True}
        s.add(conv)
        await s.flush()
        if assignee_id is not None:
            conv.assignee_id, conv.assigned_at = assignee_id, now
        elif bot_name is None:  # the bot queues the chat only when it hands over
            await prepare_queue(s, rt.settings, conv, now)
        msg = Message(
            conversation_id=conv.id,
            seq=1,
            author_kind="system" if bot_name is None else "bot",
            author_id=None,
            body=opening[: rt.settings.max_message_chars],
            created_at=now,
        )
        s.add(msg)
        await s.flush()
    await _publish_sent(rt, Sent(message_out(msg, bot_name), conv, created=True))
    return conv


async def do_system_message(rt: Runtime, conv: Conversation, body: str, *, internal: bool) -> None:
    """A message from the system (routing, transfers), numbered like any other."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        seq = await _next_seq(s, conv, now)
        msg = Message(
            conversation_id=conv.id,
            seq=seq,
            author_kind="system",
            author_id=None,
            body=body[: rt.settings.max_message_chars],
            internal=internal,
            created_at=now,
        )
        s.add(msg)
        await s.flush()
    await _publish_sent(rt, Sent(message_out(msg, None), conv))


async def add_message(
    s: AsyncSession,
    conv: Conversation,
    now: datetime,
    *,
    author_kind: str,
    body: str,
    internal: bool = False,
    max_chars: int = 8192,
) -> Message:
    """A message by the system or the bot, numbered inside the caller's transaction. Publish it
    with ``publish_message`` after the commit."""
    seq = await _next_seq(s, conv, now)
    msg = Message(
        conversation_id=conv.id,
        seq=seq,
        author_kind=author_kind,
        author_id=None,
        body=body[:max_chars],
        internal=internal,
        created_at=now,
    )
    s.add(msg)
    await s.flush()
    return msg


async def publish_message(
    rt: Runtime, conv: Conversation, msg: Message, author_name: str | None
) -> None:
    await _publish_sent(rt, Sent(message_out(msg, author_name), conv))
