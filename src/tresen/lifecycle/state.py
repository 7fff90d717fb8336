"""Where a chat stands, derived from its stored messages (so it survives a restart and every
node computes the same): who wrote the last public message and when, when the visitor's
silence began, and the visitor's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select
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


def _last_human() -> Select[int, int]:
    return (
        select(Message.conversation_id, func.max(Message.seq).label("seq"))
        .where(Message.author_kind.in_(HUMAN), Message.internal.is_(False))
        .group_by(Message.conversation_id)
    )


async def standings(s: AsyncSession, conversation_ids: list[int] | None = None) -> list[Standing]:
    """Open web chats with a person's message (all, or the given ones)."""
    last = _last_human()
    last_visitor = (
        select(Message.conversation_id, func.max(Message.seq).label("seq"))
        .where(Message.author_kind == "visitor", Message.internal.is_(False))
        .group_by(Message.conversation_id)
    )
    if conversation_ids is not None:
        last = last.where(Message.conversation_id.in_(conversation_ids))
        last_visitor = last_visitor.where(Message.conversation_id.in_(conversation_ids))
    lq, vq = last.subquery(), last_visitor.subquery()
    stmt = (
        select(Message, vq.c.seq)
        .join(lq, and_(lq.c.conversation_id == Message.conversation_id, lq.c.seq == Message.seq))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(vq, vq.c.conversation_id == Message.conversation_id)
        .where(Conversation.status == "open", Conversation.channel == "web")
    )
    rows = (await s.execute(stmt)).all()
    out = []
    silent = [m.conversation_id for m, _v in rows if m.author_kind == "agent"]
    firsts: dict[int, datetime] = {}
    if silent:
        # The first agent message after the visitor's last one: where the silence began.
        first = (
            select(Message.conversation_id, func.min(Message.created_at))
            .outerjoin(vq, vq.c.conversation_id == Message.conversation_id)
            .where(
                Message.conversation_id.in_(silent),
                Message.author_kind == "agent",
                Message.internal.is_(False),
                Message.seq > func.coalesce(vq.c.seq, 0),
            )
            .group_by(Message.conversation_id)
        )
        firsts = {c: at for c, at in (await s.execute(first)).all()}
    for m, _v in rows:
        out.append(
            Standing(
                conversation_id=m.conversation_id,
                last_seq=m.seq,
                last_kind=m.author_kind,
                last_at=m.created_at,
                last_is_nudge=(m.client_msg_id or "").startswith(NUDGE_PREFIX),
                silent_since=firsts.get(m.conversation_id) if m.author_kind == "agent" else None,
            )
        )
    return out


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
