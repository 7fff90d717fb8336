"""Callbacks as work items: the one write path for the ``callbacks`` table (docs/inbox.md).

A waiting visitor who chooses "callback" leaves a number (validated with ``phonenumbers``, stored
as E.164) and maybe a preferred time; agents take it, reschedule its reminder, note and close it.
At its reminder time the owner's consoles (unowned: every console) get a ``callback`` frame with
``due``; the time is kept by an ``Alarm`` on the injected scheduler.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.queries import access_agent_by_id
from tresen.agents.scope import site_ids_for
from tresen.errors import Forbidden, Invalid, NotFound
from tresen.events import CallbackChanged, CallbackDue, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Callback, Conversation
from tresen.storage.models.inbox import CALLBACK_STATUSES

MAX_NOTES = 4000
LISTS = ("mine", "unassigned", "due", "open", "done")


def parse_phone(raw: str, region: str) -> str:
    """The number in E.164 (``+4930123456``), or a clear error."""
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid("phone: not a valid telephone number", code="bad_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_when(text: str) -> datetime | None:
    """A preferred time given as ISO 8601 with a zone; anything else stays free text."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def callback_dict(cb: Callback) -> dict[str, Any]:
    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "id": cb.id,
        "site_id": cb.site_id,
        "conversation_id": cb.conversation_id,
        "visitor_id": cb.visitor_id,
        "phone": cb.phone,
        "preferred_at": iso(cb.preferred_at),
        "preferred_text": cb.preferred_text,
        "owner_id": cb.owner_id,
        "remind_at": iso(cb.remind_at),
        "reminded_at": iso(cb.reminded_at),
        "status": cb.status,
        "notes": cb.notes,
        "created_at": iso(cb.created_at),
        "updated_at": iso(cb.updated_at),
        "done_at": iso(cb.done_at),
    }


def _changed(cb: Callback, created: bool = False) -> CallbackChanged:
    return CallbackChanged(cb.id, cb.site_id, cb.owner_id, cb.status, cb.remind_at, created)


def add_requested_callback(
    s: AsyncSession, conv: Conversation, phone: str, when: str, now: datetime
) -> Callback:
    """The visitor's request, inside the transaction of their queue choice. Without a time it is
    due at once (someone should call soon)."""
    preferred = parse_when(when) if when else None
    cb = Callback(
        site_id=conv.site_id,
        conversation_id=conv.id,
        visitor_id=conv.visitor_id,
        phone=phone,
        preferred_at=preferred,
        preferred_text=when or None,
        remind_at=preferred or now,
        status="open",
        notes="",
        created_at=now,
        updated_at=now,
    )
    s.add(cb)
    return cb


def record_requested(s: AsyncSession, cb: Callback) -> None:
    record(s, _changed(cb, created=True))


async def _access(s: AsyncSession, who: Principal, callback_id: int) -> Callback:
    if who.kind != "agent":
        raise Forbidden("only agents work on callbacks")
    cb = await s.get(Callback, callback_id, with_for_update=True)
    sites = await site_ids_for(s, who)
    if cb is None or (sites is not None and cb.site_id not in sites):
        raise NotFound(f"no callback {callback_id}", code="no_such_callback")
    return cb


_UNSET: Any = object()


async def check_update_callback(
    rt: Runtime,
    who: Principal,
    callback_id: int,
    *,
    owner_id: int | None = _UNSET,
    remind_at: datetime | None = _UNSET,
    status: str | None = None,
    notes: str | None = None,
) -> Callback:
    """Take or hand over (``owner_id``), reschedule the reminder, write notes, close or reopen."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        cb = await _access(s, who, callback_id)
        if owner_id is not _UNSET:
            if owner_id is not None:
                await access_agent_by_id(s, owner_id)
            cb.owner_id = owner_id
        if remind_at is not _UNSET:
            if remind_at is not None and remind_at.tzinfo is None:
                raise Invalid("remind_at: give a time zone (e.g. ...Z)", code="bad_time")
            if remind_at is not None and remind_at - now > timedelta(days=366):
                raise Invalid("remind_at: at most a year ahead", code="bad_time")
            cb.remind_at, cb.reminded_at = remind_at, None
        if notes is not None:
            if len(notes) > MAX_NOTES:
                raise Invalid(f"notes: at most {MAX_NOTES} characters", code="too_long")
            cb.notes = notes
        if status is not None:
            if status not in CALLBACK_STATUSES:
                raise Invalid(f"status: one of {', '.join(CALLBACK_STATUSES)}")
            cb.status, cb.done_at = status, (now if status == "done" else None)
        cb.updated_at = now
        record(s, _changed(cb))
    return cb


async def list_callbacks(
    s: AsyncSession, who: Principal, which: str, now: datetime, limit: int = 100
) -> list[Callback]:
    if which not in LISTS:
        raise Invalid(f"list: one of {', '.join(LISTS)}", code="bad_list")
    stmt = select(Callback)
    if which == "done":
        stmt = stmt.where(Callback.status == "done").order_by(Callback.done_at.desc())
    else:
        stmt = stmt.where(Callback.status == "open").order_by(
            Callback.remind_at.is_(None), Callback.remind_at, Callback.id
        )
    if which == "mine":
        stmt = stmt.where(Callback.owner_id == who.id)
    elif which == "unassigned":
        stmt = stmt.where(Callback.owner_id.is_(None))
    elif which == "due":
        stmt = stmt.where(
            Callback.remind_at <= now, or_(Callback.owner_id == who.id, Callback.owner_id.is_(None))
        )
    sites = await site_ids_for(s, who)
    if sites is not None:
        stmt = stmt.where(Callback.site_id.in_(sites))
    return list((await s.execute(stmt.limit(max(1, min(limit, 200))))).scalars())


async def next_reminder(rt: Runtime) -> datetime | None:
    async with rt.db.read() as s:
        stmt = (
            select(Callback.remind_at)
            .where(
                Callback.status == "open",
                Callback.remind_at.is_not(None),
                Callback.reminded_at.is_(None),
            )
            .order_by(Callback.remind_at)
            .limit(1)
        )
        return (await s.execute(stmt)).scalar()


async def do_remind_due(rt: Runtime) -> list[int]:
    """Every open callback whose reminder time came and was not reminded: ``CallbackDue``."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        stmt = (
            select(Callback)
            .where(
                Callback.status == "open",
                Callback.remind_at <= now,
                Callback.reminded_at.is_(None),
            )
            .order_by(Callback.remind_at)
            .limit(500)
            .with_for_update()
        )
        due = list((await s.execute(stmt)).scalars())
        for cb in due:
            cb.reminded_at = now
            record(s, CallbackDue(cb.id, cb.site_id, cb.owner_id, cb.phone, cb.conversation_id))
    return [cb.id for cb in due]
