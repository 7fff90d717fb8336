"""Identity values as stored: validated and normalised per kind."""

from __future__ import annotations

import re

from tresen.errors import Invalid
from tresen.storage.models.contact import IDENTITY_KINDS

EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]{2,}$")
PHONE_CHARS = re.compile(r"[\s().\-/]")
MAX_VALUE = 320


def normalise(kind: str, value: str) -> str:
    """The stored form of ``value`` for ``kind``; ``Invalid`` when it is not one."""
    if kind not in IDENTITY_KINDS:
        raise Invalid(f"identity kind must be one of {', '.join(IDENTITY_KINDS)}")
    value = (value or "").strip()
    if not value or len(value) > MAX_VALUE:
        raise Invalid(f"{kind}: 1 to {MAX_VALUE} characters", code="bad_identity")
    if kind == "email":
        if not EMAIL.match(value):
            raise Invalid(f"not an email address: {value[:80]!r}", code="bad_email")
        return value.lower()
    if kind in ("phone", "whatsapp"):
        digits = PHONE_CHARS.sub("", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        body = digits[1:] if digits.startswith("+") else digits
        if not body.isdigit() or not 5 <= len(body) <= 17:
            raise Invalid(f"not a phone number: {value[:80]!r}", code="bad_phone")
        if kind == "whatsapp":  # WhatsApp ids are international numbers without the "+"
            return "+" + body
        return digits
    return value
