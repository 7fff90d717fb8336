"""The transcript of a chat by email: the visitor asks for it at the end of the chat (the widget),
or an agent sends it from the console. It goes out through the site's email channel like every
mail: an outbox row (``payload.kind = "transcript"``) written in one transaction with an
internal note that records it ("Transcript by email to ..."), delivered by the ``OutboxWorker``
(``channels/transcript_mail.py`` composes it), its state (sent, retry, failed) shown on that note
in the console (``MessageDeliveryChanged``).

The address: the one typed (checked like every address), else the one the customer left or the
known contact's. Limited per visitor, per client IP and per conversation, so the widget cannot
be used to send mail to strangers in bulk."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tresen.channels.email import recipient
from tresen.channels.mailbox import check_address
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.sent import message_created
from tresen.conversations.seq import store_message
from tresen.errors import Conflict, Invalid, RateLimited
from tresen.events import ConversationState, TranscriptRequested, record
from tresen.lifecycle.state import visitor_language
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Mailbox, Outbox, Visitor

KIND = "transcript"
PER_VISITOR_PER_HOUR = 3
PER_CONVERSATION_PER_HOUR = 5
PER_IP_PER_HOUR = 10


@dataclass(frozen=True)
class TranscriptQueued:
    conversation_id: int
    seq: int  # the note that records it (its delivery state is shown on it)
    to: str


def masked(address: str) -> str:
    """``a***@shop.example``: enough for a person to recognise, no more."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


async def known_address(rt: Runtime, who: Principal, conversation_id: int) -> str | None:
    """The address a transcript of ``conversation_id`` goes to when none is typed: the one the
    customer left, else the contact's (identified, or given earlier). The widget prefills its
    form with it; only the conversation's own visitor (or an agent who sees it) is told."""
    async with rt.db.read() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        return recipient(conv, await s.get(Visitor, conv.visitor_id)) or None


async def check_mail_transcript(
    rt: Runtime,
    who: Principal,
    conversation_id: int,
    email: str | None = None,
    *,
    client_ip: str | None = None,
) -> TranscriptQueued:
    """Queue the transcript of ``conversation_id`` for ``email`` (or the known address)."""
    typed = (email or "").strip()
    to = check_address(typed) if typed else None
    if who.kind not in ("visitor", "agent"):
        raise Invalid("only the visitor or an agent asks for a transcript", code="not_allowed")
    limits = [(f"transcript:c:{conversation_id}", PER_CONVERSATION_PER_HOUR)]
    if who.kind == "visitor":
        limits.append((f"transcript:v:{who.id}", PER_VISITOR_PER_HOUR))
        if client_ip:
            limits.append((f"transcript:ip:{client_ip}", PER_IP_PER_HOUR))
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        if who.kind == "visitor" and conv.status != "resolved":
            raise Conflict("the chat has not ended yet", code="not_ended")
        if await s.scalar(select(Mailbox.id).where(Mailbox.site_id == conv.site_id)) is None:
            raise Conflict("this site sends no email (no mailbox)", code="no_mailbox")
        if to is None:
            known = recipient(conv, await s.get(Visitor, conv.visitor_id))
            if not known:
                raise Invalid("enter an email address", code="no_address")
            to = check_address(known)
        for key, limit in limits:
            if not await rt.limiter.hit(key, limit, 3600):
                raise RateLimited(
                    "too many transcripts asked for; try again later", code="too_many_transcripts"
                )
        lang = await visitor_language(s, conv)
        upto = conv.last_seq
        note = await store_message(
            s,
            conv,
            now,
            author_kind="system",
            author_id=None,
            body=f"Transcript by email to {masked(to) if who.kind == 'visitor' else to}",
            internal=True,
        )
        s.add(
            Outbox(
                channel="email",
                conversation_id=conv.id,
                message_id=note.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                payload={"kind": KIND, "to": to, "lang": lang, "upto": upto},
            )
        )
        state = ConversationState.of(conv)
        record(s, message_created(state, note, None))
        record(s, TranscriptRequested(state, note.id, note.seq, who.kind))
    return TranscriptQueued(conversation_id, note.seq, to)
