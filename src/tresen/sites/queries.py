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


async def list_sites(
    s: AsyncSession,
    *,
    only: frozenset[int] | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Site]:
    stmt = select(Site).order_by(Site.id)
    if only is not None:
        stmt = stmt.where(Site.id.in_(sorted(only)))
    if after_id is not None:
        stmt = stmt.where(Site.id > after_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await s.execute(stmt)).scalars())


def embed_snippet(public_url: str, site: Site) -> str:
    return (
        f'<script src="{public_url.rstrip("/")}/widget.js" '
        f'data-site="{site.widget_key}" async></script>'
    )
