"""FastAPI dependencies: the runtime, the logged-in agent, CSRF and admin checks."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from tresen.auth.bearer import token_principal
from tresen.auth.sessions import session_agent
from tresen.errors import Forbidden, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime

SESSION_COOKIE = "tresen_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_rt(request: Request) -> Runtime:
    """``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in its
    thread pool, a hop to a thread and back on every request that names the runtime."""
    return request.app.state.rt  # type: ignore[no-any-return]


RT = Annotated[Runtime, Depends(get_rt)]


async def current_agent(request: Request, rt: RT) -> Principal:
    """The agent behind an API token (``Authorization: Bearer``) or the session cookie; with
    the cookie, state-changing requests must carry the CSRF token."""
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        return await token_principal(rt, bearer.strip(), request.method, request.url.path)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("log in first", code="not_logged_in")
    agent, csrf = await session_agent(rt, token)
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given, csrf):
            raise Forbidden("missing or wrong CSRF token (header X-CSRF-Token)", code="csrf")
    return Principal("agent", agent.id, name=agent.display_name, role=agent.role)


async def current_browser_agent(
    who: Annotated[Principal, Depends(current_agent)],
) -> Principal:
    """The logged-in browser only: what an API token must never do (issue tokens, tickets)."""
    if who.token_id is not None:
        raise Forbidden("not with an API token; log in", code="scope")
    return who


async def current_admin(who: Annotated[Principal, Depends(current_agent)]) -> Principal:
    if not who.is_admin:
        raise Forbidden("admins only")
    return who


async def current_supervisor(who: Annotated[Principal, Depends(current_agent)]) -> Principal:
    if who.role not in ("admin", "supervisor"):
        raise Forbidden("supervisors and admins only")
    return who


AgentDep = Annotated[Principal, Depends(current_agent)]
AdminDep = Annotated[Principal, Depends(current_admin)]
BrowserDep = Annotated[Principal, Depends(current_browser_agent)]
SupervisorDep = Annotated[Principal, Depends(current_supervisor)]
