"""Messaging channel routes: a site's accounts and templates (admins), what the composer of a
conversation may do (its reply window, templates, capabilities), sending a template or a private
reply (agents), the media customers sent (agents), and the WhatsApp link for the widget."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from tresen.auth.deps import RT, AdminDep, AgentDep
from tresen.channels.accounts import (
    AccountIn,
    account_view,
    check_save_account,
    do_delete_account,
    site_accounts,
)
from tresen.channels.handoff import qr_svg, wa_link
from tresen.channels.private_reply import PrivateReplyIn, check_private_reply
from tresen.channels.templates import (
    TemplateIn,
    TemplateSend,
    check_save_template,
    check_send_template,
    do_delete_template,
    site_templates,
    template_view,
)
from tresen.conversations.files import file_headers
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.window import window_state
from tresen.errors import NotFound
from tresen.storage.models import ChannelAccount, ChannelMedia
from tresen.visitors.request_auth import request_visitor

router = APIRouter(tags=["channels"])
NO_COBROWSE = {"whatsapp", "messenger", "telegram", "facebook", "email"}


@router.get("/api/sites/{site_id}/channel-accounts")
async def get_accounts(site_id: int, rt: RT, who: AdminDep) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        return [account_view(rt, a) for a in await site_accounts(s, site_id)]


@router.post("/api/sites/{site_id}/channel-accounts", status_code=201)
async def post_account(site_id: int, body: AccountIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    return account_view(rt, await check_save_account(rt, site_id, body, actor=who))


@router.put("/api/sites/{site_id}/channel-accounts/{account_id}")
async def put_account(
    site_id: int, account_id: int, body: AccountIn, rt: RT, who: AdminDep
) -> dict[str, Any]:
    return account_view(rt, await check_save_account(rt, site_id, body, account_id, who))


@router.delete("/api/sites/{site_id}/channel-accounts/{account_id}", status_code=204)
async def delete_account(site_id: int, account_id: int, rt: RT, who: AdminDep) -> Response:
    await do_delete_account(rt, site_id, account_id, who)
    return Response(status_code=204)


@router.get("/api/sites/{site_id}/templates")
async def get_templates(site_id: int, rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    return [template_view(t) for t in await site_templates(rt, site_id)]


@router.post("/api/sites/{site_id}/templates", status_code=201)
async def post_template(site_id: int, body: TemplateIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    return template_view(await check_save_template(rt, site_id, body))


@router.delete("/api/sites/{site_id}/templates/{template_id}", status_code=204)
async def delete_template(site_id: int, template_id: int, rt: RT, who: AdminDep) -> Response:
    await do_delete_template(rt, site_id, template_id)
    return Response(status_code=204)


@router.get("/api/conversations/{conversation_id}/composer")
async def get_composer(conversation_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    """What the composer offers: the reply window (and seconds left), WhatsApp templates,
    co-browsing, private replies to comments."""
    async with rt.db.read() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
    meta = conv.meta or {}
    templates = await site_templates(rt, conv.site_id) if conv.channel == "whatsapp" else []
    return {
        "channel": conv.channel,
        "window": window_state(meta, rt.clock.now()),
        "templates": [template_view(t) for t in templates],
        "cobrowse": conv.channel not in NO_COBROWSE,
        "public": bool(meta.get("public")),
        "private_reply": conv.channel == "facebook" and not meta.get("private_conversation_id"),
        "private_conversation_id": meta.get("private_conversation_id"),
        "comment_conversation_id": meta.get("comment_conversation_id"),
    }


def _sent(sent: Any) -> dict[str, Any]:
    return {
        **sent.message.model_dump(mode="json"),
        "conversation_id": sent.conversation.id,
        "duplicate": sent.duplicate,
    }


@router.post("/api/conversations/{conversation_id}/template", status_code=201)
async def post_template_message(
    conversation_id: int, body: TemplateSend, rt: RT, who: AgentDep
) -> dict[str, Any]:
    return _sent(await check_send_template(rt, who, conversation_id, body))


@router.post("/api/conversations/{conversation_id}/private-reply", status_code=201)
async def post_private_reply(
    conversation_id: int, body: PrivateReplyIn, rt: RT, who: AgentDep
) -> dict[str, Any]:
    return _sent(await check_private_reply(rt, who, conversation_id, body))


@router.get("/api/channel-media/{key}")
async def get_media(key: str, rt: RT, who: AgentDep) -> Response:
    """A customer's image or file: never sniffed, images inline, anything else downloaded."""
    async with rt.db.read() as s:
        row = (
            await s.execute(select(ChannelMedia).where(ChannelMedia.key == key[:32]))
        ).scalar_one_or_none()
        if row is None:
            raise NotFound("no such file", code="no_media")
        await access_conversation_by_id(s, who, row.conversation_id)
    media_type, headers = file_headers(row)
    return Response(row.data, media_type=media_type, headers=headers)


class HandoffIn(BaseModel):
    site_key: str = Field(max_length=64)
    conversation_id: int
    text: str = Field(default="Continue my chat", max_length=200)


@router.post("/api/visitor/whatsapp-link")
async def post_whatsapp_link(body: HandoffIn, request: Request, rt: RT) -> dict[str, Any]:
    """The widget's "continue on WhatsApp": a wa.me link with a signed reference to the
    visitor's conversation, and its QR code (SVG)."""
    site, who = await request_visitor(rt, request, body.site_key)
    async with rt.db.read() as s:
        await access_conversation_by_id(s, who, body.conversation_id)
        account = (
            (
                await s.execute(
                    select(ChannelAccount).where(
                        ChannelAccount.site_id == site.id,
                        ChannelAccount.kind == "whatsapp",
                        ChannelAccount.enabled.is_(True),
                        ChannelAccount.phone != "",
                    )
                )
            )
            .scalars()
            .first()
        )
    if account is None:
        raise NotFound("this site has no WhatsApp number", code="no_whatsapp")
    url = wa_link(account.phone, rt.settings.secret_key, body.conversation_id, body.text)
    return {"url": url, "qr_svg": qr_svg(url)}
