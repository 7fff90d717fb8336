"""Signed, expiring tokens (visitor tokens, WebSocket tickets) with purpose-bound keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any


class BadToken(Exception):
    """The token is malformed, forged, for another purpose, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret_key: str, purpose: str) -> None:
        self._key = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()

    def sign(self, payload: dict[str, Any], *, expires_at: float) -> str:
        body = _b64(json.dumps({**payload, "exp": int(expires_at)}, separators=(",", ":")).encode())
        return body + "." + _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def unsign(self, token: str, *, now: float) -> dict[str, Any]:
        body, _, mac = token.partition(".")
        if not body or not mac:
            raise BadToken("malformed token")
        expected = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, mac):
            raise BadToken("bad signature")
        try:
            payload = json.loads(_unb64(body))
        except ValueError as exc:
            raise BadToken("malformed token") from exc
        if not isinstance(payload, dict) or payload.get("exp", 0) < now:
            raise BadToken("expired token")
        return payload


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
