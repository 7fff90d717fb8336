"""Keeping contacts and visitors together, inside the caller's transaction.

Every visitor belongs to one contact (through a ``visitor`` identity). A verified identity
(identify() with its HMAC hash: ``external_id``, and the email it vouches for) links the visitor
to the contact that already has it: the visitor's own contact is merged into that one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.identities import normalise
from tresen.errors import Invalid
from tresen.events import ContactCreated, ContactsMerged, ContactUpdated, record
from tresen.storage.models import Contact, ContactIdentity, ContactNote, Visitor
from tresen.storage.prepared import OnDialect, binds

MAX_ATTRIBUTES = 100


async def contact_id_of_visitor(s: AsyncSession, visitor_id: int) -> int | None:
    return (
        await s.execute(
            select(ContactIdentity.contact_id).where(ContactIdentity.visitor_id == visitor_id)
        )
    ).scalar_one_or_none()


async def identity(s: AsyncSession, site_id: int, kind: str, value: str) -> ContactIdentity | None:
    return (
        await s.execute(
            select(ContactIdentity).where(
                ContactIdentity.site_id == site_id,
                ContactIdentity.kind == kind,
                ContactIdentity.value == value,
            )
        )
    ).scalar_one_or_none()


def new_contact(site_id: int, now: datetime, name: str | None = None) -> Contact:
    return Contact(
        site_id=site_id, name=name, attributes={}, tags=[], created_at=now, updated_at=now
    )


async def do_ensure_contact(s: AsyncSession, visitor: Visitor, now: datetime, via: str) -> Contact:
    """The visitor's contact, created (with the visitor's identity) if it has none."""
    if visitor.id is None:
        await s.flush()
    cid = await contact_id_of_visitor(s, visitor.id)
    if cid is not None:
        found = await s.get(Contact, cid)
        assert found is not None
        return found
    contact = new_contact(visitor.site_id, now, visitor.name)
    s.add(contact)
    await s.flush()
    s.add(
        ContactIdentity(
            contact_id=contact.id,
            site_id=visitor.site_id,
            kind="visitor",
            value=str(visitor.id),
            verified=visitor.external_id is not None,
            visitor_id=visitor.id,
            created_at=now,
        )
    )
    record(s, ContactCreated(contact.id, contact.site_id, via))
    return contact


async def do_link_verified(
    s: AsyncSession,
    visitor: Visitor,
    now: datetime,
    *,
    external_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> Contact:
    """identify() with a valid hash: the visitor joins the contact with this external id (or
    the claim's email), or its own contact gains them; the claim's name and attributes update
    it. The hash covers the id only, so an email already on another identified person's contact
    is left there. A browser that was someone else before leaves that person's contact first."""
    contact = await do_ensure_contact(s, visitor, now, "identify")
    changed: set[str] = set()
    ext = _normal("external_id", external_id)
    if ext is not None:
        before = await external_ids_of(s, contact.id)
        if before and ext not in before:
            contact = await do_detach_visitor(s, visitor, now)
        contact = await _link(s, contact, "external_id", ext, now, changed)
    mail = _normal("email", email)
    if mail is not None:
        found = await identity(s, visitor.site_id, "email", mail)
        owners = set() if found is None else await external_ids_of(s, found.contact_id)
        if found is None or found.contact_id == contact.id or not owners or ext in owners:
            contact = await _link(s, contact, "email", mail, now, changed)
    if name and name[:200] != contact.name:
        contact.name = name[:200]
        changed.add("name")
    if attributes:
        merged = merge_attributes(contact.attributes, attributes)
        if merged != contact.attributes:
            contact.attributes = merged
            changed.add("attributes")
    if changed:
        contact.updated_at = now
        record(s, ContactUpdated(contact.id, contact.site_id, tuple(sorted(changed)), "identify"))
    return contact


def _normal(kind: str, raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalise(kind, raw)
    except Invalid:  # a malformed hint is not an identity
        return None


async def external_ids_of(s: AsyncSession, contact_id: int) -> set[str]:
    rows = await s.execute(
        select(ContactIdentity.value).where(
            ContactIdentity.contact_id == contact_id, ContactIdentity.kind == "external_id"
        )
    )
    return set(rows.scalars())


async def _link(
    s: AsyncSession, contact: Contact, kind: str, value: str, now: datetime, changed: set[str]
) -> Contact:
    """The contact that holds the verified ``kind: value`` afterwards (``contact`` merged into
    the one that had it)."""
    found = await identity(s, contact.site_id, kind, value)
    if found is None:
        s.add(
            ContactIdentity(
                contact_id=contact.id,
                site_id=contact.site_id,
                kind=kind,
                value=value,
                verified=True,
                created_at=now,
            )
        )
        changed.add("identities")
        return contact
    if not found.verified:
        found.verified = True
        changed.add("identities")
    if found.contact_id == contact.id:
        return contact
    keep = await s.get(Contact, found.contact_id)
    assert keep is not None
    await do_merge(s, keep, contact, now, by=None)
    changed.add("identities")
    return keep


async def do_detach_visitor(s: AsyncSession, visitor: Visitor, now: datetime) -> Contact:
    """The visitor leaves its contact for a new one of its own."""
    contact = new_contact(visitor.site_id, now)
    s.add(contact)
    await s.flush()
    await s.execute(
        update(ContactIdentity)
        .where(ContactIdentity.visitor_id == visitor.id)
        .values(contact_id=contact.id)
    )
    record(s, ContactCreated(contact.id, contact.site_id, "identify"))
    return contact


async def do_link_platform(
    s: AsyncSession, visitor: Visitor, kind: str, platform_id: str, now: datetime
) -> Contact:
    """A customer wrote on a messaging platform (``kind`` whatsapp, messenger, telegram): their
    visitor joins the contact that has that identity (an agent added the WhatsApp number to the
    web contact, say), or gets a contact of its own holding it, verified (the platform vouches
    for its sender)."""
    return await _link_identity(s, visitor, kind, platform_id, now, verified=True)


async def do_link_address(
    s: AsyncSession, visitor: Visitor, address: str, now: datetime
) -> Contact:
    """Someone wrote from ``address``: the visitor joins the contact that has the address, or
    its own contact gains it (unverified: anyone can put an address in From)."""
    return await _link_identity(s, visitor, "email", address, now, verified=False)


async def _link_identity(
    s: AsyncSession, visitor: Visitor, kind: str, raw: str, now: datetime, *, verified: bool
) -> Contact:
    try:
        value = normalise(kind, raw)
    except Invalid:  # an odd sender still gets a contact
        return await do_ensure_contact(s, visitor, now, kind)
    found = await identity(s, visitor.site_id, kind, value)
    if found is not None and await contact_id_of_visitor(s, visitor.id) is None:
        s.add(
            ContactIdentity(
                contact_id=found.contact_id,
                site_id=visitor.site_id,
                kind="visitor",
                value=str(visitor.id),
                verified=verified,
                visitor_id=visitor.id,
                created_at=now,
            )
        )
        joined = await s.get(Contact, found.contact_id)
        assert joined is not None
        return joined
    contact = await do_ensure_contact(s, visitor, now, kind)
    if found is None:
        s.add(
            ContactIdentity(
                contact_id=contact.id,
                site_id=visitor.site_id,
                kind=kind,
                value=value,
                verified=verified,
                created_at=now,
            )
        )
    return contact


def merge_attributes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    merged = {**(old or {}), **new}
    return dict(list(merged.items())[:MAX_ATTRIBUTES])


async def do_merge(
    s: AsyncSession, keep: Contact, gone: Contact, now: datetime, by: int | None
) -> Contact:
    """Fold ``gone`` into ``keep``: identities (and so visitors and their conversations), notes,
    tags; attributes of ``keep`` win. ``gone`` is deleted."""
    await s.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == gone.id)
        .values(contact_id=keep.id)
    )
    await s.execute(
        update(ContactNote).where(ContactNote.contact_id == gone.id).values(contact_id=keep.id)
    )
    keep.tags = union(keep.tags or [], gone.tags or [])
    keep.attributes = merge_attributes(gone.attributes, keep.attributes or {})
    keep.name = keep.name or gone.name
    if keep.consent == "unknown" and gone.consent != "unknown":
        keep.consent, keep.consent_at = gone.consent, gone.consent_at
    keep.created_at = min(keep.created_at, gone.created_at)
    keep.updated_at = now
    gone_id = gone.id
    await s.execute(delete(Contact).where(Contact.id == gone_id))
    s.expunge(gone)
    record(s, ContactsMerged(keep.id, keep.site_id, gone_id, by))
    record(s, ContactUpdated(keep.id, keep.site_id, ("identities", "notes", "tags"), "merge"))
    return keep


def union(a: Iterable[str], b: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


_contacts = cast(Table, Contact.__table__)
_identities = cast(Table, ContactIdentity.__table__)
_CONTACT_FIELDS = (
    "site_id",
    "name",
    "attributes",
    "tags",
    "consent",
    "consent_at",
    "created_at",
    "updated_at",
)
_IDENTITY_FIELDS = (
    "contact_id",
    "site_id",
    "kind",
    "value",
    "verified",
    "visitor_id",
    "created_at",
)
_NEW_CONTACT = OnDialect(
    insert(_contacts).values(binds(_CONTACT_FIELDS)).returning(_contacts.c.id), [_contacts.c.id]
)
_NEW_IDENTITY = OnDialect(insert(_identities).values(binds(_IDENTITY_FIELDS)))


def do_new_visitor_contact(conn: Connection, site_id: int, visitor_id: int, now: datetime) -> int:
    """A new anonymous visitor's contact (what ``do_ensure_contact`` creates for a visitor
    without one), on the connection of a grouped write (SQLite): the group commit writes a new
    visitor and its contact in the transaction shared with the writes queued meanwhile; the two
    statements are compiled once and run on the driver (``storage/prepared.py``). Returns the
    contact's id."""
    contact: dict[str, Any] = {
        "site_id": site_id,
        "name": None,
        "attributes": {},
        "tags": [],
        "consent": "unknown",
        "consent_at": None,
        "created_at": now,
        "updated_at": now,
    }
    contact_id = int(_NEW_CONTACT.rows(conn, contact)[0]["id"])
    identity = {
        "contact_id": contact_id,
        "site_id": site_id,
        "kind": "visitor",
        "value": str(visitor_id),
        "verified": False,
        "visitor_id": visitor_id,
        "created_at": now,
    }
    _NEW_IDENTITY.rows(conn, identity)
    record(conn, ContactCreated(contact_id, site_id, "visitor"))
    return contact_id
