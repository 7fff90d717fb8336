"""Erasing one person (GDPR art. 17), in one transaction.

Messages of their conversations are removed or replaced by ``[erased]`` (the site's rule),
the conversations stay as anonymous shells so the report figures keep adding up; page views,
chat invitations, support codes, email originals and outgoing-mail records are deleted; visits
keep their counts but lose every address; co-browse audit entries keep who did what but lose
their detail; the visitors stay as anonymous rows (their conversations point at them); the
contact with its identities and notes is deleted. An audit entry records who erased whom.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, update

from tresen.contacts.actions import contact_for
from tresen.events import ContactErased, record
from tresen.principal import Principal
from tresen.privacy.person import person_of
from tresen.privacy.rules import ERASED, rules_of
from tresen.runtime import Runtime
from tresen.storage.audit import record_audit
from tresen.storage.models import (
    ChatInvite,
    CobrowseAudit,
    Contact,
    Conversation,
    InboundMail,
    Message,
    Outbox,
    PageView,
    RadarOffer,
    SupportCode,
    Visit,
    Visitor,
)


async def check_erase(rt: Runtime, who: Principal, contact_id: int) -> dict[str, Any]:
    now = rt.clock.now()
    async with rt.db.write() as s:
        contact = await contact_for(s, who, contact_id)
        p = await person_of(s, contact)
        rules = await rules_of(s, contact.site_id)
        convs, visitors = p.conversation_ids, p.visitor_ids
        if p.mail_ids:
            await s.execute(delete(InboundMail).where(InboundMail.id.in_(p.mail_ids)))
        if convs:
            await s.execute(delete(Outbox).where(Outbox.conversation_id.in_(convs)))
            if rules.message_erasure == "remove":
                await s.execute(delete(Message).where(Message.conversation_id.in_(convs)))
            else:
                await s.execute(
                    update(Message)
                    .where(Message.conversation_id.in_(convs))
                    .values(body=ERASED, client_msg_id=None)
                )
            await s.execute(update(Conversation).where(Conversation.id.in_(convs)).values(meta={}))
            await s.execute(
                update(CobrowseAudit)
                .where(CobrowseAudit.conversation_id.in_(convs))
                .values(detail="")
            )
        if visitors:
            for model in (PageView, ChatInvite, SupportCode):
                await s.execute(delete(model).where(model.visitor_id.in_(visitors)))
            await s.execute(
                update(Visit)
                .where(Visit.visitor_id.in_(visitors))
                .values(entry_url="", referrer="", pages=[], events=[], facts={}, policy={})
            )
            await s.execute(
                update(RadarOffer).where(RadarOffer.visitor_id.in_(visitors)).values(text="")
            )
            for vid in visitors:
                await s.execute(
                    update(Visitor)
                    .where(Visitor.id == vid)
                    .values(
                        name=None,
                        email=None,
                        external_id=None,
                        attributes={},
                        anon_id="erased:" + secrets.token_urlsafe(12),
                    )
                )
        site_id = contact.site_id
        await s.execute(delete(Contact).where(Contact.id == contact.id))
        s.expunge(contact)
        counts = {
            "visitors": len(visitors),
            "conversations": len(convs),
            "email_originals": len(p.mail_ids),
            "identities": len(p.identities),
            "messages": rules.message_erasure,
        }
        record_audit(
            s, who, "contact.erase", "contact", contact_id, now, site_id=site_id, detail=counts
        )
        record(s, ContactErased(contact_id, site_id, who.id))
    return counts
