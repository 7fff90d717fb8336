"""Reading an inbound mail: headers for threading, the text to show (quoted history and
signature stripped by ``mail-parser-reply``, HTML sanitised to text by ``nh3``), whether it is
automated (auto-reply, bounce: recorded, never routed or answered). Hostile input (broken MIME,
unknown charsets, scripts) gives a readable result or a clear refusal, never an exception."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

import nh3
from mailparser_reply import EmailReplyParser

log = logging.getLogger(__name__)
MSGID_RE = re.compile(r"<[^<>\s]{1,250}>")
BLOCK_RE = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
DROP_RE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
BULK = {"bulk", "junk", "list", "auto_reply"}
LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]


class MailRejected(Exception):
    """Refused as a whole: ``smtp_code`` tells the sending server (552 too large, 554 ...)."""

    def __init__(self, message: str, smtp_code: int = 554) -> None:
        super().__init__(message)
        self.message, self.smtp_code = message, smtp_code


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    recipients: list[str]
    in_reply_to: list[str]
    references: list[str]
    text: str  # the full text (plain, or the sanitised HTML as text)
    display: str  # what the agent reads first: the new part without quotes and signature
    automated: str | None  # auto_reply | bounce | None
    size: int
    raw: bytes = field(repr=False)


def parse_mail(raw: bytes, *, max_bytes: int) -> ParsedMail:
    if len(raw) > max_bytes:
        raise MailRejected(f"message of {len(raw)} bytes exceeds {max_bytes}", smtp_code=552)
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; this is a last resort
        raise MailRejected(f"unreadable message: {type(exc).__name__}") from None
    sender_name, sender = parseaddr(_header(msg, "From"))
    if "@" not in sender:
        sender = parseaddr(_header(msg, "Return-Path"))[1]
    text = _clean(_text(msg))
    own_ids = _ids(_header(msg, "Message-ID"))
    # Without a Message-ID, the content names it: the same mail fetched twice is one mail.
    synthetic = f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@tresen.invalid>"
    return ParsedMail(
        message_id=own_ids[0] if own_ids else synthetic,
        sender=sender.strip().lower(),
        sender_name=" ".join(sender_name.split())[:200],
        subject=" ".join(_header(msg, "Subject").split())[:500],
        recipients=[a.lower() for _, a in getaddresses(_all(msg, ("To", "Cc", "Delivered-To")))],
        in_reply_to=_ids(_header(msg, "In-Reply-To")),
        references=_ids(_header(msg, "References")),
        text=text,
        display=_latest(text),
        automated=_automated(msg, sender),
        size=len(raw),
        raw=raw,
    )


def _clean(text: str) -> str:
    """Valid Unicode without NULs, whatever the mail claimed its charset was."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the policy cannot parse
        value = msg.get_all(name, failobj=[""])[0] if hasattr(msg, "get_all") else ""
    return _clean(str(value or ""))


def _all(msg: Message, names: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for name in names:
        try:
            out.extend(str(v) for v in msg.get_all(name, []))
        except Exception:
            continue
    return out


def _ids(value: str) -> list[str]:
    """Message-IDs in a header; Outlook's broken ``In-Reply-To`` (several, or a trailing
    comment) yields every id it contains."""
    return MSGID_RE.findall(value)[:50]


def _automated(msg: Message, sender: str) -> str | None:
    ctype = msg.get_content_type()
    local = sender.partition("@")[0].lower()
    if ctype == "multipart/report" or local in ("mailer-daemon", "postmaster") or not sender:
        return "bounce"
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if _header(msg, "Precedence").strip().lower() in BULK:
        return "auto_reply"
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return "auto_reply"
    return None


def _text(msg: Message) -> str:
    plain = html_part = None
    if isinstance(msg, EmailMessage):
        try:
            plain = msg.get_body(("plain",))
            html_part = msg.get_body(("html",))
        except Exception:
            plain = html_part = None
    if plain is not None:
        return _decoded(plain).strip()
    if html_part is not None:
        return html_to_text(_decoded(html_part))
    if not msg.is_multipart() and msg.get_content_maintype() == "text":
        return _decoded(msg).strip()
    return ""


def _decoded(part: Message) -> str:
    """The part's text; a wrong or unknown charset falls back to UTF-8, then Latin-1."""
    try:
        return str(part.get_content())  # type: ignore[attr-defined]
    except Exception:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return ""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def html_to_text(markup: str) -> str:
    """Sanitised to plain text: no tags, scripts, styles or remote images survive."""
    markup = BLOCK_RE.sub("\n", DROP_RE.sub("", markup))
    cleaned = nh3.clean(markup, tags=set(), attributes={}, strip_comments=True)
    lines = (" ".join(line.split()) for line in html.unescape(cleaned).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _latest(text: str) -> str:
    if not text:
        return ""
    try:
        reply = EmailReplyParser(languages=LANGUAGES).read(text)
        first = reply.replies[0].body if reply.replies else ""
        return (first or reply.latest_reply or text).strip() or text
    except Exception:
        log.warning("could not strip quotes from a mail; showing it whole", exc_info=True)
        return text
