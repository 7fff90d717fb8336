"""Reading contacts: the list (search, cursor), one contact with everything the console shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import (
    Agent,
    Contact,
    ContactIdentity,
    ContactNote,
    Conversation,
    Message,
    Site,
    Visitor,
)

PREVIEW = 140


def contact_brief(c: Contact, idents: list[ContactIdentity]) -> dict[str, Any]:
    def first(kind: str) -> str | None:
        return next((i.value for i in idents if i.kind == kind), None)

    return {
        "id": c.id,
        "site_id": c.site_id,
        "name": c.name,
        "email": first("email"),
        "phone": first("phone"),
        "external_id": first("external_id"),
        "tags": c.tags or [],
        "consent": c.consent,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def identity_dict(i: ContactIdentity) -> dict[str, Any]:
    return {
        "id": i.id,
        "kind": i.kind,
        "value": i.value,
        "verified": i.verified,
        "visitor_id": i.visitor_id,
        "created_at": i.created_at.isoformat(),
    }


async def identities_of(
    s: AsyncSession, contact_ids: list[int]
) -> dict[int, list[ContactIdentity]]:
    out: dict[int, list[ContactIdentity]] = {cid: [] for cid in contact_ids}
    if contact_ids:
        rows = await s.execute(
            select(ContactIdentity)
            .where(ContactIdentity.contact_id.in_(contact_ids))
            .order_by(ContactIdentity.id)
        )
        for i in rows.scalars():
            out[i.contact_id].append(i)
    return out


async def list_contacts(
    s: AsyncSession,
    sites: frozenset[int] | None,
    *,
    site_id: int | None = None,
    q: str | None = None,
    tag: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Newest first; ``q`` matches the name or any identity value; ``next`` is the cursor."""
    stmt = select(Contact).order_by(Contact.id.desc()).limit(limit + 1)
    if sites is not None:
        stmt = stmt.where(Contact.site_id.in_(sites))
    if site_id is not None:
        stmt = stmt.where(Contact.site_id == site_id)
    if before_id is not None:
        stmt = stmt.where(Contact.id < before_id)
    if q:
        pattern = f"%{q.lower()}%"
        matching = select(ContactIdentity.contact_id).where(
            func.lower(ContactIdentity.value).like(pattern)
        )
        stmt = stmt.where(or_(func.lower(Contact.name).like(pattern), Contact.id.in_(matching)))
    rows = list((await s.execute(stmt)).scalars())
    if tag:
        rows = [c for c in rows if tag in (c.tags or [])]
    more = len(rows) > limit
    rows = rows[:limit]
    idents = await identities_of(s, [c.id for c in rows])
    return {
        "contacts": [contact_brief(c, idents[c.id]) for c in rows],
        "next": rows[-1].id if more and rows else None,
    }


async def contact_detail(s: AsyncSession, contact: Contact) -> dict[str, Any]:
    """Everything the console shows: identities, visitors, conversations on every channel,
    notes, attributes, tags, consent."""
    idents = (await identities_of(s, [contact.id]))[contact.id]
    visitor_ids = [i.visitor_id for i in idents if i.visitor_id is not None]
    visitors = (
        list((await s.execute(select(Visitor).where(Visitor.id.in_(visitor_ids)))).scalars())
        if visitor_ids
        else []
    )
    rows = (
        (
            await s.execute(
                select(Conversation, Message)
                .outerjoin(
                    Message,
                    and_(
                        Message.conversation_id == Conversation.id,
                        Message.seq == Conversation.last_seq,
                    ),
                )
                .where(Conversation.visitor_id.in_(visitor_ids))
                .order_by(Conversation.id.desc())
                .limit(200)
            )
        ).all()
        if visitor_ids
        else []
    )
    notes = (
        await s.execute(
            select(ContactNote, Agent.display_name)
            .outerjoin(Agent, Agent.id == ContactNote.author_id)
            .where(ContactNote.contact_id == contact.id)
            .order_by(ContactNote.id.desc())
        )
    ).all()
    site = await s.get(Site, contact.site_id)
    return {
        **contact_brief(contact, idents),
        "site_name": site.name if site else None,
        "attributes": contact.attributes or {},
        "consent_at": contact.consent_at.isoformat() if contact.consent_at else None,
        "identities": [identity_dict(i) for i in idents],
        "visitors": [
            {
                "id": v.id,
                "name": v.name,
                "email": v.email,
                "external_id": v.external_id,
                "created_at": v.created_at.isoformat(),
                "last_seen_at": v.last_seen_at.isoformat(),
            }
            for v in visitors
        ],
        "conversations": [
            {
                "id": c.id,
                "visitor_id": c.visitor_id,
                "channel": c.channel,
                "status": c.status,
                "subject": (c.meta or {}).get("email_subject"),
                "created_at": c.created_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
                "last_message": None
                if m is None or m.internal
                else {"body": m.body[:PREVIEW], "author_kind": m.author_kind},
            }
            for c, m in rows
        ],
        "notes": [
            {
                "id": n.id,
                "body": n.body,
                "author_id": n.author_id,
                "author_name": name,
                "created_at": n.created_at.isoformat(),
            }
            for n, name in notes
        ],
    }
