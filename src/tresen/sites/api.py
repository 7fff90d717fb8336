"""Sites: embed snippet, allowed origins, identity secret (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from tresen.auth.deps import RT, AdminDep
from tresen.errors import NotFound
from tresen.sites.actions import do_create_site, do_update_site
from tresen.sites.queries import access_site_by_id, embed_snippet, list_sites
from tresen.storage.models import Site
from tresen.storage.pagination import (
    clamp_limit,
    cursor_int,
    decode_cursor,
    page_of,
    set_next_cursor,
)

router = APIRouter(prefix="/api/sites", tags=["sites"])


class SiteIn(BaseModel):
    name: str = Field(max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)


class SitePatch(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    allowed_origins: list[str] | None = Field(default=None, max_length=50)
    rotate_identity_secret: bool = False
    visitor_uploads: bool | None = None  # visitors may attach files in the widget


def site_admin_view(public_url: str, site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "widget_key": site.widget_key,
        "allowed_origins": site.allowed_origins,
        "identity_secret": site.identity_secret,
        "visitor_uploads": site.visitor_uploads,
        "embed_snippet": embed_snippet(public_url, site),
    }


@router.get("")
async def get_sites(
    rt: RT, who: AdminDep, response: Response, limit: int = 200, cursor: str | None = None
) -> list[dict[str, Any]]:
    """Every site with its settings (an API token naming sites: those)."""
    limit = clamp_limit(limit)
    after = cursor_int(decode_cursor(cursor), "after")
    async with rt.db.read() as s:
        rows = await list_sites(s, only=who.site_limit, after_id=after, limit=limit + 1)
    page, next_cursor = page_of(rows, limit, lambda x: {"after": x.id})
    set_next_cursor(response, next_cursor)
    return [site_admin_view(rt.settings.public_url, x) for x in page]


@router.get("/{site_id}")
async def get_site(site_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    if who.site_limit is not None and site_id not in who.site_limit:
        raise NotFound(f"no site {site_id}")
    async with rt.db.read() as s:
        return site_admin_view(rt.settings.public_url, await access_site_by_id(s, site_id))


@router.post("", status_code=201)
async def create_site(body: SiteIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    site = await do_create_site(rt, body.name, body.allowed_origins, actor=who)
    return site_admin_view(rt.settings.public_url, site)


@router.patch("/{site_id}")
async def patch_site(site_id: int, body: SitePatch, rt: RT, who: AdminDep) -> dict[str, Any]:
    site = await do_update_site(
        rt,
        site_id,
        name=body.name,
        origins=body.allowed_origins,
        rotate_identity_secret=body.rotate_identity_secret,
        visitor_uploads=body.visitor_uploads,
        actor=who,
    )
    return site_admin_view(rt.settings.public_url, site)
