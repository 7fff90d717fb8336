"""Contacts known by their email address (someone who wrote in, or left an address in the
widget): found case-insensitively on the site, or created without a browser."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.linking import do_link_address, do_link_platform
from tresen.storage.models import Visitor


def email_anon_id(address: str) -> str:
    return "email:" + hashlib.sha256(address.lower().encode()).hexdigest()[:40]


async def do_find_or_create_contact(
    s: AsyncSession, site_id: int, address: str, name: str | None, now: datetime
) -> Visitor:
    """The newest visitor of the site with this address, else a new contact (in the caller's
    transaction; unique per site by its ``anon_id``)."""
    address = address.strip()
    found = (
        await s.execute(
            select(Visitor)
            .where(Visitor.site_id == site_id, func.lower(Visitor.email) == address.lower())
            .order_by(Visitor.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is None:
        anon = email_anon_id(address)
        found = (
            await s.execute(
                select(Visitor).where(Visitor.site_id == site_id, Visitor.anon_id == anon)
            )
        ).scalar_one_or_none()
    if found is None:
        found = Visitor(
            site_id=site_id,
            anon_id=email_anon_id(address),
            email=address[:320],
            name=(name or None) and name[:200],
            created_at=now,
            last_seen_at=now,
        )
        s.add(found)
        await s.flush()
    await do_link_address(s, found, address, now)
    return found


ANON_PREFIX = {"whatsapp": "wa", "messenger": "fb", "telegram": "tg", "facebook": "fbc"}


def messaging_anon_id(kind: str, platform_id: str) -> str:
    """A messaging identity's visitor: ``wa:<sha>`` per site."""
    digest = hashlib.sha256(f"{kind}:{platform_id}".encode()).hexdigest()[:40]
    return f"{ANON_PREFIX.get(kind, kind)}:{digest}"


async def do_find_or_create_messaging_contact(
    s: AsyncSession, site_id: int, kind: str, platform_id: str, name: str | None, now: datetime
) -> Visitor:
    """The visitor of a WhatsApp number, Messenger PSID or Telegram chat on the site (one per
    identity, in the caller's transaction), linked to the contact that holds the identity (or a
    new contact holding it, verified)."""
    anon = messaging_anon_id(kind, platform_id)
    found = (
        await s.execute(select(Visitor).where(Visitor.site_id == site_id, Visitor.anon_id == anon))
    ).scalar_one_or_none()
    if found is None:
        found = Visitor(
            site_id=site_id,
            anon_id=anon,
            name=(name or None) and name[:200],
            attributes={"identities": {kind: platform_id}},
            created_at=now,
            last_seen_at=now,
        )
        s.add(found)
        await s.flush()
        await do_link_platform(s, found, kind, platform_id, now)
    elif name and not found.name:
        found.name = name[:200]
    return found
