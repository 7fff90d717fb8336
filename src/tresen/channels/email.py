"""The email channel's outbound adapter: an outbox item becomes a mail from the site's mailbox
to the customer, threaded onto what came before in the conversation."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.channels.base import DeliveryError, NothingToSend
from tresen.channels.email_out import (
    Reply,
    compose,
    message_id,
    reply_address,
    reply_subject,
    thread_token,
)
from tresen.channels.followup import unread_replies
from tresen.channels.mailbox import check_address, find_mailbox, smtp_config
from tresen.channels.smtp_client import send_mail
from tresen.channels.transcript_mail import TranscriptMail, compose_transcript, transcript_lines
from tresen.conversations.files import message_files
from tresen.errors import Invalid
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretUnreadable
from tresen.storage.models import (
    Agent,
    Conversation,
    InboundMail,
    Mailbox,
    Message,
    Outbox,
    Site,
    Visitor,
)
from tresen.storage.outbox import LIVE_DELAY

NAME = "email"


def recipient(conv: Conversation, visitor: Visitor | None) -> str | None:
    """Where replies go: the address the customer left (or wrote from), else their profile's."""
    meta = conv.meta or {}
    return str(meta.get("reply_to") or "") or (visitor.email if visitor else None)


async def thread_ids(s: AsyncSession, conversation_id: int, before_seq: int) -> list[str]:
    """The Message-IDs of the conversation's mails so far, in message order."""
    inbound = (
        select(Message.seq, InboundMail.rfc_message_id)
        .join(InboundMail, InboundMail.message_id == Message.id)
        .where(Message.conversation_id == conversation_id, Message.seq < before_seq)
    )
    outbound = (
        select(Message.seq, Outbox.external_id)
        .join(Outbox, Outbox.message_id == Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.seq < before_seq,
            Outbox.external_id.is_not(None),
        )
    )
    rows = [*(await s.execute(inbound)).all(), *(await s.execute(outbound)).all()]
    return [str(rfc_id) for _, rfc_id in sorted(rows, key=lambda r: r[0])]


class EmailChannel:
    name = NAME

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def deliver(self, item: Outbox) -> str:
        if (item.payload or {}).get("kind") == "transcript":
            transcript, box = await self._transcript(item)
            msg = compose_transcript(transcript, date=self.rt.clock.now())
            await self._send(box, msg)
            return transcript.message_id
        reply, box = await self._reply(item)
        await self._send(box, compose(reply, date=self.rt.clock.now()))
        return reply.message_id

    async def _send(self, box: Mailbox, msg: EmailMessage) -> None:
        try:
            conf = smtp_config(self.rt, box)
        except SecretUnreadable as exc:
            raise DeliveryError(f"SMTP password: {exc}; enter it again", permanent=True) from None
        settings = self.rt.settings
        await send_mail(conf, msg, settings.smtp_timeout_seconds, settings.mail_ca_file)

    async def _transcript(self, item: Outbox) -> tuple[TranscriptMail, Mailbox]:
        """The transcript a visitor or an agent asked for (``lifecycle/transcript.py``)."""
        payload = item.payload or {}
        secret = self.rt.settings.secret_key
        lang = str(payload.get("lang") or "en")
        async with self.rt.db.read() as s:
            conv, note, box = await _of_outbox(s, item, "the conversation is gone")
            site = await s.get(Site, conv.site_id)
            site_name = site.name if site else "us"
            upto = int(payload.get("upto") or note.seq - 1)
            lines = await transcript_lines(s, conv.id, upto, lang, box.from_name or site_name)
            refs = await thread_ids(s, conv.id, note.seq)
        try:
            to = check_address(str(payload.get("to") or ""))
        except Invalid:
            raise DeliveryError("not an email address", permanent=True) from None
        token = thread_token(secret, conv.id)
        domain = box.from_address.rpartition("@")[2]
        mail = TranscriptMail(
            from_address=box.from_address,
            from_name=box.from_name or site_name,
            to=to,
            site_name=site_name,
            lang=lang,
            lines=lines,
            message_id=message_id(secret, conv.id, note.seq, domain),
            in_reply_to=refs[-1] if refs else None,
            references=refs,
            reply_to=reply_address(box.from_address, token),
            tag=token,
        )
        return mail, box

    async def _reply(self, item: Outbox) -> tuple[Reply, Mailbox]:
        secret = self.rt.settings.secret_key
        async with self.rt.db.read() as s:
            conv, msg, box = await _of_outbox(s, item, "the message is gone")
            site = await s.get(Site, conv.site_id)
            agent = await s.get(Agent, msg.author_id) if msg.author_id else None
            to = recipient(conv, await s.get(Visitor, conv.visitor_id))
            refs = await thread_ids(s, conv.id, msg.seq)
            body = await _body(s, conv, msg)
            files = tuple(
                (f.filename, f.content_type, f.data) for f in await message_files(s, msg.id)
            )
        if not to:
            raise DeliveryError("the customer left no email address", permanent=True)
        try:
            to = check_address(to)
        except Invalid:
            raise DeliveryError(f"not an email address: {to!r}", permanent=True) from None
        token = thread_token(secret, conv.id)
        domain = box.from_address.rpartition("@")[2]
        site_name = site.name if site else "us"
        reply = Reply(
            from_address=box.from_address,
            from_name=box.from_name or site_name,
            agent_name=agent.display_name if agent else site_name,
            to=to,
            subject=reply_subject(
                (conv.meta or {}).get("email_subject"),
                f"Your {'chat with' if conv.channel == 'web' else 'message to'} {site_name}",
                token,
            ),
            body=body,
            message_id=message_id(secret, conv.id, msg.seq, domain),
            in_reply_to=refs[-1] if refs else None,
            references=refs,
            reply_to=reply_address(box.from_address, token),
            files=files,
        )
        return reply, box


async def _of_outbox(
    s: AsyncSession, item: Outbox, gone: str
) -> tuple[Conversation, Message, Mailbox]:
    """An outbox item's conversation, message and the site's mailbox; ``gone`` if either row
    was deleted (both errors are permanent: a retry would not find them)."""
    conv = await s.get(Conversation, item.conversation_id)
    msg = await s.get(Message, item.message_id)
    if conv is None or msg is None:
        raise DeliveryError(gone, permanent=True)
    box = await find_mailbox(s, conv.site_id)
    if box is None:
        raise DeliveryError("the site has no mailbox configured", permanent=True)
    return conv, msg, box


async def _body(s: AsyncSession, conv: Conversation, msg: Message) -> str:
    """The reply itself; for a follow-up of a chat (the visitor left it unread), every reply
    still unread, with a line on how to answer. Raises ``NothingToSend`` if all were read."""
    if conv.channel != "web":
        if (conv.meta or {}).get(LIVE_DELAY) and msg.seq <= conv.visitor_read_seq:
            raise NothingToSend  # they chat live (a chat link) and read it there
        return msg.body
    unread = await unread_replies(s, conv, msg)
    if not unread:
        raise NothingToSend
    parts = [m.body for m in unread]
    return "\n\n".join(
        [
            "You left the chat before reading our reply:",
            *parts,
            "Answer this email to continue the conversation.",
        ]
    )
