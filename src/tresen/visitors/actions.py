"""Visitor sessions: recognise a returning browser, trust only verified identities."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.linking import do_ensure_contact, do_link_verified
from tresen.errors import Forbidden, Invalid, RateLimited, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.identity import verify_identity
from tresen.security.tokens import BadToken
from tresen.sites.queries import site_by_key
from tresen.storage.models import Site, Visitor
from tresen.visitors.invites import do_redeem_invite


@dataclass(frozen=True)
class IdentityClaim:
    id: str
    hash: str | None = None
    name: str | None = None
    email: str | None = None
    attributes: dict[str, Any] | None = None


@dataclass(frozen=True)
class VisitorSession:
    token: str
    visitor: Visitor
    site: Site
    verified: bool
    invited_conversation: int | None = None
    created: bool = False  # a new visitor: no conversations yet


def origin_allowed(site: Site, origin: str | None, own_host: str | None) -> bool:
    """May a browser on ``origin`` act as this site's visitor?

    The site's own pages (allowlist) may, and so may the widget frame, which is served from
    Tresen's own origin and may only be embedded by allowlisted pages (CSP frame-ancestors).
    Browsers always send Origin; a request without one comes from a server-side client.
    """
    if origin is None or origin in site.allowed_origins:
        return True
    return own_host is not None and urlsplit(origin).netloc == own_host


async def check_open_visitor_session(
    rt: Runtime,
    site_key: str,
    origin: str | None,
    own_host: str | None,
    token: str | None = None,
    identity: IdentityClaim | None = None,
    invite: str | None = None,
    client_ip: str | None = None,
) -> VisitorSession:
    """A session for a returning visitor (``token``) or a new one. New visitors are limited per
    client IP and minute (``visitor_sessions_per_ip_per_minute``). With ``invite`` (a chat link
    from an email), the browser becomes the invited visitor."""
    now = rt.clock.now()
    invited: int | None = None
    if client_ip is not None and not _signed_for_site(rt, token):
        limit = rt.settings.visitor_sessions_per_ip_per_minute
        if not await rt.limiter.hit(f"visitor-new:{client_ip}", limit, 60):
            raise RateLimited(
                "too many new visitor sessions from this address; wait a minute",
                code="too_many_sessions",
            )
    # (A grouped fast path for new visitors, from the performance work, is not used: every
    # visitor gets its contact in the same transaction, which that path does not write yet.)
    async with rt.db.write() as s:
        site = await site_by_key(s, site_key)
        if not origin_allowed(site, origin, own_host):
            raise Forbidden(f"origin {origin} is not allowed for this site", code="bad_origin")
        visitor = await _visitor_from_token(rt, s, site, token)
        if invite:
            visitor, invited = await do_redeem_invite(rt, s, site, invite)
        verified = False
        if identity is not None:
            visitor, verified = await _apply_identity(s, site, visitor, identity, now)
        created = visitor is None
        if visitor is None:
            visitor = Visitor(
                site_id=site.id,
                anon_id=secrets.token_urlsafe(12),
                created_at=now,
                last_seen_at=now,
            )
            s.add(visitor)
        visitor.last_seen_at = now
        await s.flush()
        if verified and identity is not None:
            await do_link_verified(
                s,
                visitor,
                now,
                external_id=identity.id,
                email=identity.email,
                name=identity.name,
                attributes=identity.attributes,
            )
        else:
            await do_ensure_contact(s, visitor, now, "visitor")
    return VisitorSession(_sign(rt, visitor), visitor, site, verified, invited, created)


def _signed_for_site(rt: Runtime, token: str | None) -> bool:
    """The token is one we signed and still valid (its visitor is looked up later)."""
    if not token:
        return False
    try:
        rt.visitor_signer.unsign(token, now=rt.clock.now().timestamp())
    except BadToken:
        return False
    return True


def _sign(rt: Runtime, visitor: Visitor) -> str:
    expires = rt.clock.now().timestamp() + rt.settings.visitor_token_ttl_seconds
    return rt.visitor_signer.sign({"v": visitor.id, "s": visitor.site_id}, expires_at=expires)


async def _visitor_from_token(
    rt: Runtime, s: AsyncSession, site: Site, token: str | None
) -> Visitor | None:
    if not token:
        return None
    try:
        payload = rt.visitor_signer.unsign(token, now=rt.clock.now().timestamp())
    except BadToken:
        return None  # a stale or foreign token just starts a fresh anonymous visitor
    if payload.get("s") != site.id:
        return None
    return await s.get(Visitor, int(payload["v"]))


async def _apply_identity(
    s: AsyncSession, site: Site, visitor: Visitor | None, claim: IdentityClaim, now: Any
) -> tuple[Visitor | None, bool]:
    if not claim.id or len(claim.id) > 200:
        raise Invalid("identity id: 1 to 200 characters")
    if not verify_identity(site.identity_secret, claim.id, claim.hash):
        # Unverified claims are kept as hints on the anonymous visitor, never as identity.
        return visitor, False
    known = (
        await s.execute(
            select(Visitor).where(Visitor.site_id == site.id, Visitor.external_id == claim.id)
        )
    ).scalar_one_or_none()
    if known is None:
        known = visitor or Visitor(
            site_id=site.id, anon_id=secrets.token_urlsafe(12), created_at=now, last_seen_at=now
        )
        known.external_id = claim.id
        s.add(known)
    known.name = (claim.name or known.name or "")[:200] or None
    known.email = (claim.email or known.email or "")[:320] or None
    if claim.attributes:
        known.attributes = {**(known.attributes or {}), **claim.attributes}
    return known, True


async def visitor_from_token(rt: Runtime, site: Site, token: str) -> Principal:
    async with rt.db.read() as s:
        return (await visitor_of_token(rt, s, site, token))[0]


async def visitor_of_token(
    rt: Runtime, s: AsyncSession, site: Site, token: str
) -> tuple[Principal, Visitor]:
    """The visitor a token names, read in the caller's session (a socket reads its site and
    its visitor in one)."""
    try:
        payload = rt.visitor_signer.unsign(token, now=rt.clock.now().timestamp())
    except BadToken as exc:
        raise Unauthorized(f"visitor token rejected: {exc}", code="bad_token") from exc
    if payload.get("s") != site.id:
        raise Unauthorized("visitor token belongs to another site", code="bad_token")
    visitor = await s.get(Visitor, int(payload["v"]))
    if visitor is None:
        raise Unauthorized("visitor no longer exists", code="bad_token")
    return Principal("visitor", visitor.id, name=visitor.name, site_id=site.id), visitor
