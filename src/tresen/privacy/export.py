"""Everything about one person (GDPR art. 15 and 20) as one zip archive: ``person.json`` (the
contact, identities, notes, visitors, visits, page views, conversations with every message,
offers, co-browse sessions and their audit, invitations, email records, files), each email
original as ``email/<id>.eml`` and each file sent in the conversations as ``files/<id>-<name>``."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.queries import contact_detail
from tresen.privacy.person import Person
from tresen.storage.models import (
    Base,
    ChannelMedia,
    ChatInvite,
    CobrowseAudit,
    CobrowseSession,
    Conversation,
    InboundMail,
    Message,
    Outbox,
    PageView,
    RadarOffer,
    Visit,
    Visitor,
)


def row_dict(row: Base, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in row.__table__.columns:  # type: ignore[attr-defined]
        if col.key in skip:
            continue
        value = getattr(row, col.key)
        out[col.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


async def _rows(s: AsyncSession, model: Any, column: Any, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    return list(
        (await s.execute(select(model).where(column.in_(ids)).order_by(model.id))).scalars()
    )


async def person_document(s: AsyncSession, p: Person, now: datetime) -> dict[str, Any]:
    convs, visitors = p.conversation_ids, p.visitor_ids
    messages = await _rows(s, Message, Message.conversation_id, convs)
    by_conv: dict[int, list[dict[str, Any]]] = {c: [] for c in convs}
    for m in messages:
        by_conv[m.conversation_id].append(row_dict(m))
    conversations = [
        {**row_dict(c), "messages": by_conv[c.id]}
        for c in await _rows(s, Conversation, Conversation.id, convs)
    ]
    mails = await _rows(s, InboundMail, InboundMail.id, p.mail_ids)
    return {
        "exported_at": now.isoformat(),
        "contact": await contact_detail(s, p.contact),
        "visitors": [row_dict(v) for v in await _rows(s, Visitor, Visitor.id, visitors)],
        "visits": [row_dict(v) for v in await _rows(s, Visit, Visit.visitor_id, visitors)],
        "page_views": [
            row_dict(v) for v in await _rows(s, PageView, PageView.visitor_id, visitors)
        ],
        "conversations": conversations,
        "offers": [
            row_dict(o) for o in await _rows(s, RadarOffer, RadarOffer.visitor_id, visitors)
        ],
        "cobrowse_sessions": [
            row_dict(c)
            for c in await _rows(s, CobrowseSession, CobrowseSession.visitor_id, visitors)
        ],
        "cobrowse_audit": [
            row_dict(a) for a in await _rows(s, CobrowseAudit, CobrowseAudit.conversation_id, convs)
        ],
        "chat_invites": [
            row_dict(i, skip=("nonce",))
            for i in await _rows(s, ChatInvite, ChatInvite.visitor_id, visitors)
        ],
        "emails_received": [
            {**row_dict(m, skip=("raw",)), "original": f"email/{m.id}.eml"} for m in mails
        ],
        "emails_sent": [row_dict(o) for o in await _rows(s, Outbox, Outbox.conversation_id, convs)],
        "files": [
            {**row_dict(f, skip=("data",)), "file": _file_path(f)}
            for f in await _rows(s, ChannelMedia, ChannelMedia.conversation_id, convs)
        ],
    }


def _file_path(f: ChannelMedia) -> str:
    return f"files/{f.id}-{f.filename or 'file'}"


async def person_archive(s: AsyncSession, p: Person, now: datetime) -> bytes:
    doc = await person_document(s, p, now)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("person.json", json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        for m in await _rows(s, InboundMail, InboundMail.id, p.mail_ids):
            z.writestr(f"email/{m.id}.eml", m.raw)
        # images and files sent in the conversations, by the person or to them
        for f in await _rows(s, ChannelMedia, ChannelMedia.conversation_id, p.conversation_ids):
            z.writestr(_file_path(f), f.data)
    return out.getvalue()
