"""The write path of contacts: create, update, identities, notes, tags, merge, split."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import site_ids_for
from tresen.contacts.identities import normalise
from tresen.contacts.linking import do_merge, identity, merge_attributes, new_contact, union
from tresen.errors import Conflict, Forbidden, Invalid, NotFound
from tresen.events import ContactCreated, ContactUpdated, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Contact, ContactIdentity, ContactNote, Site
from tresen.storage.models.contact import CONSENT_STATES

MAX_TAGS = 50
MAX_NOTE = 10_000


@dataclass
class ContactChanges:
    name: str | None = None
    attributes: dict[str, Any] | None = None  # merged in; a key set to None is removed
    tags: list[str] | None = None  # the whole list
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    consent: str | None = None
    add_identities: list[tuple[str, str, bool]] = field(default_factory=list)
    remove_identities: list[int] = field(default_factory=list)


async def contact_for(s: AsyncSession, who: Principal, contact_id: int) -> Contact:
    """The contact, if it exists and ``who`` may see its site."""
    contact = await s.get(Contact, contact_id)
    sites = await site_ids_for(s, who)
    if contact is None or (sites is not None and contact.site_id not in sites):
        raise NotFound(f"no contact {contact_id}", code="no_such_contact")
    return contact


def clean_tags(tags: list[str]) -> list[str]:
    out = [t.strip()[:64] for t in tags if t and t.strip()]
    if len(out) > MAX_TAGS:
        raise Invalid(f"at most {MAX_TAGS} tags", code="too_many_tags")
    return union(out, [])


def apply_changes(contact: Contact, ch: ContactChanges, now: datetime) -> list[str]:
    """Fields of the row (identities are separate); returns the names of what changed."""
    changed: list[str] = []
    if ch.name is not None:
        contact.name = ch.name.strip()[:200] or None
        changed.append("name")
    if ch.attributes:
        merged = merge_attributes(contact.attributes, ch.attributes)
        contact.attributes = {k: v for k, v in merged.items() if v is not None}
        changed.append("attributes")
    if ch.tags is not None or ch.add_tags or ch.remove_tags:
        tags = clean_tags(ch.tags if ch.tags is not None else list(contact.tags or []))
        tags = clean_tags(union(tags, ch.add_tags))
        contact.tags = [t for t in tags if t not in set(ch.remove_tags)]
        changed.append("tags")
    if ch.consent is not None:
        if ch.consent not in CONSENT_STATES:
            raise Invalid(f"consent must be one of {', '.join(CONSENT_STATES)}")
        if ch.consent != contact.consent:
            contact.consent, contact.consent_at = ch.consent, now
        changed.append("consent")
    return changed


async def do_add_identity(
    s: AsyncSession, contact: Contact, kind: str, value: str, verified: bool, now: datetime
) -> ContactIdentity:
    if kind == "visitor":
        raise Invalid("visitors join a contact by merging, not by hand")
    value = normalise(kind, value)
    found = await identity(s, contact.site_id, kind, value)
    if found is not None:
        if found.contact_id == contact.id:
            return found
        raise Conflict(
            f"{kind} {value} belongs to contact {found.contact_id}: merge them instead",
            code="identity_taken",
        )
    ident = ContactIdentity(
        contact_id=contact.id,
        site_id=contact.site_id,
        kind=kind,
        value=value,
        verified=verified,
        created_at=now,
    )
    s.add(ident)
    return ident


async def check_create_contact(
    rt: Runtime, who: Principal, site_id: int, changes: ContactChanges
) -> int:
    now = rt.clock.now()
    async with rt.db.write() as s:
        sites = await site_ids_for(s, who)
        if await s.get(Site, site_id) is None or (sites is not None and site_id not in sites):
            raise NotFound(f"no site {site_id}", code="no_such_site")
        contact = new_contact(site_id, now)
        apply_changes(contact, changes, now)
        s.add(contact)
        await s.flush()
        for kind, value, verified in changes.add_identities:
            await do_add_identity(s, contact, kind, value, verified, now)
        record(s, ContactCreated(contact.id, site_id, "api"))
        return contact.id


async def check_update_contact(
    rt: Runtime, who: Principal, contact_id: int, changes: ContactChanges
) -> None:
    now = rt.clock.now()
    async with rt.db.write() as s:
        contact = await contact_for(s, who, contact_id)
        changed = apply_changes(contact, changes, now)
        for kind, value, verified in changes.add_identities:
            await do_add_identity(s, contact, kind, value, verified, now)
        for ident_id in changes.remove_identities:
            ident = await s.get(ContactIdentity, ident_id)
            if ident is None or ident.contact_id != contact.id:
                raise NotFound(f"no identity {ident_id} on this contact", code="no_such_identity")
            if ident.kind == "visitor":
                raise Invalid("a visitor leaves a contact by a split", code="visitor_identity")
            await s.delete(ident)
        if changes.add_identities or changes.remove_identities:
            changed.append("identities")
        contact.updated_at = now
        record(s, ContactUpdated(contact.id, contact.site_id, tuple(changed), "api"))


async def check_add_note(rt: Runtime, who: Principal, contact_id: int, body: str) -> int:
    body = body.strip()
    if not body or len(body) > MAX_NOTE:
        raise Invalid(f"a note has 1 to {MAX_NOTE} characters", code="bad_note")
    now = rt.clock.now()
    async with rt.db.write() as s:
        contact = await contact_for(s, who, contact_id)
        note = ContactNote(contact_id=contact.id, author_id=who.id, body=body, created_at=now)
        s.add(note)
        contact.updated_at = now
        await s.flush()
        record(s, ContactUpdated(contact.id, contact.site_id, ("notes",), "api"))
        return note.id


async def check_merge(rt: Runtime, who: Principal, keep_id: int, gone_id: int) -> None:
    if keep_id == gone_id:
        raise Invalid("a contact cannot be merged into itself", code="same_contact")
    now = rt.clock.now()
    async with rt.db.write() as s:
        keep = await contact_for(s, who, keep_id)
        gone = await contact_for(s, who, gone_id)
        if keep.site_id != gone.site_id:
            raise Forbidden("contacts of different sites cannot be merged", code="other_site")
        await do_merge(s, keep, gone, now, by=who.id)


async def check_split(rt: Runtime, who: Principal, contact_id: int, identity_ids: list[int]) -> int:
    """Move the chosen identities (and so their visitors' conversations) to a new contact."""
    if not identity_ids:
        raise Invalid("choose the identities to split off", code="no_identities")
    now = rt.clock.now()
    async with rt.db.write() as s:
        contact = await contact_for(s, who, contact_id)
        idents = (
            (
                await s.execute(
                    select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)
                )
            )
            .scalars()
            .all()
        )
        chosen = [i for i in idents if i.id in set(identity_ids)]
        if len(chosen) != len(set(identity_ids)):
            raise NotFound("some identities are not on this contact", code="no_such_identity")
        if len(chosen) == len(idents):
            raise Invalid("leave at least one identity on the contact", code="split_all")
        new = new_contact(contact.site_id, now)
        s.add(new)
        await s.flush()
        for ident in chosen:
            ident.contact_id = new.id
        contact.updated_at = now
        record(s, ContactCreated(new.id, new.site_id, "split"))
        record(s, ContactUpdated(contact.id, contact.site_id, ("identities",), "split"))
        return new.id
