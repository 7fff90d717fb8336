"""argon2id password hashing."""

from __future__ import annotations

from tresen.security.passwords import hash_password, verify_password


def test_hash_verifies_only_the_right_password() -> None:
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "correct horse batterY")
    assert not verify_password(h, "")


def test_hashes_are_salted() -> None:
    assert hash_password("same password") != hash_password("same password")


def test_missing_or_garbage_hash_never_verifies() -> None:
    # A missing user is checked against a dummy hash (timing), but must never pass,
    # not even with the dummy's own password.
    assert not verify_password(None, "tresen-dummy-password")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")
    assert not verify_password("", "anything")
