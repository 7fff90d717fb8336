"""``/api/exports/contacts`` and ``/api/exports/conversations``: CSV or JSON, streamed page by
page (each page its own short read), cells that would run as spreadsheet formulas quoted."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, SupervisorDep
from tresen.contacts.queries import contact_brief, identities_of
from tresen.csvsafe import csv_cell
from tresen.runtime import Runtime
from tresen.storage.models import Contact, ContactIdentity, Conversation, Message

router = APIRouter(prefix="/api/exports", tags=["exports"])
PAGE = 500
Format = Literal["csv", "json"]
CONTACT_COLUMNS = [
    "id", "site_id", "name", "email", "phone", "external_id", "tags", "consent",
    "attributes", "created_at", "updated_at",
]  # fmt: skip
MESSAGE_COLUMNS = [
    "conversation_id", "site_id", "channel", "status", "contact_id", "visitor_id",
    "conversation_created_at", "seq", "author_kind", "author_id", "internal", "body",
    "created_at",
]  # fmt: skip

Page = Callable[[AsyncSession, int], Any]


async def _contacts_page(
    s: AsyncSession, sites: frozenset[int] | None, site_id: int | None, after: int
) -> tuple[int, list[dict[str, Any]]]:
    stmt = select(Contact).where(Contact.id > after).order_by(Contact.id).limit(PAGE)
    if sites is not None:
        stmt = stmt.where(Contact.site_id.in_(sites))
    if site_id is not None:
        stmt = stmt.where(Contact.site_id == site_id)
    rows = list((await s.execute(stmt)).scalars())
    idents = await identities_of(s, [c.id for c in rows])
    out = [{**contact_brief(c, idents[c.id]), "attributes": c.attributes or {}} for c in rows]
    return (rows[-1].id if rows else after), out


async def _conversations_page(
    s: AsyncSession,
    sites: frozenset[int] | None,
    site_id: int | None,
    since: datetime | None,
    after: int,
) -> tuple[int, list[dict[str, Any]]]:
    stmt = select(Conversation).where(Conversation.id > after).order_by(Conversation.id)
    stmt = stmt.limit(PAGE // 10)
    if sites is not None:
        stmt = stmt.where(Conversation.site_id.in_(sites))
    if site_id is not None:
        stmt = stmt.where(Conversation.site_id == site_id)
    if since is not None:
        stmt = stmt.where(Conversation.updated_at >= since)
    convs = list((await s.execute(stmt)).scalars())
    ids = [c.id for c in convs]
    messages: dict[int, list[Message]] = {i: [] for i in ids}
    contact_of: dict[int, int] = {}
    if ids:
        for m in (
            await s.execute(
                select(Message)
                .where(Message.conversation_id.in_(ids))
                .order_by(Message.conversation_id, Message.seq)
            )
        ).scalars():
            messages[m.conversation_id].append(m)
        links = await s.execute(
            select(ContactIdentity.visitor_id, ContactIdentity.contact_id).where(
                ContactIdentity.visitor_id.in_({c.visitor_id for c in convs})
            )
        )
        contact_of = {v: c for v, c in links if v is not None}
    out = [
        {
            "id": c.id,
            "site_id": c.site_id,
            "channel": c.channel,
            "status": c.status,
            "contact_id": contact_of.get(c.visitor_id),
            "visitor_id": c.visitor_id,
            "created_at": c.created_at.isoformat(),
            "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "messages": [
                {
                    "seq": m.seq,
                    "author_kind": m.author_kind,
                    "author_id": m.author_id,
                    "internal": m.internal,
                    "body": m.body,
                    "created_at": m.created_at.isoformat(),
                }
                for m in messages[c.id]
            ],
        }
        for c in convs
    ]
    return (convs[-1].id if convs else after), out


def _message_rows(conv: dict[str, Any]) -> list[dict[str, Any]]:
    head = {
        "conversation_id": conv["id"],
        "site_id": conv["site_id"],
        "channel": conv["channel"],
        "status": conv["status"],
        "contact_id": conv["contact_id"],
        "visitor_id": conv["visitor_id"],
        "conversation_created_at": conv["created_at"],
    }
    return [{**head, **m} for m in conv["messages"]]


def csv_line(columns: list[str], row: dict[str, Any]) -> str:
    out = io.StringIO()
    values = []
    for col in columns:
        v = row.get(col)
        if isinstance(v, list):
            v = "|".join(str(x) for x in v)
        elif isinstance(v, dict):
            v = json.dumps(v, ensure_ascii=False)
        values.append(csv_cell(v))
    csv.writer(out).writerow(values)
    return out.getvalue()


async def stream(
    rt: Runtime,
    page: Callable[[AsyncSession, int], Any],
    fmt: Format,
    columns: list[str],
    explode: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> AsyncIterator[str]:
    if fmt == "csv":
        yield "\ufeff" + csv_line(columns, {c: c for c in columns})
    else:
        yield "["
    after, first = 0, True
    while True:
        async with rt.db.read() as s:
            after_next, rows = await page(s, after)
        if not rows:
            break
        after = after_next
        chunk: list[str] = []
        for row in rows:
            if fmt == "csv":
                chunk.extend(csv_line(columns, r) for r in (explode(row) if explode else [row]))
            else:
                chunk.append(("" if first else ",") + json.dumps(row, ensure_ascii=False))
                first = False
        yield "".join(chunk)
    if fmt == "json":
        yield "]"


def _response(body: AsyncIterator[str], fmt: Format, name: str) -> StreamingResponse:
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.get("/contacts")
async def export_contacts(
    rt: RT, who: SupervisorDep, format: Format = "csv", site_id: int | None = Query(None, ge=1)
) -> StreamingResponse:
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)

    async def page(s: AsyncSession, after: int) -> tuple[int, list[dict[str, Any]]]:
        return await _contacts_page(s, sites, site_id, after)

    return _response(stream(rt, page, format, CONTACT_COLUMNS), format, "contacts")


@router.get("/conversations")
async def export_conversations(
    rt: RT,
    who: SupervisorDep,
    format: Format = "csv",
    site_id: int | None = Query(None, ge=1),
    since: datetime | None = None,
) -> StreamingResponse:
    """CSV: one line per message; JSON: one object per conversation with its messages."""
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)

    async def page(s: AsyncSession, after: int) -> tuple[int, list[dict[str, Any]]]:
        return await _conversations_page(s, sites, site_id, since, after)

    return _response(
        stream(rt, page, format, MESSAGE_COLUMNS, _message_rows), format, "conversations"
    )
