"""Which sites a principal may see: ``None`` for admins (every site), a visitor's own site.
(Agents: every site until site grants land with teams and sites, issue 13.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.principal import Principal
from tresen.storage.models import Site


async def site_ids_for(session: AsyncSession, principal: Principal) -> frozenset[int] | None:
    if principal.kind == "visitor":
        return frozenset({principal.site_id}) if principal.site_id is not None else frozenset()
    if principal.is_admin:
        return None
    return frozenset((await session.execute(select(Site.id))).scalars())
