"""Agent browser sessions, CSRF tokens and WebSocket tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from tresen.errors import RateLimited, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.passwords import verify_password
from tresen.security.tokens import BadToken, hash_token, random_token
from tresen.storage.models import Agent, AgentSession


@dataclass(frozen=True)
class LoggedIn:
    token: str
    csrf_token: str
    agent: Agent


async def check_login(rt: Runtime, username: str, password: str, client_ip: str) -> LoggedIn:
    limit = rt.settings.login_attempts_per_minute
    for key in (f"login-ip:{client_ip}", f"login-user:{username.lower()}"):
        if not await rt.limiter.hit(key, limit, 60):
            raise RateLimited("too many login attempts; wait a minute and try again")
    async with rt.db.read() as s:
        stmt = select(Agent).where(Agent.username == username)
        agent = (await s.execute(stmt)).scalar_one_or_none()
    valid = verify_password(agent.password_hash if agent else None, password)
    if agent is None or not valid or not agent.is_active:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    return await do_create_session(rt, agent)


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
    return LoggedIn(token=token, csrf_token=csrf, agent=agent)


async def do_logout(rt: Runtime, token: str) -> None:
    async with rt.db.write() as s:
        await s.execute(delete(AgentSession).where(AgentSession.token_hash == hash_token(token)))


async def session_agent(rt: Runtime, token: str) -> tuple[Agent, str]:
    """The agent behind a session cookie and the session's CSRF token."""
    async with rt.db.read() as s:
        row = (
            await s.execute(
                select(Agent, AgentSession.csrf_token)
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


def issue_ws_ticket(rt: Runtime, agent: Agent) -> str:
    expires = rt.clock.now().timestamp() + rt.settings.ticket_ttl_seconds
    return rt.ticket_signer.sign({"agent": agent.id}, expires_at=expires)


async def agent_from_ticket(rt: Runtime, ticket: str) -> Principal:
    try:
        payload = rt.ticket_signer.unsign(ticket, now=rt.clock.now().timestamp())
    except BadToken as exc:
        raise Unauthorized(f"WebSocket ticket rejected: {exc}", code="bad_ticket") from exc
    async with rt.db.read() as s:
        agent = await s.get(Agent, int(payload["agent"]))
    if agent is None or not agent.is_active:
        raise Unauthorized("agent no longer exists", code="bad_ticket")
    return Principal("agent", agent.id, name=agent.display_name, role=agent.role)
