"""Visitor sessions: recognise a returning browser, trust only verified identities."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.linking import do_ensure_contact, do_link_verified, do_new_visitor_contact
from tresen.errors import Forbidden, Invalid, NotFound, RateLimited, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.identity import verify_identity
from tresen.security.tokens import BadToken
from tresen.sites.queries import site_by_key
from tresen.storage.models import ContactIdentity, Site, Visitor
from tresen.storage.prepared import OnDialect, binds
from tresen.visitors.flags import WidgetFlags, whatsapp_number
from tresen.visitors.invites import do_redeem_invite

_sites = cast(Table, Site.__table__)
_visitors = cast(Table, Visitor.__table__)
_SITE_BY_KEY = select(_sites).where(_sites.c.widget_key == bindparam("key"))
_SITE_ORIGINS = select(_sites.c.id, _sites.c.allowed_origins).where(
    _sites.c.widget_key == bindparam("key")
)
_VISITOR_BY_ID = select(_visitors).where(_visitors.c.id == bindparam("vid"))
_INSERT_VISITOR = insert(_visitors).returning(_visitors.c.id)
_NEW_VISITOR_FIELDS = (
    "site_id",
    "anon_id",
    "external_id",
    "name",
    "email",
    "attributes",
    "created_at",
    "last_seen_at",
)
# A new visitor on SQLite (``_new_visitor_grouped``): the site with its widget flags, then the
# row; compiled once and run on the driver (``storage/prepared.py``).
_site_for_new_visitor = select(
    _sites.c.id,
    _sites.c.allowed_origins,
    _sites.c.visitor_uploads,
    whatsapp_number(_sites.c.id).label("whatsapp"),
).where(_sites.c.widget_key == bindparam("key"))
_NEW_VISITOR_SITE = OnDialect(_site_for_new_visitor, list(_site_for_new_visitor.selected_columns))
_NEW_VISITOR = OnDialect(
    insert(_visitors).values(binds(_NEW_VISITOR_FIELDS)).returning(_visitors.c.id),
    [_visitors.c.id],
)
_identities = cast(Table, ContactIdentity.__table__)
_CONTACT_OF_VISITOR = select(_identities.c.contact_id).where(
    _identities.c.visitor_id == bindparam("vid")
)
LAST_SEEN_GRANULARITY = 60.0
"""A returning visitor's ``last_seen_at`` is written when a session opens at most this often
(seconds): a page load within it is checked with a grouped read and writes nothing."""


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
    site_id: int
    verified: bool
    invited_conversation: int | None = None
    created: bool = False  # a new visitor: no conversations yet
    flags: WidgetFlags | None = None  # read with the visitor's creation (else read for the reply)


def origin_allowed(site: Site, origin: str | None, own_host: str | None) -> bool:
    """May a browser on ``origin`` act as this site's visitor?

    The site's own pages (allowlist) may, and so may the widget frame, which is served from
    Tresen's own origin and may only be embedded by allowlisted pages (CSP frame-ancestors).
    Browsers always send Origin; a request without one comes from a server-side client.
    """
    return origin_in(site.allowed_origins, origin, own_host)


def origin_in(allowed: list[str], origin: str | None, own_host: str | None) -> bool:
    """``origin_allowed`` for a site's allowlist as read (a row, not a ``Site``)."""
    if origin is None or origin in allowed:
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
    if rt.db.is_sqlite and not token and not invite and identity is None:
        return await _new_visitor_grouped(rt, site_key, origin, own_host)
    if token and not invite and identity is None:
        work = _returning_unchanged(rt, site_key, origin, own_host, token)
        unchanged = await rt.db.read_grouped(work)
        if unchanged is not None:
            return unchanged
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
    return VisitorSession(_sign(rt, visitor), visitor, site.id, verified, invited, created)


async def _new_visitor_grouped(
    rt: Runtime, site_key: str, origin: str | None, own_host: str | None
) -> VisitorSession:
    """A browser without a token, an invite or an identity (a new anonymous visitor) on
    SQLite: the site (with the widget's flags) is checked, the visitor and its contact
    (``do_new_visitor_contact``) inserted in the group commit (``Database.write_grouped``), one
    savepoint in the transaction shared with the sends and sessions queued meanwhile."""
    now = rt.clock.now()
    values: dict[str, Any] = {
        "anon_id": secrets.token_urlsafe(12),
        "external_id": None,
        "name": None,
        "email": None,
        "attributes": {},
        "created_at": now,
        "last_seen_at": now,
    }

    def work(conn: Connection) -> tuple[int, int, WidgetFlags]:
        site = _NEW_VISITOR_SITE.first(conn, {"key": site_key})
        if site is None:
            raise NotFound("unknown site key", code="unknown_site")
        if not origin_in(site["allowed_origins"], origin, own_host):
            raise Forbidden(f"origin {origin} is not allowed for this site", code="bad_origin")
        site_id = site["id"]
        visitor_id = _NEW_VISITOR.rows(conn, {**values, "site_id": site_id})[0]["id"]
        do_new_visitor_contact(conn, site_id, visitor_id, now)
        flags = WidgetFlags(bool(site["whatsapp"]), bool(site["visitor_uploads"]))
        return site_id, visitor_id, flags

    site_id, visitor_id, flags = await rt.db.write_grouped(work)
    visitor = Visitor(id=visitor_id, site_id=site_id, **values)
    return VisitorSession(_sign(rt, visitor), visitor, site_id, False, None, True, flags)


def _returning_unchanged(
    rt: Runtime, site_key: str, origin: str | None, own_host: str | None, token: str
) -> Callable[[Connection], VisitorSession | None]:
    """A returning visitor's page load that changes nothing, as a grouped read: the token is
    valid for the site, the visitor has its contact and was seen within
    ``LAST_SEEN_GRANULARITY``. None: something to write (or a token to replace), so the
    caller takes the write path, which decides the same way it always did."""
    now = rt.clock.now()

    def work(c: Connection) -> VisitorSession | None:
        row = c.execute(_SITE_BY_KEY, {"key": site_key}).first()
        if row is None:
            raise NotFound("unknown site key", code="unknown_site")
        site = Site(**row._mapping)
        if not origin_allowed(site, origin, own_host):
            raise Forbidden(f"origin {origin} is not allowed for this site", code="bad_origin")
        try:
            visitor_id = _token_visitor(rt, site.id, token)
        except Unauthorized:
            return None
        found = c.execute(_VISITOR_BY_ID, {"vid": visitor_id}).first()
        if found is None or (now - found.last_seen_at).total_seconds() >= LAST_SEEN_GRANULARITY:
            return None
        if c.execute(_CONTACT_OF_VISITOR, {"vid": visitor_id}).first() is None:
            return None
        visitor = Visitor(**found._mapping)
        return VisitorSession(_sign(rt, visitor), visitor, site.id, False)

    return work


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
    visitor = await s.get(Visitor, _token_visitor(rt, site.id, token))
    if visitor is None:
        raise Unauthorized("visitor no longer exists", code="bad_token")
    return Principal("visitor", visitor.id, name=visitor.name, site_id=site.id), visitor


def socket_visitor(
    rt: Runtime, site_key: str, origin: str | None, own_host: str | None, token: str
) -> Callable[[Connection], tuple[Principal, Visitor]]:
    """A visitor socket's checks and reads as one work for ``Database.read_grouped`` (a storm
    of reconnects shares its transactions): the site by its key, the Origin against its
    allowlist, the token's signature, expiry and site, then the visitor it names. The rows come
    back detached (read-only snapshots; the socket keeps neither)."""

    def work(c: Connection) -> tuple[Principal, Visitor]:
        site = c.execute(_SITE_ORIGINS, {"key": site_key}).first()
        if site is None:
            raise NotFound("unknown site key", code="unknown_site")
        if not origin_in(site.allowed_origins, origin, own_host):
            raise Forbidden("this origin is not allowed for the site", code="bad_origin")
        visitor_id = _token_visitor(rt, site.id, token)
        found = c.execute(_VISITOR_BY_ID, {"vid": visitor_id}).first()
        if found is None:
            raise Unauthorized("visitor no longer exists", code="bad_token")
        visitor = Visitor(**found._mapping)
        return Principal("visitor", visitor.id, name=visitor.name, site_id=site.id), visitor

    return work


def _token_visitor(rt: Runtime, site_id: int, token: str) -> int:
    try:
        payload = rt.visitor_signer.unsign(token, now=rt.clock.now().timestamp())
    except BadToken as exc:
        raise Unauthorized(f"visitor token rejected: {exc}", code="bad_token") from exc
    if payload.get("s") != site_id:
        raise Unauthorized("visitor token belongs to another site", code="bad_token")
    return int(payload["v"])
