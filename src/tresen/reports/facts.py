"""Facts of a conversation, derived from the system of record.

One function serves the listener (the conversations that changed since the last flush) and the
backfill (all of them): the facts are always what the conversations, messages and offers say.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import Conversation, Message, RadarOffer, ReportConversation

BATCH = 500


async def rebuild_facts(s: AsyncSession, conversation_ids: Sequence[int], now: datetime) -> int:
    """Replace the facts rows of these conversations (in the caller's transaction)."""
    done = 0
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        convs = (await s.execute(select(Conversation).where(Conversation.id.in_(chunk)))).scalars()
        msgs = await _messages(s, chunk)
        offers = await _offers(s, chunk)
        await s.execute(
            delete(ReportConversation).where(ReportConversation.conversation_id.in_(chunk))
        )
        rows = [facts_of(c, msgs.get(c.id, []), offers.get(c.id), now) for c in convs]
        s.add_all(rows)
        await s.flush()
        done += len(rows)
    return done


async def _messages(s: AsyncSession, ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    stmt = (
        select(Message.conversation_id, Message.author_kind, Message.author_id, Message.created_at)
        .where(Message.conversation_id.in_(ids), Message.internal.is_(False))
        .order_by(Message.conversation_id, Message.seq)
    )
    out: dict[int, list[tuple[Any, ...]]] = {}
    for conv_id, kind, author, at in (await s.execute(stmt)).all():
        out.setdefault(conv_id, []).append((kind, author, at))
    return out


async def _offers(s: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int | None]]:
    stmt = select(RadarOffer.conversation_id, RadarOffer.id, RadarOffer.rule_id).where(
        RadarOffer.conversation_id.in_(ids)
    )
    rows = (await s.execute(stmt)).all()
    return {conv: (offer, rule) for conv, offer, rule in rows if conv is not None}


def facts_of(
    conv: Conversation,
    messages: Sequence[tuple[Any, ...]],
    offer: tuple[int, int | None] | None,
    now: datetime,
) -> ReportConversation:
    """``messages``: (author kind, author id, created at) of the visible messages, in order."""
    meta = conv.meta or {}
    queued_at = conv.queued_at or _when(meta.get("queued_since"))
    # the first assignment (a transfer to another agent moves ``assigned_at``)
    assigned_at = _when(meta.get("first_assigned_at")) or conv.assigned_at
    row = ReportConversation(
        conversation_id=conv.id,
        site_id=conv.site_id,
        channel=conv.channel,
        skill=conv.skill,
        department=conv.department,
        agent_id=conv.assignee_id,
        status=conv.status,
        created_at=conv.created_at,
        created_hour=int(conv.created_at.timestamp() // 3600),
        held_since_ts=conv.assigned_at.timestamp() if conv.assigned_at else None,
        closed_ts=conv.closed_at.timestamp() if conv.closed_at else None,
        queued_at=queued_at,
        assigned_at=conv.assigned_at,
        closed_at=conv.closed_at,
        abandoned=conv.status == "abandoned",
        bot=bool(meta.get("bot")) or bool(meta.get("bot_handover")),
        handed_over=bool(meta.get("bot_handover")),
        transfers=int(meta.get("transfers", 0)),
        offer_id=offer[0] if offer else None,
        rule_id=offer[1] if offer else None,
        responses=0,
        response_seconds=0.0,
        rebuilt_at=now,
    )
    _responses(row, messages)
    if queued_at and assigned_at and assigned_at >= queued_at:
        row.wait_seconds = (assigned_at - queued_at).total_seconds()
    if assigned_at and conv.closed_at and conv.status == "resolved":
        row.handle_seconds = max(0.0, (conv.closed_at - assigned_at).total_seconds())
    if row.abandoned and conv.closed_at:
        since = queued_at or conv.created_at
        row.abandon_seconds = max(0.0, (conv.closed_at - since).total_seconds())
    return row


def _responses(row: ReportConversation, messages: Sequence[tuple[Any, ...]]) -> None:
    """First response: the first agent message after the visitor's first message. Response
    time: each agent message that answers visitor messages, from the oldest unanswered one."""
    waiting_since: datetime | None = None
    row.visitor_messages = sum(1 for kind, _, _ in messages if kind == "visitor")
    row.agent_messages = sum(1 for kind, _, _ in messages if kind == "agent")
    for kind, author, at in messages:
        if kind == "visitor":
            row.first_visitor_at = row.first_visitor_at or at
            waiting_since = waiting_since or at
        elif kind == "agent" and waiting_since is not None:
            seconds = max(0.0, (at - waiting_since).total_seconds())
            if row.first_response_at is None:
                row.first_response_at, row.first_response_seconds = at, seconds
                row.first_agent_id = author
            row.responses += 1
            row.response_seconds += seconds
            waiting_since = None


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
