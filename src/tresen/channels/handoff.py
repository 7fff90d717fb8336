"""Moving a web chat to WhatsApp without repeating oneself: the widget shows a ``wa.me`` link
(and its QR code, an SVG made by segno) whose prefilled text carries a signed reference to the
conversation. When a WhatsApp message with that reference arrives on the site's number, the
conversation continues there with its history (``messaging_receive._thread``)."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from urllib.parse import quote

import segno

REF_RE = re.compile(r"\bref:(\d{1,12})-([0-9a-f]{12})\b")


def _mac(secret: str, conversation_id: int) -> str:
    digest = hmac.new(secret.encode(), f"wa-handoff:{conversation_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:12]


def ref_code(secret: str, conversation_id: int) -> str:
    return f"ref:{conversation_id}-{_mac(secret, conversation_id)}"


def find_ref(secret: str, text: str) -> int | None:
    """The conversation a signed reference in ``text`` names, if we signed it."""
    for conv, mac in REF_RE.findall(text or ""):
        if hmac.compare_digest(_mac(secret, int(conv)), mac):
            return int(conv)
    return None


def wa_link(phone: str, secret: str, conversation_id: int, text: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    message = f"{text} ({ref_code(secret, conversation_id)})"
    return f"https://wa.me/{digits}?text={quote(message)}"


def qr_svg(data: str) -> str:
    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue().decode()
