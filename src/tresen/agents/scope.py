"""Which sites an agent works on (issue 13 replaces this with teams and site grants).

Every inbox query (views, counts, search, callbacks) narrows to ``site_ids_for``; None means
every site.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.principal import Principal


async def site_ids_for(session: AsyncSession, principal: Principal) -> frozenset[int] | None:
    """The sites ``principal`` may see; None: all of them (no site scoping configured yet)."""
    del session
    if principal.kind == "visitor":
        return frozenset({principal.site_id}) if principal.site_id is not None else frozenset()
    return None
