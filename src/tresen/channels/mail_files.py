"""The files of a customer's mail, shown in the console (docs/attachments.md): read from the
stored original (``inbound_mails.raw``) when an agent asks, never stored a second time. At most
``MAX_PARTS`` per mail are listed; a file is offered only up to ``TRESEN_ATTACHMENT_MAX_BYTES``
(the whole mail is already capped by ``TRESEN_EMAIL_MAX_BYTES``). The type shown is read from
the bytes (``conversations/files.py``), not from what the mail claims: an image is previewed
only if it is one, anything else is downloaded as bytes, served like every file (nosniff, a
sandbox, ``Content-Disposition``)."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from tresen.auth.deps import RT, AgentDep
from tresen.conversations.files import safe_name, serve_headers, sniff
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import NotFound
from tresen.storage.models import InboundMail, Message

router = APIRouter(tags=["mail files"])
MAX_PARTS = 20


@dataclass(frozen=True)
class MailFile:
    index: int
    name: str
    type: str  # what the bytes are, or application/octet-stream
    size: int
    data: bytes


def mail_files(raw: bytes, limit: int) -> list[MailFile]:
    """The attachments of a stored mail (broken MIME: none, never an error)."""
    try:
        msg = BytesParser(policy=email.policy.default).parsebytes(raw)
        if not isinstance(msg, EmailMessage) or not msg.is_multipart():
            return []
        parts = list(msg.iter_attachments())
    except Exception:  # a malformed mail is shown without files
        return []
    out: list[MailFile] = []
    for i, part in enumerate(parts[:MAX_PARTS]):
        try:
            data = part.get_payload(decode=True)
        except Exception:
            continue
        if not isinstance(data, bytes) or not data or len(data) > limit:
            continue
        mime = sniff(data) or "application/octet-stream"
        name = part.get_filename() or f"attachment-{i + 1}"
        clean = safe_name(name, mime) if mime != "application/octet-stream" else _plain(name)
        out.append(MailFile(i, clean, mime, len(data), data))
    return out


def _plain(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isalnum() or c in "._- ")[:120].strip(" .") or "file"


@router.get("/api/conversations/{conversation_id}/mail-files")
async def get_mail_files(conversation_id: int, rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    """Every file of the customer's mails in the conversation, by the message they came with."""
    async with rt.db.read() as s:
        await access_conversation_by_id(s, who, conversation_id)
        rows = (
            await s.execute(
                select(InboundMail.id, InboundMail.raw, Message.seq)
                .join(Message, Message.id == InboundMail.message_id)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
        ).all()
    limit = rt.settings.attachment_max_bytes
    return [
        {
            "seq": seq,
            "mail_id": mail_id,
            "index": f.index,
            "name": f.name,
            "type": f.type,
            "size": f.size,
        }
        for mail_id, raw, seq in rows
        for f in mail_files(raw, limit)
    ]


@router.get("/api/mail-files/{mail_id}/{index}")
async def get_mail_file(mail_id: int, index: int, rt: RT, who: AgentDep) -> Response:
    async with rt.db.read() as s:
        mail = await s.get(InboundMail, mail_id)
        if mail is None or mail.conversation_id is None:
            raise NotFound("no such file", code="no_media")
        await access_conversation_by_id(s, who, mail.conversation_id)
    found = [f for f in mail_files(mail.raw, rt.settings.attachment_max_bytes) if f.index == index]
    if not found:
        raise NotFound("no such file", code="no_media")
    media_type, headers = serve_headers(found[0].type, found[0].name)
    return Response(found[0].data, media_type=media_type, headers=headers)
