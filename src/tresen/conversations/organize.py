"""The write path for organising the inbox: tags and snoozes (docs/inbox.md).

Each change is one transaction that records its event (``ConversationTagged``,
``ConversationSnoozed``, ``ConversationWoke``); the delivery tells the consoles.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Forbidden, Invalid
from tresen.events import (
    ConversationSnoozed,
    ConversationState,
    ConversationTagged,
    ConversationWoke,
    record,
)
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, ConversationTag

TAG_RE = re.compile(r"^[\w][\w .:+-]{0,39}$")
MAX_TAGS = 20
MAX_SNOOZE = timedelta(days=366)
ACTIVE = ("open", "pending")


def clean_tag(raw: str) -> str:
    tag = " ".join(str(raw).split()).lower()
    if not TAG_RE.match(tag):
        raise Invalid(
            "a tag has 1 to 40 letters, digits, spaces or . : + - _ (starting with a letter "
            "or digit)",
            code="bad_tag",
        )
    return tag


def _agent(who: Principal) -> None:
    if who.kind != "agent":
        raise Forbidden("only agents organise the inbox")


async def tags_of(s: AsyncSession, conversation_id: int) -> list[str]:
    stmt = (
        select(ConversationTag.tag)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.tag)
    )
    return list((await s.execute(stmt)).scalars())


async def check_tag(
    rt: Runtime,
    who: Principal,
    conversation_id: int,
    *,
    add: list[str] | tuple[str, ...] = (),
    remove: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """Add and remove tags; returns the conversation's tags after the change."""
    _agent(who)
    to_add = sorted({clean_tag(t) for t in add})
    to_remove = sorted({clean_tag(t) for t in remove} - set(to_add))
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        before = set(await tags_of(s, conv.id))
        added = [t for t in to_add if t not in before]
        removed = [t for t in to_remove if t in before]
        after = (before | set(added)) - set(removed)
        if len(after) > MAX_TAGS:
            raise Invalid(f"at most {MAX_TAGS} tags on a conversation", code="too_many_tags")
        for tag in added:
            s.add(ConversationTag(conversation_id=conv.id, tag=tag, created_at=now))
        if removed:
            await s.execute(
                delete(ConversationTag).where(
                    ConversationTag.conversation_id == conv.id, ConversationTag.tag.in_(removed)
                )
            )
        if added or removed:
            record(
                s,
                ConversationTagged(
                    ConversationState.of(conv),
                    tuple(added),
                    tuple(removed),
                    tuple(sorted(after)),
                    who.id,
                ),
            )
    return sorted(after)


async def check_snooze(
    rt: Runtime, who: Principal, conversation_id: int, until: datetime | None
) -> Conversation:
    """Snooze until ``until`` (in the future, within a year), or wake now (None)."""
    _agent(who)
    now = rt.clock.now()
    if until is not None:
        if until.tzinfo is None:
            raise Invalid("until: give a time zone (e.g. ...Z)", code="bad_time")
        if until <= now:
            raise Invalid("until: a time in the future", code="bad_time")
        if until - now > MAX_SNOOZE:
            raise Invalid("until: at most a year ahead", code="bad_time")
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        if until is not None and conv.status not in ACTIVE:
            raise Invalid("only an open or pending conversation can be snoozed", code="not_active")
        was = conv.snoozed_until
        conv.snoozed_until = until
        if until is not None:
            conv.updated_at = now
            record(s, ConversationSnoozed(ConversationState.of(conv), who.id))
        elif was is not None:
            record(s, ConversationWoke(ConversationState.of(conv), "agent"))
    return conv


async def do_wake(rt: Runtime, conversation_id: int, reason: str) -> bool:
    """End a snooze (the visitor wrote). False when it was not snoozed."""
    async with rt.db.write() as s:
        conv = await s.get(Conversation, conversation_id, with_for_update=True)
        if conv is None or conv.snoozed_until is None:
            return False
        conv.snoozed_until = None
        record(s, ConversationWoke(ConversationState.of(conv), reason))  # type: ignore[arg-type]
    return True


async def do_wake_due(rt: Runtime) -> list[int]:
    """Wake every conversation whose snooze time has come. Returns their ids."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        stmt = (
            select(Conversation)
            .where(Conversation.snoozed_until.is_not(None), Conversation.snoozed_until <= now)
            .order_by(Conversation.snoozed_until)
            .limit(500)
            .with_for_update()
        )
        convs = list((await s.execute(stmt)).scalars())
        for conv in convs:
            conv.snoozed_until = None
            if conv.status in ACTIVE:  # a resolved one just drops its snooze, quietly
                record(s, ConversationWoke(ConversationState.of(conv), "time"))
    return [c.id for c in convs]


async def next_snooze_end(rt: Runtime) -> datetime | None:
    async with rt.db.read() as s:
        stmt = select(Conversation.snoozed_until).where(Conversation.snoozed_until.is_not(None))
        return (await s.execute(stmt.order_by(Conversation.snoozed_until).limit(1))).scalar()
