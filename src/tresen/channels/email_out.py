"""Composing an agent's reply as a mail: plain text with an HTML alternative (the body escaped,
never the customer's or anyone's raw HTML), the agent's name, and the headers every mail client
threads by (``Message-ID``, ``In-Reply-To``, ``References``). Also the signed tokens a reply
carries back (``reply+<token>@`` and a subject tag), so a reply without usable headers still
finds its conversation, and the Message-IDs, stable per message so a repeat is recognisable."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

MAX_REFERENCES = 20
TAG_RE = re.compile(r"\[#(\d{1,12})-([0-9a-f]{10})\]")
RE_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|fwd?|wg)\s*:\s*)+", re.IGNORECASE)


def _mac(secret: str, purpose: str, value: str, size: int = 10) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:size]


def thread_token(secret: str, conversation_id: int) -> str:
    return f"{conversation_id}-{_mac(secret, 'email-thread', str(conversation_id))}"


def token_conversation(secret: str, token: str) -> int | None:
    """The conversation a token names, if it was signed by us."""
    conv, _, mac = token.partition("-")
    if not conv.isdigit() or len(conv) > 12:
        return None
    good = _mac(secret, "email-thread", conv)
    return int(conv) if hmac.compare_digest(good, mac.lower()) else None


def message_id(secret: str, conversation_id: int, seq: int, domain: str) -> str:
    mac = _mac(secret, "email-message-id", f"{conversation_id}.{seq}", 12)
    return f"<tresen.{conversation_id}.{seq}.{mac}@{domain}>"


def reply_address(address: str, token: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def reply_subject(subject: str | None, fallback: str, token: str) -> str:
    base = RE_PREFIX.sub("", TAG_RE.sub("", subject or "")).strip() or fallback
    return f"Re: {base} [#{token}]"


@dataclass(frozen=True)
class Reply:
    from_address: str
    from_name: str
    agent_name: str
    to: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None
    references: list[str]
    reply_to: str
    files: tuple[tuple[str, str, bytes], ...] = ()  # (name, type, bytes) attached by the agent


def compose(reply: Reply, *, date: object) -> EmailMessage:
    msg = EmailMessage()
    sender = reply.agent_name if not reply.from_name else f"{reply.agent_name} | {reply.from_name}"
    msg["From"] = formataddr((_one_line(sender), reply.from_address))
    msg["To"] = Address(addr_spec=reply.to)
    msg["Reply-To"] = reply.reply_to
    msg["Subject"] = _one_line(reply.subject)
    msg["Message-ID"] = reply.message_id
    msg["Date"] = format_datetime(date)  # type: ignore[arg-type]
    if reply.in_reply_to:
        msg["In-Reply-To"] = reply.in_reply_to
    refs = capped_references(reply.references)
    if refs:
        msg["References"] = " ".join(refs)
    msg["Auto-Submitted"] = "no"  # written by a person (RFC 3834)
    msg.set_content(f"{reply.body}\n\n-- \n{reply.agent_name}\n{reply.from_name}\n".rstrip() + "\n")
    msg.add_alternative(_html(reply), subtype="html")
    for name, ctype, data in reply.files:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def _html(reply: Reply) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
        for p in reply.body.replace("\r\n", "\n").split("\n\n")
    )
    sign = html.escape(reply.agent_name)
    team = f"<br>{html.escape(reply.from_name)}" if reply.from_name else ""
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f"{paragraphs}<p>-- <br>{sign}{team}</p></body></html>"
    )


def capped_references(refs: list[str]) -> list[str]:
    """The first (the thread's root) and the newest ones: clients thread on either end."""
    refs = list(dict.fromkeys(r for r in refs if r))
    return refs if len(refs) <= MAX_REFERENCES else [refs[0], *refs[-(MAX_REFERENCES - 1) :]]


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
