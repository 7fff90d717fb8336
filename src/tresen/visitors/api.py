"""Visitor HTTP endpoints: open a session (token for the socket), read own history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tresen.auth.deps import RT
from tresen.conversations.queries import messages_page
from tresen.errors import Forbidden, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import site_by_key
from tresen.visitors.actions import (
    IdentityClaim,
    check_open_visitor_session,
    origin_allowed,
    visitor_from_token,
)
from tresen.visitors.session import session_reply

router = APIRouter(prefix="/api/visitor", tags=["visitor"])


class IdentityIn(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    hash: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    attributes: dict[str, Any] | None = None


class SessionIn(BaseModel):
    site_key: str = Field(max_length=64)
    token: str | None = Field(default=None, max_length=512)
    identity: IdentityIn | None = None
    invite: str | None = Field(default=None, max_length=1024)  # a chat link from an email


@router.post("/session")
async def open_session(body: SessionIn, request: Request, rt: RT) -> dict[str, Any]:
    claim = IdentityClaim(**body.identity.model_dump()) if body.identity else None
    vs = await check_open_visitor_session(
        rt,
        body.site_key,
        request.headers.get("origin"),
        request.headers.get("host"),
        body.token,
        claim,
        body.invite,
        client_ip=request.client.host if request.client else "unknown",
    )
    return await session_reply(rt, vs)


async def _visitor(rt: Runtime, request: Request, site_key: str) -> Principal:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized(
            "send the visitor token as 'Authorization: Bearer ...'", code="bad_token"
        )
    async with rt.db.read() as s:
        site = await site_by_key(s, site_key)
    if not origin_allowed(site, request.headers.get("origin"), request.headers.get("host")):
        raise Forbidden("this origin is not allowed for the site", code="bad_origin")
    return await visitor_from_token(rt, site, auth[7:].strip())


@router.get("/conversations/{conversation_id}/messages")
async def own_messages(
    conversation_id: int,
    site_key: str,
    request: Request,
    rt: RT,
    after_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    who = await _visitor(rt, request, site_key)
    async with rt.db.read() as s:
        page = await messages_page(
            s, who, conversation_id, after_seq=after_seq, before_seq=before_seq, limit=limit
        )
    return [m.model_dump(mode="json") for m in page]
