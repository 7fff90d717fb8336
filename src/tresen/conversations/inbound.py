"""Messages that customers send on another channel (an email): the write path the channel
adapters call, inside their own transaction (so a mail is recorded and becomes a message at
once, or neither). Conversations on such a channel are pending work (email work in routing's
terms, docs/routing.md) until an agent resolves them; a customer writing into a resolved one
reopens it. The adapter decided the conversation (threading) and the contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.conversations.sent import message_created
from tresen.conversations.seq import store_message
from tresen.events import (
    ConversationAssigned,
    ConversationOpened,
    ConversationReopened,
    ConversationState,
    record,
)
from tresen.storage.models import Conversation, Message


async def do_receive_message(
    s: AsyncSession,
    *,
    site_id: int,
    visitor_id: int,
    conversation: Conversation | None,
    channel: str,
    body: str,
    client_msg_id: str,
    author_name: str | None,
    meta: dict[str, Any],
    now: datetime,
    bot: bool = False,
    refresh: bool = False,
    sent_at: datetime | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> tuple[Conversation, Message]:
    """Add the customer's message to ``conversation`` (or a new one on ``channel``), recording
    ``MessageCreated`` and, for a new or reopened conversation, the change routing needs.
    ``bot``: a new conversation starts with the FAQ bot (open, not queued) instead of waiting as
    pending work; the bot hands it over to people (``assist/bot.py``). ``refresh``: ``meta`` and
    ``channel`` also update a conversation that is still going (a messaging channel keeps where
    to answer and the reply window there). ``sent_at``: the platform's timestamp of the
    message (never later than ``now``): its ``created_at``, so a late delivery of an older
    message is shown where it was written, not where it arrived."""
    conv, opened, reopened = conversation, conversation is None, False
    if conv is None:
        conv = Conversation(
            site_id=site_id,
            visitor_id=visitor_id,
            status="open" if bot else "pending",
            channel=channel,
            meta={**meta, "bot": True} if bot else meta,
            created_at=now,
            updated_at=now,
        )
        s.add(conv)
        await s.flush()
    elif conv.status in ("resolved", "abandoned"):
        conv.status, conv.closed_at, conv.channel, reopened = "pending", None, channel, True
        conv.meta = {**(conv.meta or {}), **meta, "bot": False}
    elif refresh:
        conv.channel, conv.meta = channel, {**(conv.meta or {}), **meta}
    msg = await store_message(
        s,
        conv,
        now,
        author_kind="visitor",
        author_id=visitor_id,
        body=body,
        client_msg_id=client_msg_id,
        created_at=min(sent_at, now) if sent_at is not None else None,
    )
    if attachments:  # a file the customer sent, stored by the caller (docs/attachments.md)
        msg.attachments = attachments
    state = ConversationState.of(conv)
    if opened:
        record(s, ConversationOpened(state, via="channel"))
    elif reopened:
        record(s, ConversationReopened(state, "visitor"))
    record(s, message_created(state, msg, author_name))
    return conv, msg


async def do_open_outbound(
    s: AsyncSession,
    *,
    site_id: int,
    visitor_id: int,
    channel: str,
    meta: dict[str, Any],
    agent_id: int,
    now: datetime,
) -> Conversation:
    """A conversation an agent starts on another channel (a private reply to a public comment),
    theirs from the start; the agent's first message follows through ``do_send_message``."""
    conv = Conversation(
        site_id=site_id,
        visitor_id=visitor_id,
        status="open",
        channel=channel,
        meta=meta,
        assignee_id=agent_id,
        assigned_at=now,
        created_at=now,
        updated_at=now,
    )
    s.add(conv)
    await s.flush()
    state = ConversationState.of(conv)
    record(
        s,
        ConversationOpened(state, via="channel"),
        ConversationAssigned(state, agent_id, by="agent", by_agent_id=agent_id),
    )
    return conv
