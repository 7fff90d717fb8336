"""The signed opt-out link of a summary mail (``digest/unsubscribe.py`` serves it): the
supervisor and when they opted in, so a link of an earlier choice is stale."""

from __future__ import annotations

from urllib.parse import quote

from tresen.runtime import Runtime
from tresen.security.tokens import BadToken, Signer
from tresen.storage.models import ReportDigest

PATH = "/digest/unsubscribe"


def _signer(rt: Runtime) -> Signer:
    return Signer(rt.settings.secret_key, "digest-unsubscribe")


def unsubscribe_url(rt: Runtime, d: ReportDigest) -> str:
    """The opt-out link of a mail to ``d``'s supervisor, valid ``digest_unsubscribe_days``."""
    expires = rt.clock.now().timestamp() + rt.settings.digest_unsubscribe_days * 86400
    token = _signer(rt).sign({"a": d.agent_id, "s": d.since.timestamp()}, expires_at=expires)
    return f"{rt.settings.public_url.rstrip('/')}{PATH}?t={quote(token)}"


def claims_of(rt: Runtime, token: str) -> tuple[int, float] | None:
    try:
        claims = _signer(rt).unsign(token, now=rt.clock.now().timestamp())
        agent_id, since = claims["a"], claims["s"]
    except (BadToken, KeyError):
        return None
    if not isinstance(agent_id, int) or not isinstance(since, int | float):
        return None
    return agent_id, float(since)
