"""Login, logout, who am I, and WebSocket tickets."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tresen.agents.queries import agent_public
from tresen.auth.deps import RT, SESSION_COOKIE, AgentDep
from tresen.auth.sessions import (
    DEVICE_TTL_SECONDS,
    check_issue_ws_ticket,
    check_login,
    do_logout,
    session_agent,
)

router = APIRouter(prefix="/api/auth", tags=["auth"])
DEVICE_COOKIE = "tresen_device"


class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


@router.post("/login")
async def login(body: LoginIn, request: Request, response: Response, rt: RT) -> dict[str, object]:
    ip = request.client.host if request.client else "unknown"
    device = request.cookies.get(DEVICE_COOKIE)
    done = await check_login(rt, body.username, body.password, ip, device)
    secure = rt.settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        done.token,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=rt.settings.session_ttl_seconds,
        path="/",
    )
    response.set_cookie(
        DEVICE_COOKIE,
        done.device_token,
        httponly=True,
        samesite="strict",
        secure=secure,
        max_age=DEVICE_TTL_SECONDS,
        path="/api/auth/login",
    )
    return {"agent": agent_public(done.agent), "csrf_token": done.csrf_token}


@router.post("/logout")
async def logout(request: Request, response: Response, rt: RT, who: AgentDep) -> dict[str, bool]:
    await do_logout(rt, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
async def me(request: Request, rt: RT, who: AgentDep) -> dict[str, object]:
    agent, csrf = await session_agent(rt, request.cookies.get(SESSION_COOKIE, ""))
    return {"agent": agent_public(agent), "csrf_token": csrf}


@router.post("/ws-ticket")
async def ws_ticket(request: Request, rt: RT, who: AgentDep) -> dict[str, object]:
    ticket = await check_issue_ws_ticket(rt, request.cookies.get(SESSION_COOKIE, ""))
    return {"ticket": ticket, "expires_in": rt.settings.ticket_ttl_seconds}
