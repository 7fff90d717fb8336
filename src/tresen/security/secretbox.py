"""Secrets kept in the database (mailbox passwords), encrypted with a key derived from the
secret key: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``), key by HKDF per purpose.
Rotating the secret key makes stored secrets unreadable: they have to be entered again."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretUnreadable(Exception):
    """Encrypted with another secret key, or tampered with."""


class SecretBox:
    def __init__(self, secret_key: str, purpose: str) -> None:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())))

    def seal(self, plaintext: str) -> str:
        return "" if not plaintext else self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        if not sealed:
            return ""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("stored secret cannot be decrypted with this key") from None
