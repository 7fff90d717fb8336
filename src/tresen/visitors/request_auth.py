"""A widget request's visitor: the bearer token, the site by its key and the Origin against the
site's allowlist (the checks of the visitor endpoints that are not sockets)."""

from __future__ import annotations

from fastapi import Request

from tresen.errors import Forbidden, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import site_by_key
from tresen.storage.models import Site
from tresen.visitors.actions import origin_allowed, visitor_from_token


async def request_visitor(rt: Runtime, request: Request, site_key: str) -> tuple[Site, Principal]:
    """The site ``site_key`` names and the visitor the request's bearer token names (401 without
    a token, 403 from an origin the site does not allow)."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized("send the visitor token as 'Authorization: Bearer ...'")
    async with rt.db.read() as s:
        site = await site_by_key(s, site_key)
    if not origin_allowed(site, request.headers.get("origin"), request.headers.get("host")):
        raise Forbidden("this origin is not allowed for the site", code="bad_origin")
    return site, await visitor_from_token(rt, site, auth[7:].strip())
