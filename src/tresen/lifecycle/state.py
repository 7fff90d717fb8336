"""Where a chat stands, derived from its stored messages (so it survives a restart and every
node computes the same): who wrote the last public message and when, when the visitor's
silence began, and the visitor's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, ScalarSelect, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.assist.faq import guess_language
from tresen.storage.models import Conversation, Message

HUMAN = ("visitor", "agent")
NUDGE_PREFIX = "nudge-"  # client_msg_id of an automatic gentle message


@dataclass(frozen=True)
class Standing:
    conversation_id: int
    last_seq: int  # the last public message of a person (visitor or agent)
    last_kind: str
    last_at: datetime
    last_is_nudge: bool
    silent_since: datetime | None  # the first agent message the visitor has not answered
    site_id: int = 0
    skill: str | None = None
    assignee_id: int | None = None
    marks: dict[str, Any] = field(default_factory=dict)  # meta["lifecycle"]


def _max_seq(*kinds: str) -> ScalarSelect[int]:
    """The newest public message of ``kinds`` in the outer query's conversation (by the
    (conversation, seq) index: only that conversation's messages are read)."""
    return (
        select(func.max(Message.seq))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author_kind.in_(kinds),
            Message.internal.is_(False),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )


async def standings(s: AsyncSession, conversation_ids: list[int] | None = None) -> list[Standing]:
    """Open web chats with a person's message (all, or the given ones). The pass runs every
    second: it reads open chats and their own messages only, never the whole table."""
    stmt = _ALL_OPEN if conversation_ids is None else _standings_query(conversation_ids)
    return _standings_of((await s.execute(stmt)).all())


def read_standings(conn: Connection, conversation_ids: list[int] | None = None) -> list[Standing]:
    """``standings`` on a Core connection (the timer pass's grouped read)."""
    stmt = _ALL_OPEN if conversation_ids is None else _standings_query(conversation_ids)
    return _standings_of(conn.execute(stmt).all())


def _standings_query(conversation_ids: list[int] | None) -> Select[Any]:
    last_visitor = _max_seq("visitor")
    # The first agent message after the visitor's last one: where the silence began.
    silent_since = (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author_kind == "agent",
            Message.internal.is_(False),
            Message.seq > func.coalesce(last_visitor, 0),
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    chats = select(
        Conversation.id.label("id"),
        Conversation.site_id.label("site_id"),
        Conversation.skill.label("skill"),
        Conversation.assignee_id.label("assignee_id"),
        Conversation.meta.label("meta"),
        _max_seq(*HUMAN).label("last"),
        silent_since.label("silent_since"),
    ).where(Conversation.status == "open", Conversation.channel == "web")
    if conversation_ids is not None:
        chats = chats.where(Conversation.id.in_(conversation_ids))
    cq = chats.subquery()
    return select(
        Message.conversation_id,
        Message.seq,
        Message.author_kind,
        Message.created_at,
        Message.client_msg_id,
        cq.c.silent_since,
        cq.c.site_id,
        cq.c.skill,
        cq.c.assignee_id,
        cq.c.meta,
    ).join(cq, and_(cq.c.id == Message.conversation_id, cq.c.last == Message.seq))


_ALL_OPEN = _standings_query(None)  # the pass's query, built once


def _standings_of(rows: Sequence[Any]) -> list[Standing]:
    out = []
    for r in rows:
        agent = r.author_kind == "agent"
        out.append(
            Standing(
                conversation_id=r.conversation_id,
                last_seq=r.seq,
                last_kind=r.author_kind,
                last_at=r.created_at,
                last_is_nudge=(r.client_msg_id or "").startswith(NUDGE_PREFIX),
                silent_since=_aware(r.silent_since) if agent else None,
                site_id=r.site_id,
                skill=r.skill,
                assignee_id=r.assignee_id,
                marks=dict((r.meta or {}).get("lifecycle") or {}),
            )
        )
    return out


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate's time (SQLite hands it back as text, without the column's type)."""
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC) if value else None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def visitor_language(s: AsyncSession, conv: Conversation) -> str:
    """de, en or da: the bot's choice, else guessed from the visitor's latest messages."""
    if conv.meta.get("lang") in ("de", "en", "da"):
        return str(conv.meta["lang"])
    stmt = (
        select(Message.body)
        .where(Message.conversation_id == conv.id, Message.author_kind == "visitor")
        .order_by(Message.seq.desc())
        .limit(3)
    )
    bodies = " ".join((await s.execute(stmt)).scalars())
    return guess_language(bodies, str(conv.meta.get("bot_lang") or "en"))
