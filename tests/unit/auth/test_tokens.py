"""Signed, expiring, purpose-bound tokens."""

from __future__ import annotations

import base64
import json

import pytest

from tresen.security.tokens import BadToken, Signer, hash_token, random_token

NOW = 1_700_000_000.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip_keeps_payload_and_adds_expiry() -> None:
    signer = Signer("secret", "visitor-token")
    token = signer.sign({"v": 7, "s": 2}, expires_at=NOW + 60)
    assert signer.unsign(token, now=NOW) == {"v": 7, "s": 2, "exp": int(NOW + 60)}


def test_token_is_url_safe() -> None:
    token = Signer("secret", "p").sign({"text": "ü/+?&=" * 10}, expires_at=NOW)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_tampered_payload_is_rejected() -> None:
    signer = Signer("secret", "p")
    token = signer.sign({"v": 7}, expires_at=NOW + 60)
    _body, mac = token.split(".")
    forged_body = _b64(json.dumps({"v": 8, "exp": int(NOW + 60)}, separators=(",", ":")).encode())
    with pytest.raises(BadToken, match="signature"):
        signer.unsign(forged_body + "." + mac, now=NOW)


def test_tampered_signature_is_rejected() -> None:
    signer = Signer("secret", "p")
    token = signer.sign({"v": 7}, expires_at=NOW + 60)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(BadToken):
        signer.unsign(flipped, now=NOW)


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".abc", "no-dot-at-all"])
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(BadToken):
        Signer("secret", "p").unsign(token, now=NOW)


def test_signed_garbage_body_is_malformed_not_a_crash() -> None:
    """A correctly signed body that is not JSON still raises BadToken, never ValueError."""
    import hashlib
    import hmac

    key = hmac.new(b"secret", b"p", hashlib.sha256).digest()
    body = _b64(b"\xff\xfenot json")
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    with pytest.raises(BadToken, match="malformed"):
        Signer("secret", "p").unsign(f"{body}.{mac}", now=NOW)


def test_expiry_is_enforced_at_the_boundary() -> None:
    signer = Signer("secret", "p")
    token = signer.sign({}, expires_at=NOW)
    assert signer.unsign(token, now=NOW)["exp"] == int(NOW)
    with pytest.raises(BadToken, match="expired"):
        signer.unsign(token, now=NOW + 1)


def test_purposes_do_not_accept_each_others_tokens() -> None:
    visitor = Signer("secret", "visitor-token")
    ticket = Signer("secret", "agent-ws-ticket")
    token = visitor.sign({"v": 1}, expires_at=NOW + 60)
    with pytest.raises(BadToken, match="signature"):
        ticket.unsign(token, now=NOW)


def test_other_secret_key_does_not_verify() -> None:
    token = Signer("secret-a", "p").sign({"v": 1}, expires_at=NOW + 60)
    with pytest.raises(BadToken):
        Signer("secret-b", "p").unsign(token, now=NOW)


def test_random_tokens_are_unique_and_hash_is_stable() -> None:
    tokens = {random_token() for _ in range(100)}
    assert len(tokens) == 100
    assert len(random_token(24)) == 32  # 24 bytes in urlsafe base64
    t = random_token()
    assert hash_token(t) == hash_token(t)
    assert hash_token(t) != t and len(hash_token(t)) == 64
