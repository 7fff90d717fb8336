"""Facts of a conversation, derived from the system of record.

One function serves the listener (the conversations that changed since the last flush) and the
backfill (all of them): the conversation-level facts are read again from the conversation and
its offer; the message-level ones (first response, response times, counts) are folded in from
the messages after the last one already folded (``last_seq_seen``), so a long conversation
costs only its new messages. The backfill starts every row from nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.reports.rollups import rebuild_hours
from tresen.storage.models import Conversation, Message, RadarOffer, ReportConversation
from tresen.storage.models.report import OPEN_TS

BATCH = 512  # conversations a backfill folds per round
FLUSH_BATCH = 64  # per round of the live flush: each round is a loop turn or two of its own
MessageRow = tuple[int, str, int | None, datetime]  # seq, author kind, author id, created at


async def rebuild_facts(
    s: AsyncSession, conversation_ids: Sequence[int], now: datetime, *, fresh: bool = False
) -> int:
    """Bring the facts rows of these conversations up to date, and the hourly rollups of their
    creation hours (in the caller's transaction); ``fresh``: from nothing, as the backfill
    does."""
    done = 0
    hours: set[int] = set()
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        if fresh:
            await s.execute(
                delete(ReportConversation).where(ReportConversation.conversation_id.in_(chunk))
            )
        folded = await _folded(s, chunk, now, fresh=fresh)
        for row, stored in folded:
            if not stored:
                s.add(row)
            hours.add(row.created_hour)
        await s.flush()
        done += len(folded)
    await rebuild_hours(s, hours)
    return done


async def _folded(
    s: AsyncSession, chunk: list[int], now: datetime, *, fresh: bool = False
) -> list[tuple[ReportConversation, bool]]:
    """The facts rows of ``chunk``'s conversations brought up to date in memory (the stored
    row folded with what came since it was last seen, or a new one), each with whether it was
    stored before; ``fresh``: every row new."""
    convs = list(
        (await s.execute(select(Conversation).where(Conversation.id.in_(chunk)))).scalars()
    )
    old = {} if fresh else await _previous(s, chunk)
    msgs = await _messages(s, {c.id: old[c.id].last_seq_seen if c.id in old else 0 for c in convs})
    offers = await _offers(s, chunk)
    out: list[tuple[ReportConversation, bool]] = []
    for conv in convs:
        row = old.get(conv.id)
        if row is None:
            row = ReportConversation(conversation_id=conv.id)
            _reset(row)
        facts_of(row, conv, msgs.get(conv.id, []), offers.get(conv.id), now)
        out.append((row, conv.id in old))
    return out


_facts = cast(Table, ReportConversation.__table__)
_COLUMNS = [c.key for c in _facts.columns]
_UPDATE = (
    update(_facts)
    .where(_facts.c.conversation_id == bindparam("b_id"))
    .values({k: bindparam(k) for k in _COLUMNS if k != "conversation_id"})
)


async def read_facts(
    s: AsyncSession, conversation_ids: Sequence[int], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[int]]:
    """What ``rebuild_facts`` would write, computed in a read transaction: the facts rows to
    update, those to insert (as column values) and their creation hours. The listener's flush
    reads here, without the write lock, then writes with ``write_facts``: the sends committing
    meanwhile no longer wait for the messages to be read and folded (bench/README.md)."""
    changed: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    hours: set[int] = set()
    ids = sorted(set(conversation_ids))
    with s.no_autoflush:  # a read: the rows are changed in memory only, then expunged
        for start in range(0, len(ids), FLUSH_BATCH):
            chunk = ids[start : start + FLUSH_BATCH]
            for row, stored in await _folded(s, chunk, now):
                values = {k: getattr(row, k) for k in _COLUMNS}
                (changed if stored else new).append(values)
                hours.add(row.created_hour)
    s.expunge_all()
    return changed, new, hours


async def write_facts(
    s: AsyncSession, changed: list[dict[str, Any]], new: list[dict[str, Any]], hours: set[int]
) -> None:
    """Store what ``read_facts`` computed, and the hourly rollups of those hours."""
    if changed:
        await s.execute(_UPDATE, [{"b_id": v["conversation_id"], **v} for v in changed])
    if new:
        await s.execute(insert(_facts), new)
    await rebuild_hours(s, hours)


async def _previous(s: AsyncSession, ids: list[int]) -> dict[int, ReportConversation]:
    stmt = select(ReportConversation).where(ReportConversation.conversation_id.in_(ids))
    return {r.conversation_id: r for r in (await s.execute(stmt)).scalars()}


async def _messages(s: AsyncSession, after: dict[int, int]) -> dict[int, list[MessageRow]]:
    """Visible messages after each conversation's last folded seq, in order."""
    if not after:
        return {}
    params: dict[str, Any] = {"ids": list(after)}
    for i, (conv_id, seq) in enumerate(after.items()):
        params[f"c{i}"], params[f"s{i}"] = conv_id, seq
    size = _padded(len(after))
    for i in range(len(after), size):  # the padding matches no message
        params[f"c{i}"], params[f"s{i}"] = 0, 0
    out: dict[int, list[MessageRow]] = {}
    for conv_id, seq, kind, author, at in (await s.execute(_messages_after(size), params)).all():
        out.setdefault(conv_id, []).append((seq, kind, author, at))
    return out


def _padded(n: int) -> int:
    """The next power of two: a few statement shapes, each built and compiled once."""
    return 1 << max(0, n - 1).bit_length()


@functools.cache
def _messages_after(size: int) -> Select[int, int, str, int | None, datetime]:
    """Messages of ``ids`` after ``s<i>`` in conversation ``c<i>``, for ``size`` pairs (built
    once per size: a flush's statement of hundreds of conditions cost more to build than to
    run)."""
    newer = or_(
        *(
            and_(Message.conversation_id == bindparam(f"c{i}"), Message.seq > bindparam(f"s{i}"))
            for i in range(size)
        )
    )
    return (
        select(
            Message.conversation_id,
            Message.seq,
            Message.author_kind,
            Message.author_id,
            Message.created_at,
        )
        .where(
            Message.conversation_id.in_(bindparam("ids", expanding=True)),
            Message.internal.is_(False),
            newer,
        )
        .order_by(Message.conversation_id, Message.seq)
    )


async def _offers(s: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int | None]]:
    stmt = select(RadarOffer.conversation_id, RadarOffer.id, RadarOffer.rule_id).where(
        RadarOffer.conversation_id.in_(ids)
    )
    rows = (await s.execute(stmt)).all()
    return {conv: (offer, rule) for conv, offer, rule in rows if conv is not None}


def _reset(row: ReportConversation) -> None:
    row.responses, row.response_seconds = 0, 0.0
    row.visitor_messages = row.agent_messages = row.last_seq_seen = 0


def facts_of(
    row: ReportConversation,
    conv: Conversation,
    messages: Sequence[MessageRow],
    offer: tuple[int, int | None] | None,
    now: datetime,
) -> ReportConversation:
    """Set the conversation-level facts from ``conv`` and fold in ``messages`` (the visible
    messages after ``row.last_seq_seen``)."""
    meta = conv.meta or {}
    queued_at = conv.queued_at or _when(meta.get("queued_since"))
    # the first assignment (a transfer to another agent moves ``assigned_at``)
    assigned_at = _when(meta.get("first_assigned_at")) or conv.assigned_at
    row.site_id, row.channel, row.skill = conv.site_id, conv.channel, conv.skill
    row.department, row.agent_id, row.status = conv.department, conv.assignee_id, conv.status
    row.created_at, row.queued_at = conv.created_at, queued_at
    row.assigned_at, row.closed_at = assigned_at, conv.closed_at
    row.created_hour = int(conv.created_at.timestamp() // 3600)
    held = conv.assignee_id is not None and conv.assigned_at is not None
    row.held_since_ts = conv.assigned_at.timestamp() if held and conv.assigned_at else None
    row.held_until_ts = None
    if held:
        row.held_until_ts = conv.closed_at.timestamp() if conv.closed_at else OPEN_TS
    row.abandoned = conv.status == "abandoned"
    row.bot = bool(meta.get("bot")) or bool(meta.get("bot_handover"))
    row.handed_over = bool(meta.get("bot_handover"))
    row.transfers = int(meta.get("transfers", 0))
    row.offer_id, row.rule_id = offer if offer else (None, None)
    row.rebuilt_at = now
    _fold(row, messages)
    row.wait_seconds = row.handle_seconds = row.abandon_seconds = None
    if queued_at and assigned_at and assigned_at >= queued_at:
        row.wait_seconds = (assigned_at - queued_at).total_seconds()
    if assigned_at and conv.closed_at and conv.status == "resolved":
        row.handle_seconds = max(0.0, (conv.closed_at - assigned_at).total_seconds())
    if row.abandoned and conv.closed_at:
        since = queued_at or conv.created_at
        row.abandon_seconds = max(0.0, (conv.closed_at - since).total_seconds())
    return row


def _fold(row: ReportConversation, messages: Sequence[MessageRow]) -> None:
    """First response: the first agent message after the visitor's first message. Response
    time: each agent message that answers visitor messages, from the oldest unanswered one.
    Folded in locals and set on the row once (a mapped attribute's set costs more than the
    arithmetic; the reports' flush folds every message)."""
    if not messages:
        return
    visitors, agents, responses = row.visitor_messages, row.agent_messages, row.responses
    response_seconds, awaiting = row.response_seconds, row.awaiting_since
    first_visitor, first_response = row.first_visitor_at, row.first_response_at
    first_seconds, first_agent = row.first_response_seconds, row.first_agent_id
    for _seq, kind, author, at in messages:
        if kind == "visitor":
            visitors += 1
            first_visitor = first_visitor or at
            awaiting = awaiting or at
        elif kind == "agent":
            agents += 1
            if awaiting is None:
                continue
            seconds = max(0.0, (at - awaiting).total_seconds())
            if first_response is None:
                first_response, first_seconds, first_agent = at, seconds, author
            responses += 1
            response_seconds += seconds
            awaiting = None
    row.last_seq_seen = messages[-1][0]
    row.visitor_messages, row.agent_messages, row.responses = visitors, agents, responses
    row.response_seconds, row.awaiting_since = response_seconds, awaiting
    row.first_visitor_at, row.first_response_at = first_visitor, first_response
    row.first_response_seconds, row.first_agent_id = first_seconds, first_agent


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
