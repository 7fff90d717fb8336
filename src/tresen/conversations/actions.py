"""The one write path for conversations and messages. Each change records its domain events on
its transaction; the dispatcher hands them to the listeners once it committed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.queries import access_agent_by_id
from tresen.agents.scope import ensure_agent_serves
from tresen.conversations.files import bind_attachments, check_keys
from tresen.conversations.grouped import send_grouped
from tresen.conversations.queries import access_conversation_by_id, check_writable
from tresen.conversations.queueing import prepare_queue
from tresen.conversations.sent import Sent, message_created
from tresen.conversations.seq import store_message
from tresen.conversations.window import check_free_reply
from tresen.conversations.wire import BOT_NAME, message_out
from tresen.errors import Conflict, Forbidden, Invalid, RateLimited
from tresen.events import (
    ConversationAssigned,
    ConversationOpened,
    ConversationQueued,
    ConversationRead,
    ConversationReopened,
    ConversationResolved,
    ConversationState,
    ConversationStatusChanged,
    record,
)
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, Message, Outbox, Visitor
from tresen.storage.models.conversation import STATUSES
from tresen.storage.outbox import outbox_values


def check_body(rt: Runtime, body: str, *, files: bool = False) -> str:
    if not body.strip() and not files:
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
    attachments: list[str] | None = None,
) -> Sent:
    keys = check_keys(attachments or [])
    check_body(rt, body, files=bool(keys))
    if internal and who.kind != "agent":
        raise Forbidden("only agents write internal notes")
    if conversation_id is None and who.kind != "visitor":
        raise Invalid("conversation_id is required", code="missing_conversation")
    if conversation_id is None:
        limit = rt.settings.new_conversations_per_visitor_per_hour
        if not await rt.limiter.hit(f"new-conversation:{who.id}", limit, 3600):
            raise RateLimited(
                "too many new conversations; write in your open one or try again later",
                code="too_many_conversations",
            )
    for _attempt in range(3):
        try:
            sent = None
            if conversation_id is not None and not keys:
                # Core statements, no ORM; on SQLite in the group commit (see grouped.py). A
                # message with files takes the ORM path, which binds them.
                sent = await send_grouped(rt, who, body, client_msg_id, conversation_id, internal)
            if sent is None:
                sent = await do_send_message(
                    rt, who, body, client_msg_id, conversation_id, internal, skill, files=keys
                )
            break
        except IntegrityError:
            continue  # a concurrent resend of the same client_msg_id won; look it up again
    else:
        raise Invalid("could not store the message; resend it", code="retry")
    return sent


async def do_send_message(
    rt: Runtime,
    who: Principal,
    body: str,
    client_msg_id: str,
    conversation_id: int | None,
    internal: bool,
    skill: str | None = None,
    outbox_payload: dict[str, Any] | None = None,
    files: list[str] | None = None,
) -> Sent:
    """``outbox_payload``: what the channel needs beyond the text (a template, a tag); such a
    send was checked against the reply window by the channel's own action. ``files``: keys of
    the author's uploads in the conversation that the message carries (``files.py``)."""
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
            return Sent.of(message_out(existing, who.name), conv, duplicate=True)
        if not created:
            check_writable(who, conv.meta, conv.assignee_id, internal)
        if created:
            conv = _new_conversation(who, now)
            conv.skill = skill
            s.add(conv)
            await s.flush()
            await prepare_queue(s, rt.settings, conv, now)
        if who.kind == "agent" and not internal and outbox_payload is None:
            check_free_reply(conv.meta, now)  # a messaging channel's reply window (window.py)
        reopened = who.kind == "visitor" and conv.status == "resolved"
        if reopened:
            conv.status, conv.closed_at = "open", None
            await prepare_queue(s, rt.settings, conv, now)
        msg = await store_message(
            s,
            conv,
            now,
            author_kind=who.kind,
            author_id=who.id,
            body=body,
            internal=internal,
            client_msg_id=client_msg_id,
        )
        if files:
            await bind_attachments(s, who, msg, files, now)
        _to_outbox(s, conv, msg, now, outbox_payload)
        state = ConversationState.of(conv)
        if created:
            record(s, ConversationOpened(state, via="visitor"), ConversationQueued(state, "new"))
        elif reopened:
            record(s, ConversationReopened(state, who.kind), ConversationQueued(state, "reopened"))
        record(s, message_created(state, msg, who.name))
    return Sent.of(message_out(msg, who.name), conv, created=created, reopened=reopened)


def _to_outbox(
    s: AsyncSession,
    conv: Conversation,
    msg: Message,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """An agent's reply in a conversation on another channel (email) is delivered from the
    outbox, written in this very transaction (``storage/outbox.py``)."""
    values = outbox_values(
        channel=conv.channel,
        author_kind=msg.author_kind,
        internal=msg.internal,
        conversation_id=conv.id,
        message_id=msg.id,
        now=now,
        meta=conv.meta,
    )
    if values is not None:
        s.add(Outbox(**values, payload=payload))


async def _lock_visitor(s: AsyncSession, who: Principal) -> None:
    """Serialise a visitor's conversation-opening sends (PostgreSQL row lock; SQLite has one
    writer anyway), so concurrent resends of a first message find each other, not open two."""
    await s.execute(select(Visitor.id).where(Visitor.id == who.id).with_for_update())


def _new_conversation(who: Principal, now: datetime) -> Conversation:
    return Conversation(
        site_id=who.site_id, visitor_id=who.id, status="open", created_at=now, updated_at=now
    )


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
        old = conv.status
        conv.status, conv.updated_at = status, now
        conv.closed_at = now if status == "resolved" else None
        state = ConversationState.of(conv)
        record(s, ConversationStatusChanged(state, old, who.id))
        if status == "resolved" and old != "resolved":
            record(s, ConversationResolved(state, who.id))
        elif status == "open" and old != "open":
            record(s, ConversationReopened(state, who.kind))
    return conv


async def check_end_chat(rt: Runtime, who: Principal, conversation_id: int) -> Conversation:
    """The visitor ends their own chat (the widget's "End chat"): resolved like an agent's
    resolution, recorded as by the visitor (``ConversationResolved.by``); the end notice, the
    agent's line and the rating request follow from it (``lifecycle.announce``). Someone else's
    conversation is refused as a missing one; a chat that has ended already is left as it is
    (another tab, or the agent, was first)."""
    if who.kind != "visitor":
        raise Forbidden("only the visitor ends a chat; agents set its status")
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        if conv.status == "resolved":
            return conv
        if conv.channel != "web":  # e.g. a message left for an answer by email
            raise Conflict("only a chat can be ended this way", code="not_a_chat")
        old = conv.status
        conv.status, conv.closed_at, conv.updated_at = "resolved", now, now
        conv.offered_to = conv.offered_at = None  # an open offer goes with it
        state = ConversationState.of(conv)
        record(
            s,
            ConversationStatusChanged(state, old, None),
            ConversationResolved(state, None, by="visitor"),
        )
    return conv


async def check_assign(
    rt: Runtime, who: Principal, conversation_id: int, assignee_id: int | None
) -> Conversation:
    if who.kind != "agent":
        raise Forbidden("only agents assign conversations")
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        if assignee_id is not None:
            await access_agent_by_id(s, assignee_id)
            await ensure_agent_serves(s, assignee_id, conv.site_id)
        conv.assignee_id, conv.updated_at = assignee_id, rt.clock.now()
        if assignee_id is not None:
            conv.assigned_at, conv.offered_to = conv.updated_at, None
        state = ConversationState.of(conv)
        record(s, ConversationAssigned(state, assignee_id, by="agent", by_agent_id=who.id))
    return conv


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
        record(s, ConversationRead(ConversationState.of(conv), who.kind, seq))
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
    offer_id: int | None = None,
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
        state = ConversationState.of(conv)
        record(s, ConversationOpened(state, via="bot" if bot_name else "offer", offer_id=offer_id))
        if conv.queued_at is not None:
            record(s, ConversationQueued(state, "new"))
        if assignee_id is not None:
            record(s, ConversationAssigned(state, assignee_id, by="agent", by_agent_id=assignee_id))
        record(s, message_created(state, msg, bot_name))
    return conv


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
    """A message by the system or the bot, numbered and recorded (``MessageCreated``) inside the
    caller's transaction."""
    msg = await store_message(
        s,
        conv,
        now,
        author_kind=author_kind,
        author_id=None,
        body=body[:max_chars],
        internal=internal,
    )
    _to_outbox(s, conv, msg, now)  # the bot's answers on a messaging channel go out there
    name = BOT_NAME if author_kind == "bot" else None
    record(s, message_created(ConversationState.of(conv), msg, name))
    return msg
