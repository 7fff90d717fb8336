"""Which sites a principal may see: the one place site scoping is decided.

An admin sees every site (``None``); an agent sees the sites they serve (``agent_sites``); an
API token sees its owner's sites, narrowed to the token's own list if it names one; a visitor
sees their own site. Everything an agent can read or is routed (conversations, visitors,
contacts, the radar's live visitors, rules and offers, co-browse sessions, support codes,
reports, webhooks) is filtered with ``scoped`` or checked with ``ensure_site_visible``, which
answers 404 (not 403), so ids of other sites cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import Invalid, NotFound
from tresen.principal import Principal
from tresen.storage.models import Agent, AgentSite
from tresen.storage.prepared import OnDialect

Sites = frozenset[int] | None
"""Site ids a principal may see; ``None``: all of them."""

S = TypeVar("S", bound=Select)  # type: ignore[type-arg]


async def site_ids_for(session: AsyncSession, principal: Principal) -> frozenset[int] | None:
    """The sites ``principal`` may see; ``None`` means every site (admins)."""
    if principal.kind == "visitor":
        return frozenset() if principal.site_id is None else frozenset({principal.site_id})
    sites: Sites = None
    if not principal.is_admin:
        rows = await session.execute(
            select(AgentSite.site_id).where(AgentSite.agent_id == principal.id)
        )
        sites = frozenset(rows.scalars())
    if principal.site_limit is not None:
        sites = principal.site_limit if sites is None else sites & principal.site_limit
    return sites


async def sites_by_agent(
    session: AsyncSession, agent_ids: Iterable[int]
) -> dict[int, frozenset[int]]:
    """The sites each of these agents serves (routing reads them for every online agent)."""
    ids = list(agent_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(AgentSite.agent_id, AgentSite.site_id).where(AgentSite.agent_id.in_(ids))
    )
    out: dict[int, set[int]] = {}
    for agent_id, site_id in rows.all():
        out.setdefault(agent_id, set()).add(site_id)
    return {a: frozenset(v) for a, v in out.items()}


def scoped(stmt: S, column: Any, sites: Sites) -> S:
    """``stmt`` narrowed to rows whose ``column`` (a site id) is one of ``sites``."""
    if sites is None:
        return stmt
    return stmt.where(column.in_(sorted(sites)))


def site_visible(sites: Sites, site_id: int | None) -> bool:
    return sites is None or (site_id is not None and site_id in sites)


def ensure_site_visible(
    sites: Sites, site_id: int | None, message: str = "not found", *, code: str = "not_found"
) -> None:
    """404 unless ``site_id`` is one of ``sites``: the same answer as for a missing row."""
    if not site_visible(sites, site_id):
        raise NotFound(message, code=code)


async def ensure_visible_to(
    session: AsyncSession,
    principal: Principal,
    site_id: int | None,
    message: str = "not found",
    *,
    code: str = "not_found",
) -> None:
    """``ensure_site_visible`` with the principal's sites looked up."""
    if principal.kind == "agent" and principal.is_admin and principal.site_limit is None:
        return
    ensure_site_visible(await site_ids_for(session, principal), site_id, message, code=code)


def check_agent_site(
    conn: Connection, agent: Principal, conversation_id: int, site_id: int
) -> None:
    """``ensure_visible_to`` for a conversation, sync, on the connection of a Core write (the
    send path): one indexed lookup, none for an admin without a token's site list."""
    if agent.site_limit is not None and site_id not in agent.site_limit:
        visible = False
    elif agent.is_admin:
        visible = True
    else:
        visible = _SERVES.first(conn, {"agent_id": agent.id, "site_id": site_id}) is not None
    if not visible:
        raise NotFound(f"no conversation {conversation_id}", code="no_such_conversation")


_serves = select(AgentSite.site_id).where(
    AgentSite.agent_id == bindparam("agent_id"), AgentSite.site_id == bindparam("site_id")
)
_SERVES = OnDialect(_serves, list(_serves.selected_columns))


async def ensure_agent_serves(session: AsyncSession, agent_id: int, site_id: int) -> None:
    """An assignment or transfer goes only to an agent who serves the site (or an admin)."""
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    if agent.role == "admin":
        return
    row = await session.execute(
        select(AgentSite.agent_id).where(
            AgentSite.agent_id == agent_id, AgentSite.site_id == site_id
        )
    )
    if row.first() is None:
        raise Invalid(
            f"agent {agent_id} does not serve this conversation's site", code="agent_not_on_site"
        )
