"""Verified visitor identity: the site's backend signs the user id with the identity secret.

``hash = hex(HMAC-SHA256(identity_secret, user_id))`` — the same convention as Intercom's and
Chatwoot's identity verification, so existing snippets carry over.
"""

from __future__ import annotations

import hashlib
import hmac


def identity_hash(identity_secret: str, user_id: str) -> str:
    return hmac.new(identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify_identity(identity_secret: str, user_id: str, given_hash: str | None) -> bool:
    if not given_hash:
        return False
    return hmac.compare_digest(identity_hash(identity_secret, user_id), given_hash.lower())
