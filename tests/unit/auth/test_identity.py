"""Identity verification: hex HMAC-SHA256 of the user id with the site's identity secret."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tresen.security.identity import identity_hash, verify_identity


def test_hash_matches_the_documented_convention() -> None:
    expected = hmac.new(b"s3cret", b"customer-42", hashlib.sha256).hexdigest()
    assert identity_hash("s3cret", "customer-42") == expected


def test_verify_accepts_the_right_hash_in_either_case() -> None:
    good = identity_hash("s3cret", "customer-42")
    assert verify_identity("s3cret", "customer-42", good)
    assert verify_identity("s3cret", "customer-42", good.upper())


@pytest.mark.parametrize(
    ("secret", "user_id", "given"),
    [
        ("s3cret", "customer-43", identity_hash("s3cret", "customer-42")),  # other user
        ("rotated", "customer-42", identity_hash("s3cret", "customer-42")),  # old secret
        ("s3cret", "customer-42", identity_hash("s3cret", "customer-42")[:-1]),  # truncated
        ("s3cret", "customer-42", "0" * 64),
        ("s3cret", "customer-42", ""),
        ("s3cret", "customer-42", None),
    ],
)
def test_verify_rejects_anything_else(secret: str, user_id: str, given: str | None) -> None:
    assert not verify_identity(secret, user_id, given)


def test_unicode_user_ids_are_hashed_as_utf8() -> None:
    expected = hmac.new(b"k", "Jürgen-🙂".encode(), hashlib.sha256).hexdigest()
    assert verify_identity("k", "Jürgen-🙂", expected)
