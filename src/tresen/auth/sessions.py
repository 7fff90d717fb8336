"""Agent browser sessions, CSRF tokens, single-use WebSocket tickets and login limits.

Ending a session (logout, a password change, deactivation) records ``AgentSessionsEnded``: the
sockets opened with its tickets close on every node (close code 4001).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import RateLimited, Unauthorized
from tresen.events import AgentSessionsEnded, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.passwords import verify_password
from tresen.security.tokens import BadToken, hash_token, random_token
from tresen.storage.models import Agent, AgentSession

DEVICE_TTL_SECONDS = 180 * 24 * 3600
"""A browser that logged in as an agent is known for this long: guesses by others at that
account (the per-account limit) do not lock it out."""


@dataclass(frozen=True)
class LoggedIn:
    token: str
    csrf_token: str
    agent: Agent
    device_token: str


async def check_login(
    rt: Runtime, username: str, password: str, client_ip: str, device: str | None = None
) -> LoggedIn:
    """Per IP: every attempt counts. Per account: failed attempts count, except from a browser
    that logged in as this agent before (its device cookie), so others' guesses never lock the
    rightful owner out."""
    limit = rt.settings.login_attempts_per_minute
    if not await rt.limiter.hit(f"login-ip:{client_ip}", limit, 60):
        raise RateLimited("too many login attempts; wait a minute and try again")
    account_key = f"login-fail:{username.lower()}"
    known_device = _device_agent(rt, device)
    async with rt.db.read() as s:
        stmt = select(Agent).where(Agent.username == username)
        agent = (await s.execute(stmt)).scalar_one_or_none()
    trusted = agent is not None and known_device == agent.id
    if not trusted and await rt.limiter.count(account_key, 60) >= limit:
        raise RateLimited("too many login attempts; wait a minute and try again")
    valid = verify_password(agent.password_hash if agent else None, password)
    if agent is None or not valid or not agent.is_active:
        if not trusted:
            await rt.limiter.hit(account_key, limit, 60)
        raise Unauthorized("wrong username or password", code="bad_credentials")
    return await do_create_session(rt, agent)


def _device_agent(rt: Runtime, device: str | None) -> int | None:
    if not device:
        return None
    try:
        payload = rt.device_signer.unsign(device, now=rt.clock.now().timestamp())
    except BadToken:
        return None
    return payload.get("agent") if isinstance(payload.get("agent"), int) else None


async def do_create_session(rt: Runtime, agent: Agent) -> LoggedIn:
    token, csrf = random_token(), random_token(24)
    now = rt.clock.now()
    async with rt.db.write() as s:
        s.add(
            AgentSession(
                token_hash=hash_token(token),
                agent_id=agent.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(seconds=rt.settings.session_ttl_seconds),
            )
        )
        await s.execute(delete(AgentSession).where(AgentSession.expires_at < now))
    device = rt.device_signer.sign(
        {"agent": agent.id}, expires_at=now.timestamp() + DEVICE_TTL_SECONDS
    )
    return LoggedIn(token=token, csrf_token=csrf, agent=agent, device_token=device)


async def do_logout(rt: Runtime, token: str) -> None:
    async with rt.db.write() as s:
        row = await _session_by_token(s, token)
        if row is not None:
            await s.delete(row)
            record(s, AgentSessionsEnded(row.agent_id, (row.id,), "logout"))


async def do_end_sessions(
    s: AsyncSession, agent_id: int, reason: str, *, keep_token: str | None = None
) -> None:
    """Inside a write: end every session of the agent but the one of ``keep_token``."""
    stmt = select(AgentSession.id).where(AgentSession.agent_id == agent_id)
    if keep_token:
        stmt = stmt.where(AgentSession.token_hash != hash_token(keep_token))
    ids = tuple((await s.execute(stmt)).scalars())
    if ids:
        await s.execute(delete(AgentSession).where(AgentSession.id.in_(ids)))
    record(s, AgentSessionsEnded(agent_id, None if keep_token is None else ids, reason))


async def _session_by_token(s: AsyncSession, token: str) -> AgentSession | None:
    stmt = select(AgentSession).where(AgentSession.token_hash == hash_token(token))
    return (await s.execute(stmt)).scalar_one_or_none()


async def session_agent(rt: Runtime, token: str) -> tuple[Agent, str]:
    """The agent behind a session cookie and the session's CSRF token."""
    agent, session = await _live_session(rt, token)
    return agent, session.csrf_token


async def _live_session(rt: Runtime, token: str) -> tuple[Agent, AgentSession]:
    async with rt.db.read() as s:
        row = (
            await s.execute(
                select(Agent, AgentSession)
                .join(AgentSession, AgentSession.agent_id == Agent.id)
                .where(
                    AgentSession.token_hash == hash_token(token),
                    AgentSession.expires_at > rt.clock.now(),
                )
            )
        ).first()
    if row is None or not row[0].is_active:
        raise Unauthorized("not logged in or session expired", code="not_logged_in")
    return row[0], row[1]


async def check_issue_ws_ticket(rt: Runtime, token: str) -> str:
    """A ticket for one agent socket: bound to this session, usable once, within its TTL."""
    agent, session = await _live_session(rt, token)
    expires = rt.clock.now().timestamp() + rt.settings.ticket_ttl_seconds
    payload = {"agent": agent.id, "sid": session.id, "n": random_token(12)}
    return rt.ticket_signer.sign(payload, expires_at=expires)


async def agent_from_ticket(rt: Runtime, ticket: str) -> Principal:
    try:
        payload = rt.ticket_signer.unsign(ticket, now=rt.clock.now().timestamp())
    except BadToken as exc:
        raise Unauthorized(f"WebSocket ticket rejected: {exc}", code="bad_ticket") from exc
    agent_id, session_id, nonce = payload.get("agent"), payload.get("sid"), payload.get("n")
    if not (isinstance(agent_id, int) and isinstance(session_id, int) and isinstance(nonce, str)):
        raise Unauthorized("WebSocket ticket rejected: malformed ticket", code="bad_ticket")
    ttl = rt.settings.ticket_ttl_seconds + 1
    if not await rt.limiter.claim(f"ticket:{nonce}", ttl):
        raise Unauthorized("WebSocket ticket rejected: already used", code="bad_ticket")
    async with rt.db.read() as s:
        agent = await s.get(Agent, agent_id)
        session = await s.get(AgentSession, session_id)
    if (
        agent is None
        or not agent.is_active
        or session is None
        or session.expires_at <= rt.clock.now()
        or session.agent_id != agent.id
    ):
        raise Unauthorized("WebSocket ticket rejected: session ended", code="bad_ticket")
    return Principal(
        "agent", agent.id, name=agent.display_name, role=agent.role, session_id=session_id
    )
