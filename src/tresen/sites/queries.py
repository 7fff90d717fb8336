"""Reads for sites."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import NotFound
from tresen.storage.models import Site


async def access_site_by_id(s: AsyncSession, site_id: int) -> Site:
    site = await s.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    return site


async def site_by_key(s: AsyncSession, widget_key: str) -> Site:
    site = (await s.execute(select(Site).where(Site.widget_key == widget_key))).scalar_one_or_none()
    if site is None:
        raise NotFound("unknown site key", code="unknown_site")
    return site


async def list_sites(s: AsyncSession) -> list[Site]:
    return list((await s.execute(select(Site).order_by(Site.id))).scalars())


def embed_snippet(public_url: str, site: Site) -> str:
    return (
        f'<script src="{public_url.rstrip("/")}/widget.js" '
        f'data-site="{site.widget_key}" async></script>'
    )
