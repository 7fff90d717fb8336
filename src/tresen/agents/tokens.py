"""API tokens: created by admins for themselves or a service account, shown once, revocable.

The token is ``trs_`` and 43 random URL-safe characters (256 bits); only its sha256 is kept,
with its first characters to recognise it in lists. ``auth/bearer.py`` accepts it.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from tresen.agents.queries import access_agent_by_id
from tresen.agents.teams import _existing
from tresen.auth.audit import record_audit
from tresen.auth.bearer import SCOPES, TOKEN_PREFIX
from tresen.errors import Invalid, NotFound
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.tokens import hash_token
from tresen.storage.models import ApiToken, Site

MAX_NAME = 100


def token_view(tok: ApiToken) -> dict[str, Any]:
    return {
        "id": tok.id,
        "name": tok.name,
        "agent_id": tok.agent_id,
        "prefix": tok.prefix,
        "scopes": tok.scopes,
        "site_ids": tok.site_ids,
        "created_by": tok.created_by,
        "created_at": tok.created_at.isoformat(),
        "last_used_at": tok.last_used_at.isoformat() if tok.last_used_at else None,
        "revoked_at": tok.revoked_at.isoformat() if tok.revoked_at else None,
    }


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise Invalid(f"unknown scopes: {', '.join(unknown)} (known: resource:read|write)")
    if not scopes:
        raise Invalid("a token needs at least one scope")
    return sorted(set(scopes))


async def check_create_token(
    rt: Runtime,
    actor: Principal,
    *,
    name: str,
    scopes: list[str],
    agent_id: int | None = None,
    site_ids: list[int] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(the token, shown this once; its view)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(f"a token needs a name of 1 to {MAX_NAME} characters")
    scopes = check_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with rt.db.write() as s:
        owner = await access_agent_by_id(s, agent_id if agent_id is not None else actor.id)
        sites = None if site_ids is None else await _existing(s, Site.id, site_ids, "site")
        tok = ApiToken(
            name=name,
            agent_id=owner.id,
            token_hash=hash_token(token),
            prefix=token[:10],
            scopes=scopes,
            site_ids=sites,
            created_by=actor.id,
            created_at=rt.clock.now(),
        )
        s.add(tok)
        await s.flush()
        view = token_view(tok)
        record_audit(s, actor, "token.create", f"token:{tok.id}", None, view, at=rt.clock.now())
    return token, view


async def list_tokens(rt: Runtime, *, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    stmt = select(ApiToken).order_by(ApiToken.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(ApiToken.id > after_id)
    async with rt.db.read() as s:
        return [token_view(t) for t in (await s.execute(stmt)).scalars()]


async def do_revoke_token(rt: Runtime, actor: Principal, token_id: int) -> dict[str, Any]:
    async with rt.db.write() as s:
        tok = await s.get(ApiToken, token_id)
        if tok is None:
            raise NotFound(f"no token {token_id}")
        before = token_view(tok)
        if tok.revoked_at is None:
            tok.revoked_at = rt.clock.now()
            record_audit(
                s,
                actor,
                "token.revoke",
                f"token:{token_id}",
                before,
                token_view(tok),
                at=rt.clock.now(),
            )
        return token_view(tok)
