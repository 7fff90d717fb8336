"""Agent replies a visitor has not seen, sent by email: a visitor with a known address who left
the chat (closed the tab, lost the connection) gets what the agent wrote after
``email_followup_minutes`` unseen, as one mail threaded like any reply; answering it continues the
same conversation (``email_receive.find_thread``: our Message-ID, the ``reply+<token>@`` address
or the subject tag, only from the same contact).

Run by the outbox sweep before it delivers: each due conversation gets one outbox row (channel
``email``) for its newest unseen reply, written with the conversation's mark
(``meta.email_followup_seq``) in one transaction, so a reply is mailed at most once however
many nodes sweep. The mail carries every reply after the previous follow-up that is still
unread when it is sent; one read meanwhile is left out, and if all were read nothing is sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.runtime import Runtime
from tresen.storage.models import Conversation, Mailbox, Message, Outbox, Visitor

BATCH = 200
LOOKBACK = timedelta(days=7)  # replies older than this unseen are left alone
FOLLOWUP_SEQ = "email_followup_seq"


def _public_agent_reply() -> tuple[object, ...]:
    return (Message.author_kind == "agent", Message.internal.is_(False))


async def queue_followups(rt: Runtime) -> int:
    """Write the outbox rows of every conversation now due; how many were written."""
    minutes = rt.settings.email_followup_minutes
    if minutes <= 0:
        return 0
    now = rt.clock.now()
    due = now - timedelta(minutes=minutes)
    async with rt.db.read() as s:
        candidates = await _candidates(s, now - LOOKBACK, due)
    written = 0
    for conv_id in candidates:
        async with rt.db.write() as s:
            written += await _queue_one(s, conv_id, due, now)
    return written


async def _candidates(s: AsyncSession, since: datetime, due: datetime) -> list[int]:
    """Web conversations of sites with a mailbox, whose visitor has an address, with a public
    agent reply after the visitor's last read that is older than ``due``."""
    unseen = exists().where(
        Message.conversation_id == Conversation.id,
        Message.seq > Conversation.visitor_read_seq,
        *_public_agent_reply(),  # type: ignore[arg-type]
        Message.created_at <= due,
    )
    stmt = (
        select(Conversation.id)
        .join(Visitor, Visitor.id == Conversation.visitor_id)
        .join(Mailbox, Mailbox.site_id == Conversation.site_id)
        .where(
            Conversation.channel == "web",
            Conversation.last_seq > Conversation.visitor_read_seq,
            Conversation.updated_at >= since,
            Visitor.email.is_not(None),
            unseen,
        )
        .order_by(Conversation.id)
        .limit(BATCH)
    )
    return list((await s.execute(stmt)).scalars())


async def _queue_one(s: AsyncSession, conv_id: int, due: datetime, now: datetime) -> int:
    conv = await s.get(Conversation, conv_id, with_for_update=True)
    if conv is None or conv.channel != "web":
        return 0
    mark = max(conv.visitor_read_seq, int((conv.meta or {}).get(FOLLOWUP_SEQ, 0)))
    first, newest = (
        await s.execute(
            select(func.min(Message.created_at), func.max(Message.seq)).where(
                Message.conversation_id == conv.id,
                Message.seq > mark,
                *_public_agent_reply(),  # type: ignore[arg-type]
            )
        )
    ).one()
    if newest is None or first is None or first > due:
        return 0
    message_id = (
        await s.execute(
            select(Message.id).where(Message.conversation_id == conv.id, Message.seq == newest)
        )
    ).scalar_one()
    conv.meta = {**(conv.meta or {}), FOLLOWUP_SEQ: int(newest)}
    s.add(
        Outbox(
            channel="email",
            conversation_id=conv.id,
            message_id=message_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return 1


async def unread_replies(s: AsyncSession, conv: Conversation, msg: Message) -> list[Message]:
    """What a follow-up for ``msg`` carries: the public agent replies after the previous
    follow-up (or the visitor's last read) up to ``msg``, that the visitor has still not read."""
    earlier = (
        await s.execute(
            select(func.max(Message.seq))
            .join(Outbox, Outbox.message_id == Message.id)
            .where(Message.conversation_id == conv.id, Message.seq < msg.seq)
        )
    ).scalar()
    since = max(int(earlier or 0), conv.visitor_read_seq)
    rows = await s.execute(
        select(Message)
        .where(
            and_(
                Message.conversation_id == conv.id,
                Message.seq > since,
                Message.seq <= msg.seq,
                *_public_agent_reply(),  # type: ignore[arg-type]
            )
        )
        .order_by(Message.seq)
    )
    return list(rows.scalars())
