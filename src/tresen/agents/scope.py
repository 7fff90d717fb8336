"""Which sites an agent may see: ``None`` for admins (every site)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.principal import Principal
from tresen.storage.models import Site


async def site_ids_for(session: AsyncSession, principal: Principal) -> frozenset[int] | None:
    if principal.is_admin:
        return None
    return frozenset((await session.execute(select(Site.id))).scalars())
