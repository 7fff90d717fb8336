"""Receiving a mail for a site (from the SMTP listener or IMAP): recorded once by its
Message-ID, threaded onto the customer's conversation, or a new email conversation for routing's
email work. Automated mail (auto-replies, bounces), our own mail coming back (a loop) and a
sender over the hourly limit are recorded but never routed, so nothing answers them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.channels.email_in import ParsedMail, parse_mail
from tresen.channels.email_out import TAG_RE, token_conversation
from tresen.channels.mailbox import find_mailbox
from tresen.conversations.inbound import do_receive_message
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, InboundMail, Mailbox, Outbox, Visitor
from tresen.visitors.contacts import do_find_or_create_contact

TRUNCATED = "\n\n[… shortened; the full mail is kept]"


@dataclass(frozen=True)
class Receipt:
    outcome: str  # stored | duplicate | auto_reply | bounce | loop | rate_limited
    conversation_id: int | None = None
    message_id: int | None = None


async def check_receive_mail(
    rt: Runtime, site_id: int, raw: bytes, *, envelope_to: list[str] | None = None
) -> Receipt:
    """Raises ``MailRejected`` for a mail refused as a whole (too large, unreadable)."""
    mail = parse_mail(raw, max_bytes=rt.settings.email_max_bytes)
    mail.recipients = [*(a.lower() for a in envelope_to or []), *mail.recipients]
    now = rt.clock.now()
    async with rt.db.write() as s:
        seen = (
            await s.execute(
                select(InboundMail).where(
                    InboundMail.site_id == site_id, InboundMail.rfc_message_id == mail.message_id
                )
            )
        ).scalar_one_or_none()
        if seen is not None:
            return Receipt("duplicate", seen.conversation_id, seen.message_id)
        outcome = await _unrouted(s, rt, site_id, mail)
        if outcome is not None:
            s.add(_record(site_id, mail, outcome, now))
            return Receipt(outcome)
        conv = await find_thread(s, rt.settings.secret_key, site_id, mail)
        if conv is None:
            contact = await do_find_or_create_contact(
                s, site_id, mail.sender, mail.sender_name, now
            )
        visitor_id = conv.visitor_id if conv is not None else contact.id
        conv, msg = await do_receive_message(
            s,
            site_id=site_id,
            visitor_id=visitor_id,
            conversation=conv,
            channel="email",
            body=_body(mail, rt.settings.max_message_chars),
            client_msg_id="mail:" + hashlib.sha256(mail.message_id.encode()).hexdigest()[:40],
            author_name=mail.sender_name or None,
            meta={"reply_to": mail.sender, "email_subject": mail.subject},
            now=now,
        )
        row = _record(site_id, mail, "stored", now)
        row.conversation_id, row.message_id = conv.id, msg.id
        s.add(row)
    return Receipt("stored", conv.id, msg.id)


async def _unrouted(s: AsyncSession, rt: Runtime, site_id: int, mail: ParsedMail) -> str | None:
    if mail.automated:
        return mail.automated
    box: Mailbox | None = await find_mailbox(s, site_id)
    own = box.from_address.lower() if box else None
    if own and (mail.sender == own or mail.message_id.startswith("<tresen.")):
        return "loop"
    since = rt.clock.now() - timedelta(hours=1)
    recent = (
        await s.execute(
            select(func.count()).where(
                InboundMail.site_id == site_id,
                InboundMail.sender == mail.sender,
                InboundMail.received_at >= since,
            )
        )
    ).scalar_one()
    return "rate_limited" if recent >= rt.settings.email_per_sender_per_hour else None


async def find_thread(
    s: AsyncSession, secret: str, site_id: int, mail: ParsedMail
) -> Conversation | None:
    """Headers first (``In-Reply-To``, then ``References`` newest first), then the signed
    ``reply+<token>@`` address, then the signed subject tag: always only a conversation of the
    same site and the same contact, so a forged header cannot attach to someone else's."""
    for conv_id in [
        *await _by_headers(s, site_id, [*mail.in_reply_to, *reversed(mail.references)]),
        *_by_tokens(secret, mail),
    ]:
        conv = await s.get(Conversation, conv_id)
        if conv is not None and conv.site_id == site_id and await _same_contact(s, conv, mail):
            return conv
    return None


async def _by_headers(s: AsyncSession, site_id: int, ids: list[str]) -> list[int]:
    if not ids:
        return []
    sent = await s.execute(
        select(Outbox.external_id, Outbox.conversation_id).where(Outbox.external_id.in_(ids))
    )
    got = await s.execute(
        select(InboundMail.rfc_message_id, InboundMail.conversation_id).where(
            InboundMail.site_id == site_id,
            InboundMail.rfc_message_id.in_(ids),
            InboundMail.conversation_id.is_not(None),
        )
    )
    found = {rfc: conv for rfc, conv in [*sent.all(), *got.all()] if conv is not None}
    return [found[i] for i in ids if i in found]


def _by_tokens(secret: str, mail: ParsedMail) -> list[int]:
    out: list[int] = []
    for address in mail.recipients:
        local = address.partition("@")[0]
        if "+" in local and (conv := token_conversation(secret, local.split("+", 1)[1])):
            out.append(conv)
    for conv_id, mac in TAG_RE.findall(mail.subject):
        if conv := token_conversation(secret, f"{conv_id}-{mac}"):
            out.append(conv)
    return out


async def _same_contact(s: AsyncSession, conv: Conversation, mail: ParsedMail) -> bool:
    if str((conv.meta or {}).get("reply_to", "")).lower() == mail.sender:
        return True
    visitor = await s.get(Visitor, conv.visitor_id)
    return bool(visitor and visitor.email and visitor.email.lower() == mail.sender)


def _body(mail: ParsedMail, limit: int) -> str:
    text = (mail.display or mail.text or "(no text; see the original mail)").replace("\x00", "")
    if len(text) > limit:
        text = text[: limit - len(TRUNCATED)] + TRUNCATED
    return text


def _record(site_id: int, mail: ParsedMail, outcome: str, now: datetime) -> InboundMail:
    return InboundMail(
        site_id=site_id,
        rfc_message_id=mail.message_id[:255],
        sender=mail.sender[:320],
        subject=mail.subject[:500],
        outcome=outcome,
        size=mail.size,
        raw=mail.raw,
        received_at=now,
    )


async def do_record_rejected(rt: Runtime, site_id: int, reference: str, size: int) -> None:
    """A mail refused as a whole (too large) that cannot be refused to its sender (it came by
    IMAP): recorded by ``reference`` (mailbox and UID), so it shows and is not fetched again."""
    async with rt.db.write() as s:
        rfc_id = f"<rejected.{reference}@tresen.invalid>"
        exists = await s.execute(
            select(InboundMail.id).where(
                InboundMail.site_id == site_id, InboundMail.rfc_message_id == rfc_id
            )
        )
        if exists.scalar_one_or_none() is None:
            s.add(
                InboundMail(
                    site_id=site_id,
                    rfc_message_id=rfc_id,
                    sender="",
                    outcome="rejected",
                    size=size,
                    raw=b"",
                    received_at=rt.clock.now(),
                )
            )
