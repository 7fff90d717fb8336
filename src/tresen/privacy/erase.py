"""Erasing one person (GDPR art. 17), in one transaction.

Messages of their conversations are removed or replaced by ``[erased]`` (the site's rule),
the conversations stay as anonymous shells so the report figures keep adding up; page views,
chat invitations, support codes, email originals and outgoing-mail records are deleted; visits
keep their counts but lose every address; co-browse audit entries keep who did what but lose
their detail; the visitors stay as anonymous rows (their conversations point at them); the
contact with its identities and notes is deleted. An audit entry records who erased whom.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.actions import contact_for
from tresen.events import ContactErased, record
from tresen.principal import Principal
from tresen.privacy.person import person_of
from tresen.privacy.rules import ERASED, rules_of
from tresen.runtime import Runtime
from tresen.storage.audit import record_audit
from tresen.storage.models import (
    Callback,
    ChannelEvent,
    ChannelMedia,
    ChatInvite,
    CobrowseAudit,
    Contact,
    Conversation,
    InboundMail,
    Message,
    Outbox,
    PageView,
    RadarOffer,
    Rating,
    SupportCode,
    Visit,
    Visitor,
    WebhookDelivery,
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
                    .values(body=ERASED, client_msg_id=None, attachments=None)
                )
            await s.execute(update(Conversation).where(Conversation.id.in_(convs)).values(meta={}))
            # what other parts keep of the conversations: numbers, platform ids, files, comments
            for kept in (Callback, ChannelEvent, ChannelMedia):
                await s.execute(delete(kept).where(kept.conversation_id.in_(convs)))
            await s.execute(
                update(Rating).where(Rating.conversation_id.in_(convs)).values(comment="")
            )
            await s.execute(
                update(CobrowseAudit)
                .where(CobrowseAudit.conversation_id.in_(convs))
                .values(detail="")
            )
        await _webhook_bodies(s, set(visitors), contact.id)
        if visitors:
            await s.execute(delete(Callback).where(Callback.visitor_id.in_(visitors)))
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


async def _webhook_bodies(s: AsyncSession, visitors: set[int], contact_id: int) -> None:
    """Webhook deliveries kept for their log carry the events' bodies (messages, names): those
    about this person go. Found by a cheap text match, confirmed on the parsed body."""
    needles = [f'"visitor_id":{v}' for v in visitors] + [f'"contact_id":{contact_id}']
    if not needles:
        return
    rows = await s.execute(
        select(WebhookDelivery.id, WebhookDelivery.body).where(
            or_(*(WebhookDelivery.body.contains(n) for n in needles))
        )
    )
    doomed = [i for i, body in rows.all() if _mentions(_json(body), visitors, contact_id)]
    if doomed:
        await s.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(doomed)))


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _mentions(value: Any, visitors: set[int], contact_id: int) -> bool:
    if isinstance(value, dict):
        if value.get("visitor_id") in visitors or value.get("contact_id") == contact_id:
            return True
        return any(_mentions(v, visitors, contact_id) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, visitors, contact_id) for v in value)
    return False
