"""A web visitor's files: the files of their own conversations, fetched by the widget with the
visitor token (never by a guessable link), and, where the site allows it
(``sites.visitor_uploads``, off by default), uploading a file into their open conversation
with the same checks as agents' (docs/attachments.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from tresen.auth.deps import RT
from tresen.conversations.files import check_upload, file_headers
from tresen.conversations.files_api import read_capped
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Forbidden, NotFound, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import site_by_key
from tresen.storage.models import ChannelMedia, Message
from tresen.visitors.actions import origin_allowed, visitor_from_token

router = APIRouter(tags=["visitor files"])


async def _visitor(rt: Runtime, request: Request, site_key: str) -> Principal:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized("send the visitor token as 'Authorization: Bearer ...'")
    async with rt.db.read() as s:
        site = await site_by_key(s, site_key[:64])
    if not origin_allowed(site, request.headers.get("origin"), request.headers.get("host")):
        raise Forbidden("this origin is not allowed for the site", code="bad_origin")
    return await visitor_from_token(rt, site, auth[7:].strip())


@router.post("/api/visitor/files", status_code=201)
async def post_visitor_file(
    request: Request, rt: RT, site_key: str, conversation_id: int, name: str = "file"
) -> dict[str, Any]:
    who = await _visitor(rt, request, site_key)
    data = await read_capped(request, rt.settings.attachment_max_bytes)
    return await check_upload(rt, who, conversation_id, name[:255], data)


@router.get("/api/visitor/files/{key}")
async def get_visitor_file(key: str, request: Request, rt: RT, site_key: str) -> Response:
    """A file of a message the visitor can see (not an internal note's)."""
    who = await _visitor(rt, request, site_key)
    async with rt.db.read() as s:
        row = (
            await s.execute(
                select(ChannelMedia)
                .join(Message, Message.id == ChannelMedia.message_id)
                .where(ChannelMedia.key == key[:32], Message.internal.is_(False))
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("no such file", code="no_media")
        await access_conversation_by_id(s, who, row.conversation_id)
    media_type, headers = file_headers(row)
    return Response(row.data, media_type=media_type, headers=headers)
