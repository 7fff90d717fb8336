"""The one write path for sites."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from tresen.auth.audit import record_audit, snapshot
from tresen.errors import Invalid
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import Site


def normalize_origin(origin: str) -> str:
    """``https://Shop.example:443/`` -> ``https://shop.example``; reject anything not an origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"not an origin: {origin!r} (expected e.g. https://shop.example)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise Invalid(f"an origin has no path: {origin!r}")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = "" if parts.port in (None, default_port) else f":{parts.port}"
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


async def do_create_site(
    rt: Runtime, name: str, origins: list[str], *, actor: Principal | None = None
) -> Site:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("a site needs a name of 1 to 200 characters")
    site = Site(
        name=name,
        widget_key=secrets.token_urlsafe(12),
        allowed_origins=sorted({normalize_origin(o) for o in origins}),
        identity_secret=secrets.token_urlsafe(32),
        created_at=rt.clock.now(),
    )
    async with rt.db.write() as s:
        s.add(site)
        await s.flush()
        record_audit(s, actor, "site.create", f"site:{site.id}", None, site, at=rt.clock.now())
    return site


async def do_update_site(
    rt: Runtime,
    site_id: int,
    *,
    name: str | None = None,
    origins: list[str] | None = None,
    rotate_identity_secret: bool = False,
    visitor_uploads: bool | None = None,
    actor: Principal | None = None,
) -> Site:
    async with rt.db.write() as s:
        site = await access_site_by_id(s, site_id)
        before = snapshot(site)
        _apply_site_changes(site, name, origins, rotate_identity_secret)
        if visitor_uploads is not None:
            site.visitor_uploads = visitor_uploads
        after = snapshot(site)
        if rotate_identity_secret:
            after["identity_secret_rotated"] = True
        record_audit(s, actor, "site.update", f"site:{site_id}", before, after, at=rt.clock.now())
    return site


def _apply_site_changes(
    site: Site, name: str | None, origins: list[str] | None, rotate: bool
) -> None:
    if name is not None:
        if not name.strip():
            raise Invalid("a site needs a name")
        site.name = name.strip()
    if origins is not None:
        site.allowed_origins = sorted({normalize_origin(o) for o in origins})
    if rotate:
        site.identity_secret = secrets.token_urlsafe(32)
