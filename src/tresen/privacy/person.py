"""Everything that belongs to one person: found from their contact."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from tresen.storage.models import (
    Contact,
    ContactIdentity,
    Conversation,
    InboundMail,
    Visitor,
)


@dataclass(frozen=True)
class Person:
    contact: Contact
    identities: list[ContactIdentity]
    visitor_ids: list[int]
    conversation_ids: list[int]
    addresses: list[str]  # lower case: their email identities and visitors' addresses
    mail_ids: list[int]  # inbound originals: of their conversations or from their addresses


async def person_of(s: AsyncSession, contact: Contact) -> Person:
    idents = list(
        (
            await s.execute(
                select(ContactIdentity)
                .where(ContactIdentity.contact_id == contact.id)
                .order_by(ContactIdentity.id)
            )
        ).scalars()
    )
    visitor_ids = [i.visitor_id for i in idents if i.visitor_id is not None]
    addresses = {i.value for i in idents if i.kind == "email"}
    if visitor_ids:
        emails = await s.execute(
            select(Visitor.email).where(Visitor.id.in_(visitor_ids), Visitor.email.is_not(None))
        )
        addresses |= {e.strip().lower() for e in emails.scalars() if e}
    conv_ids = (
        list(
            (
                await s.execute(
                    select(Conversation.id)
                    .where(Conversation.visitor_id.in_(visitor_ids))
                    .order_by(Conversation.id)
                )
            ).scalars()
        )
        if visitor_ids
        else []
    )
    conds: list[ColumnElement[bool]] = []
    if conv_ids:
        conds.append(InboundMail.conversation_id.in_(conv_ids))
    if addresses:
        conds.append(
            (InboundMail.site_id == contact.site_id)
            & func.lower(InboundMail.sender).in_(sorted(addresses))
        )
    mail_ids = (
        list(
            (
                await s.execute(select(InboundMail.id).where(or_(*conds)).order_by(InboundMail.id))
            ).scalars()
        )
        if conds
        else []
    )
    return Person(contact, idents, visitor_ids, conv_ids, sorted(addresses), mail_ids)
