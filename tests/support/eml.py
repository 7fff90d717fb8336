"""The .eml fixtures (tests/fixtures/email), with the addresses and threading headers of the
test filled in."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "email"


def eml(name: str, **fields: str) -> bytes:
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    defaults = {
        "FROM": "kunde@example.com",
        "TO": "support@shop.example",
        "SUBJECT": "Your message to Shop",
        "IN_REPLY_TO": "",
        "REFERENCES": "",
    }
    for key, value in {**defaults, **fields}.items():
        raw = raw.replace(("{" + key + "}").encode(), value.encode())
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
