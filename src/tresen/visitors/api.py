"""Visitor HTTP endpoints: open a session (token for the socket), read own history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, select

from tresen.auth.deps import RT
from tresen.conversations.queries import messages_page, visitor_conversations
from tresen.conversations.wire import conversation_dict
from tresen.errors import Forbidden, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import site_by_key
from tresen.storage.models import ChannelAccount, Conversation, Site
from tresen.visitors.actions import (
    IdentityClaim,
    check_open_visitor_session,
    origin_allowed,
    visitor_from_token,
)

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
    convs: list[Conversation] = []
    site_id = vs.visitor.site_id
    if vs.created:  # a new visitor has no conversations: one grouped read of the flags
        flags = await rt.db.read_grouped(lambda c: c.execute(_flags(site_id)).first())
    else:
        async with rt.db.read() as s:
            convs = await visitor_conversations(s, vs.visitor.id)
            flags = (await s.execute(_flags(site_id))).first()
    return {
        "token": vs.token,
        "visitor_id": vs.visitor.id,
        "verified": vs.verified,
        "name": vs.visitor.name,
        "conversations": [conversation_dict(c, for_visitor=True) for c in convs],
        "invited_conversation": vs.invited_conversation,
        # the widget offers "Continue on WhatsApp" (docs/channels.md)
        "whatsapp": bool(flags and flags.whatsapp),
        "uploads": bool(flags and flags.visitor_uploads),  # files in the widget (attachments.md)
    }


def _flags(site_id: int) -> Select[bool, bool]:
    """The site's flags the widget needs: visitor uploads allowed, an enabled WhatsApp number."""
    number = (
        select(ChannelAccount.id)
        .where(
            ChannelAccount.site_id == site_id,
            ChannelAccount.kind == "whatsapp",
            ChannelAccount.enabled.is_(True),
            ChannelAccount.phone != "",
        )
        .exists()
    )
    return select(Site.visitor_uploads, number.label("whatsapp")).where(Site.id == site_id)


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
