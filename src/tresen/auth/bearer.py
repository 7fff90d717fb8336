"""API tokens on the HTTP API: ``Authorization: Bearer <token>``.

A token acts for the agent who owns it (an admin or a service account), with that agent's role
and sites (narrowed to the token's own site list, if it names one), and only for the resources
its scopes name: ``<resource>:read`` allows GET, ``<resource>:write`` every method. Only the
token's sha256 is stored; each token has its own rate limit (429 with ``Retry-After``).
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from tresen.errors import Forbidden, RateLimited, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.tokens import hash_token
from tresen.storage.models import Agent, ApiToken

TOKEN_PREFIX = "trs_"
RESOURCES = (
    "agents",
    "audit",
    "channels",
    "cobrowse",
    "contacts",
    "conversations",
    "faq",
    "messages",
    "radar",
    "reports",
    "routing",
    "sites",
    "teams",
    "tokens",
    "visitors",
    "webhooks",
)
SCOPES = tuple(f"{r}:{a}" for r in RESOURCES for a in ("read", "write"))
# The first path segment after /api/ names the resource, except where noted in resource_for.
_SEGMENTS = {
    "console": "conversations",
    "assist": "faq",
    "export": "contacts",
    "import": "contacts",
    "gdpr": "contacts",
}
LAST_USE_EVERY = timedelta(seconds=60)  # last use is written at most once a minute per token


def resource_for(path: str) -> str | None:
    """The resource a request path belongs to (None: not for tokens, e.g. /api/auth)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or parts[0] != "api":
        return None
    head = parts[1]
    if head == "conversations" and len(parts) >= 4 and parts[3] == "messages":
        return "messages"
    if head == "conversations" and len(parts) >= 4 and parts[3] == "deliveries":
        return "messages"
    if head == "sites" and len(parts) >= 4 and parts[3] == "mailbox":
        return "channels"
    head = _SEGMENTS.get(head, head)
    return head if head in RESOURCES else None


def allows(scopes: frozenset[str], method: str, path: str) -> bool:
    resource = resource_for(path)
    if resource is None:
        return False
    if f"{resource}:write" in scopes:
        return True
    return method in ("GET", "HEAD") and f"{resource}:read" in scopes


async def token_principal(rt: Runtime, token: str, method: str, path: str) -> Principal:
    """The principal behind a bearer token, after its rate limit and scope checks."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("unknown or revoked API token", code="bad_token")
    now = rt.clock.now()
    async with rt.db.read() as s:
        row = (
            await s.execute(
                select(ApiToken, Agent)
                .join(Agent, Agent.id == ApiToken.agent_id)
                .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
            )
        ).first()
    if row is None or not row[1].is_active:
        raise Unauthorized("unknown or revoked API token", code="bad_token")
    tok, agent = row
    limit = rt.settings.api_token_requests_per_minute
    if not await rt.limiter.hit(f"api-token:{tok.id}", limit, 60):
        raise RateLimited(
            f"over {limit} requests a minute for this token",
            retry_after=60 - int(time.time()) % 60,
        )
    scopes = frozenset(tok.scopes)
    if not allows(scopes, method, path):
        raise Forbidden(
            f"this token may not {method} {path} (scopes: {', '.join(sorted(scopes)) or 'none'})",
            code="scope",
        )
    if tok.last_used_at is None or now - tok.last_used_at >= LAST_USE_EVERY:
        async with rt.db.write() as s:
            await s.execute(update(ApiToken).where(ApiToken.id == tok.id).values(last_used_at=now))
    return Principal(
        "agent",
        agent.id,
        name=agent.display_name,
        role=agent.role,
        token_id=tok.id,
        scopes=scopes,
        site_limit=None if tok.site_ids is None else frozenset(tok.site_ids),
    )
