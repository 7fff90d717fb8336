"""The transcript of a chat as a mail (``lifecycle/transcript.py`` queues it): every public message
up to the request, with who wrote it and when, in the visitor's language; plain text with an HTML
alternative in which every message is escaped (nobody's HTML is ever passed on). Threaded like a
reply (``Message-ID`` from the note that records it, ``In-Reply-To``/``References`` the
conversation's earlier mails, the signed ``Reply-To`` and subject tag), so an answer to it
continues the same conversation."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.channels.email_out import capped_references
from tresen.storage.models import Agent, Message

TEXTS: dict[str, dict[str, str]] = {
    "subject": {
        "de": "Ihr Chat mit {site} vom {date}",
        "en": "Your chat with {site} on {date}",
        "da": "Din chat med {site} den {date}",
    },
    "intro": {
        "de": "Hier ist der Verlauf Ihres Chats mit {site} (Zeiten in UTC).",
        "en": "Here is the transcript of your chat with {site} (times in UTC).",
        "da": "Her er forløbet af din chat med {site} (tider i UTC).",
    },
    "outro": {
        "de": "Antworten Sie einfach auf diese E-Mail, wenn Sie noch Fragen haben.",
        "en": "Just answer this email if you have any more questions.",
        "da": "Svar blot på denne e-mail, hvis du har flere spørgsmål.",
    },
    "you": {"de": "Sie", "en": "You", "da": "Dig"},
}


def text(key: str, lang: str, **values: str) -> str:
    return TEXTS[key].get(lang, TEXTS[key]["en"]).format(**values)


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    body: str
    mine: bool  # written by the visitor


async def transcript_lines(
    s: AsyncSession, conversation_id: int, upto: int, lang: str, site_name: str
) -> list[Line]:
    """The public messages of the conversation up to ``upto``, with their authors' names."""
    rows = list(
        (
            await s.execute(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.seq <= upto,
                    Message.internal.is_(False),
                )
                .order_by(Message.seq)
            )
        ).scalars()
    )
    agent_ids = {m.author_id for m in rows if m.author_kind == "agent" and m.author_id}
    names: dict[int, str] = {}
    if agent_ids:
        found = await s.execute(select(Agent.id, Agent.display_name).where(Agent.id.in_(agent_ids)))
        names = {int(i): str(n) for i, n in found.all()}
    you = text("you", lang)
    lines = []
    for m in rows:
        if m.author_kind == "visitor":
            who = you
        elif m.author_kind == "agent":
            who = names.get(m.author_id or 0, site_name)
        else:
            who = site_name
        lines.append(Line(m.created_at, who, m.body, m.author_kind == "visitor"))
    return lines


@dataclass(frozen=True)
class TranscriptMail:
    from_address: str
    from_name: str
    to: str
    site_name: str
    lang: str
    lines: list[Line]
    message_id: str
    in_reply_to: str | None
    references: list[str]
    reply_to: str
    tag: str  # the signed subject tag's token


def compose_transcript(mail: TranscriptMail, *, date: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((_one_line(mail.from_name), mail.from_address))
    msg["To"] = Address(addr_spec=mail.to)
    msg["Reply-To"] = mail.reply_to
    day = (mail.lines[0].at if mail.lines else date).strftime("%Y-%m-%d")
    subject = text("subject", mail.lang, site=mail.site_name, date=day)
    msg["Subject"] = _one_line(f"{subject} [#{mail.tag}]")
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(date)
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    refs = capped_references(mail.references)
    if refs:
        msg["References"] = " ".join(refs)
    msg["Auto-Submitted"] = "no"  # asked for by the customer, not an automatic answer
    msg["Content-Language"] = mail.lang
    msg.set_content(_plain(mail))
    msg.add_alternative(_html(mail), subtype="html")
    return msg


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _plain(mail: TranscriptMail) -> str:
    parts = [text("intro", mail.lang, site=mail.site_name), ""]
    for line in mail.lines:
        parts.append(f"[{_stamp(line.at)}] {line.who}:")
        parts.extend(f"  {row}" for row in line.body.replace("\r\n", "\n").split("\n"))
        parts.append("")
    parts.append(text("outro", mail.lang))
    return "\n".join(parts) + "\n"


def _html(mail: TranscriptMail) -> str:
    esc = html.escape
    rows = "".join(
        '<tr><td style="color:#555;white-space:nowrap;vertical-align:top;padding:4px 8px">'
        f"{esc(_stamp(line.at))}</td>"
        f'<td style="vertical-align:top;padding:4px 8px"><strong>{esc(line.who)}</strong><br>'
        f"{esc(line.body).replace(chr(10), '<br>')}</td></tr>"
        for line in mail.lines
    )
    return (
        f'<!doctype html><html lang="{esc(mail.lang)}"><body style="font-family:sans-serif">'
        f"<p>{esc(text('intro', mail.lang, site=mail.site_name))}</p>"
        f'<table style="border-collapse:collapse">{rows}</table>'
        f"<p>{esc(text('outro', mail.lang))}</p></body></html>"
    )


def _one_line(value: str) -> str:
    return " ".join(value.split())[:300]
