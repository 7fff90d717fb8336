"""Agents attach files to replies: ``POST /api/files?conversation_id=..&name=..`` with the file
as the request body (a session cookie needs the CSRF header, as every write). The answer names
the upload; a message sent with its key carries it (docs/attachments.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tresen.auth.deps import RT, AgentDep
from tresen.conversations.files import TooLarge, check_upload

router = APIRouter(tags=["files"])


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` (streamed, not read whole first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(
            f"the file has {declared} bytes; the limit is {limit}", code="file_too_large"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is over the limit of {limit} bytes", code="file_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/api/files", status_code=201)
async def post_file(
    request: Request, conversation_id: int, rt: RT, who: AgentDep, name: str = "file"
) -> dict[str, Any]:
    data = await read_capped(request, rt.settings.attachment_max_bytes)
    return await check_upload(rt, who, conversation_id, name[:255], data)
