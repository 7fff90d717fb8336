"""Conversations for agents and API clients: list, read, page history, reply, change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, AgentDep
from tresen.conversations import actions
from tresen.conversations.organize import tags_of
from tresen.conversations.queries import (
    access_conversation_by_id,
    list_conversations,
    messages_page,
)
from tresen.conversations.wire import conversation_dict
from tresen.storage.pagination import (
    clamp_limit,
    cursor_int,
    decode_cursor,
    encode_cursor,
    page_of,
    set_next_cursor,
)

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


class MessageIn(BaseModel):
    body: str = ""
    internal: bool = False
    client_msg_id: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=64)
    attachments: list[str] = Field(default_factory=list, max_length=10)  # uploaded files' keys


class ConversationPatch(BaseModel):
    status: str | None = None
    assignee_id: int | None = None
    unassign: bool = False


@router.get("")
async def get_conversations(
    rt: RT,
    who: AgentDep,
    response: Response,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    before_id: int | None = None,
    site_id: int | None = None,
    updated_since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Newest first, of the sites ``who`` serves. ``updated_since`` (ISO 8601): changed since
    then. The next page's cursor is in ``X-Next-Cursor`` (absent on the last page)."""
    limit = clamp_limit(limit)
    before = cursor_int(decode_cursor(cursor), "before") or before_id
    if updated_since is not None and updated_since.tzinfo is None:
        updated_since = updated_since.replace(tzinfo=UTC)
    async with rt.db.read() as s:
        convs = await list_conversations(
            s,
            sites=await site_ids_for(s, who),
            status=status,
            limit=limit + 1,
            before_id=before,
            site_id=site_id,
            updated_since=updated_since,
        )
    page, next_cursor = page_of(convs, limit, lambda c: {"before": c.id})
    set_next_cursor(response, next_cursor)
    return [conversation_dict(c) for c in page]


@router.get("/{conversation_id}")
async def get_conversation(conversation_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        return {**conversation_dict(conv), "tags": await tags_of(s, conv.id)}


@router.get("/{conversation_id}/messages")
async def get_messages(
    conversation_id: int,
    rt: RT,
    who: AgentDep,
    response: Response,
    after_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """History, oldest first. ``before_seq`` pages backwards; ``after_seq`` (or ``cursor``)
    forwards: a whole transcript is read by following ``X-Next-Cursor``."""
    key = decode_cursor(cursor)
    if key:
        after_seq = cursor_int(key, "after_seq")
    limit = clamp_limit(limit)
    async with rt.db.read() as s:
        page = await messages_page(
            s, who, conversation_id, after_seq=after_seq, before_seq=before_seq, limit=limit
        )
    if len(page) == limit and (after_seq is not None or before_seq is None):
        set_next_cursor(response, encode_cursor({"after_seq": page[-1].seq}))
    return [m.model_dump(mode="json") for m in page]


@router.post("/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: int, body: MessageIn, rt: RT, who: AgentDep
) -> dict[str, Any]:
    sent = await actions.check_send_message(
        rt,
        who,
        body=body.body,
        client_msg_id=body.client_msg_id,
        conversation_id=conversation_id,
        internal=body.internal,
        attachments=body.attachments,
    )
    return {**sent.message.model_dump(mode="json"), "duplicate": sent.duplicate}


@router.patch("/{conversation_id}")
async def patch_conversation(
    conversation_id: int, body: ConversationPatch, rt: RT, who: AgentDep
) -> dict[str, Any]:
    conv = None
    if body.status is not None:
        conv = await actions.check_set_status(rt, who, conversation_id, body.status)
    if body.assignee_id is not None or body.unassign:
        conv = await actions.check_assign(rt, who, conversation_id, body.assignee_id)
    if conv is None:
        async with rt.db.read() as s:
            conv = await access_conversation_by_id(s, who, conversation_id)
    return conversation_dict(conv)
