"""The inbox's views (mine, unassigned, all, by channel, by team, by tag, snoozed, resolved),
their counts, and pages of them behind an opaque cursor. Read-only; narrowed to the agent's
sites."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import site_ids_for
from tresen.errors import Invalid
from tresen.principal import Principal
from tresen.storage.models import (
    Conversation,
    ConversationTag,
    Message,
    Team,
    TeamMember,
    Visitor,
)

ACTIVE = ("open", "pending")
SIMPLE_VIEWS = ("mine", "unassigned", "all", "snoozed", "resolved")
MAX_PAGE = 100
Row = tuple[Conversation, Visitor | None, Message | None, int]


@dataclass(frozen=True, slots=True)
class View:
    kind: str  # mine | unassigned | all | snoozed | resolved | channel | team | tag
    value: str | None = None

    @classmethod
    def parse(cls, name: str) -> View:
        if name in SIMPLE_VIEWS:
            return cls(name)
        kind, _, value = name.partition(":")
        if kind in ("channel", "tag") and 0 < len(value) <= 64:
            return cls(kind, value.lower() if kind == "tag" else value)
        if kind == "team" and value.isascii() and value.isdigit() and len(value) <= 18:
            return cls(kind, str(int(value)))
        raise Invalid(
            "view: mine, unassigned, all, snoozed, resolved, channel:<name>, team:<id> "
            "or tag:<tag>",
            code="bad_view",
        )

    def where(self, me: int) -> ColumnElement[bool]:
        awake = and_(Conversation.status.in_(ACTIVE), Conversation.snoozed_until.is_(None))
        if self.kind == "mine":
            return and_(awake, Conversation.assignee_id == me)
        if self.kind == "unassigned":
            return and_(awake, Conversation.assignee_id.is_(None))
        if self.kind == "snoozed":
            return and_(Conversation.status.in_(ACTIVE), Conversation.snoozed_until.is_not(None))
        if self.kind == "resolved":
            return Conversation.status == "resolved"
        if self.kind == "channel":
            return and_(awake, Conversation.channel == self.value)
        if self.kind == "team":
            members = select(TeamMember.agent_id).where(TeamMember.team_id == int(self.value or 0))
            return and_(awake, Conversation.assignee_id.in_(members))
        if self.kind == "tag":
            tagged = select(ConversationTag.conversation_id).where(
                ConversationTag.tag == self.value
            )
            return and_(awake, Conversation.id.in_(tagged))
        return awake

    @property
    def order_column(self) -> Any:
        """Resolved conversations in the order they were closed; the others by last change."""
        return Conversation.closed_at if self.kind == "resolved" else Conversation.updated_at


def encode_cursor(at: datetime | None, conv_id: int) -> str:
    raw = json.dumps([at.isoformat() if at else None, conv_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, conv_id = json.loads(raw)
        when = datetime.fromisoformat(at) if at is not None else None
        if not isinstance(conv_id, int) or (when is not None and when.tzinfo is None):
            raise ValueError
        return when, conv_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor: not one this server gave out", code="bad_cursor") from None


def _scoped(stmt: Any, sites: frozenset[int] | None) -> Any:
    return stmt if sites is None else stmt.where(Conversation.site_id.in_(sites))


def unread_count() -> Any:
    return (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author_kind == "visitor",
            Message.seq > Conversation.agent_read_seq,
        )
        .correlate(Conversation)
        .scalar_subquery()
    )


async def view_page(
    s: AsyncSession, who: Principal, view: View, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Row], str | None]:
    """One page of a view, newest first, and the cursor of the next page (None: the last)."""
    sites = await site_ids_for(s, who)
    limit = max(1, min(limit, MAX_PAGE))
    col = view.order_column
    # The page's ids first (an index-friendly sort over conversations alone), then their rows:
    # the unread count is computed for the page, not for every conversation of the view.
    ids = select(Conversation.id).where(view.where(who.id))
    if cursor:
        at, last_id = decode_cursor(cursor)
        ids = ids.where(
            or_(col < at, and_(col == at, Conversation.id < last_id))
            if at is not None
            else and_(col.is_(None), Conversation.id < last_id)
        )
    page = (
        _scoped(ids, sites).order_by(col.desc(), Conversation.id.desc()).limit(limit + 1).subquery()
    )
    stmt = (
        select(Conversation, Visitor, Message, unread_count())
        .join(page, page.c.id == Conversation.id)
        .outerjoin(Visitor, Visitor.id == Conversation.visitor_id)
        .outerjoin(
            Message,
            and_(Message.conversation_id == Conversation.id, Message.seq == Conversation.last_seq),
        )
        .order_by(col.desc(), Conversation.id.desc())
    )
    rows = [(c, v, m, int(n or 0)) for c, v, m, n in (await s.execute(stmt)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows and more else None
    next_cursor = encode_cursor(getattr(last, col.key), last.id) if last is not None else None
    return rows, next_cursor


async def view_counts(s: AsyncSession, who: Principal) -> dict[str, Any]:
    """How many conversations each view holds, for the sidebar."""
    sites = await site_ids_for(s, who)
    simple = [func.count().filter(View(name).where(who.id)) for name in SIMPLE_VIEWS]
    totals = (await s.execute(_scoped(select(*simple).select_from(Conversation), sites))).one()
    awake = View("all").where(who.id)
    by_channel = _scoped(
        select(Conversation.channel, func.count()).where(awake).group_by(Conversation.channel),
        sites,
    )
    by_tag = _scoped(
        select(ConversationTag.tag, func.count())
        .join(Conversation, Conversation.id == ConversationTag.conversation_id)
        .where(awake)
        .group_by(ConversationTag.tag),
        sites,
    )
    return {
        **{name: int(n or 0) for name, n in zip(SIMPLE_VIEWS, totals, strict=True)},
        "channels": {ch: int(n) for ch, n in (await s.execute(by_channel)).all()},
        "teams": await _team_counts(s, awake, sites),
        "tags": {tag: int(n) for tag, n in (await s.execute(by_tag)).all()},
    }


async def _team_counts(
    s: AsyncSession, awake: ColumnElement[bool], sites: frozenset[int] | None
) -> list[dict[str, Any]]:
    """Every team, by name, with its members (the console filters its live list with them) and
    how many awake conversations are assigned to one of them."""
    teams = (await s.execute(select(Team.id, Team.name).order_by(Team.name, Team.id))).all()
    if not teams:
        return []
    members: dict[int, list[int]] = {team_id: [] for team_id, _ in teams}
    for team_id, agent_id in (
        await s.execute(
            select(TeamMember.team_id, TeamMember.agent_id).order_by(TeamMember.agent_id)
        )
    ).all():
        members[team_id].append(agent_id)
    counted = _scoped(
        select(TeamMember.team_id, func.count(Conversation.id))
        .join(Conversation, Conversation.assignee_id == TeamMember.agent_id)
        .where(awake)
        .group_by(TeamMember.team_id),
        sites,
    )
    counts = {team_id: int(n) for team_id, n in (await s.execute(counted)).all()}
    return [
        {
            "id": team_id,
            "name": name,
            "member_ids": members[team_id],
            "count": counts.get(team_id, 0),
        }
        for team_id, name in teams
    ]


async def tag_counts(s: AsyncSession, who: Principal) -> list[dict[str, Any]]:
    """Every tag in use with the number of conversations (any status) carrying it."""
    sites = await site_ids_for(s, who)
    stmt = _scoped(
        select(ConversationTag.tag, func.count())
        .join(Conversation, Conversation.id == ConversationTag.conversation_id)
        .group_by(ConversationTag.tag)
        .order_by(func.count().desc(), ConversationTag.tag),
        sites,
    )
    return [{"tag": tag, "count": int(n)} for tag, n in (await s.execute(stmt)).all()]


async def tags_by_conversation(s: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(ConversationTag.conversation_id, ConversationTag.tag)
            .where(ConversationTag.conversation_id.in_(ids))
            .order_by(ConversationTag.tag)
        )
        for conv_id, tag in (await s.execute(stmt)).all():
            out[conv_id].append(tag)
    return out
