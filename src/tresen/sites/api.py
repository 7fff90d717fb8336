"""Sites: embed snippet, allowed origins, identity secret (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tresen.auth.deps import RT, AdminDep
from tresen.sites.actions import do_create_site, do_update_site
from tresen.sites.queries import access_site_by_id, embed_snippet, list_sites
from tresen.storage.models import Site

router = APIRouter(prefix="/api/sites", tags=["sites"])


class SiteIn(BaseModel):
    name: str = Field(max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)


class SitePatch(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    allowed_origins: list[str] | None = Field(default=None, max_length=50)
    rotate_identity_secret: bool = False


def site_admin_view(public_url: str, site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "widget_key": site.widget_key,
        "allowed_origins": site.allowed_origins,
        "identity_secret": site.identity_secret,
        "embed_snippet": embed_snippet(public_url, site),
    }


@router.get("")
async def get_sites(rt: RT, who: AdminDep) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        return [site_admin_view(rt.settings.public_url, x) for x in await list_sites(s)]


@router.get("/{site_id}")
async def get_site(site_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        return site_admin_view(rt.settings.public_url, await access_site_by_id(s, site_id))


@router.post("", status_code=201)
async def create_site(body: SiteIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    site = await do_create_site(rt, body.name, body.allowed_origins)
    return site_admin_view(rt.settings.public_url, site)


@router.patch("/{site_id}")
async def patch_site(site_id: int, body: SitePatch, rt: RT, who: AdminDep) -> dict[str, Any]:
    site = await do_update_site(
        rt,
        site_id,
        name=body.name,
        origins=body.allowed_origins,
        rotate_identity_secret=body.rotate_identity_secret,
    )
    return site_admin_view(rt.settings.public_url, site)
