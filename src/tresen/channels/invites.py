"""Inviting a customer from an email into a live chat (and co-browsing): the agent's action
and the page the link opens. The link is sent as the agent's message in the conversation, so
on the email channel it goes out by mail from the outbox like any reply.

Opening the link: still usable -> to the site's page with ``#tresen-invite=<token>``, where the
widget redeems it (``visitors/invites.py``) and opens on the conversation; expired or used up
-> a page that says so, with a button for a new chat."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.deps import RT, AgentDep
from tresen.channels.email import recipient
from tresen.conversations.actions import check_send_message
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Forbidden, Invalid
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.tokens import BadToken
from tresen.sites.actions import normalize_origin
from tresen.storage.models import ChatInvite, Site, Visitor
from tresen.visitors.invites import InviteUnusable, access_invite, invite_signer

router = APIRouter(tags=["channels"])


class InviteIn(BaseModel):
    page: str | None = Field(default=None, max_length=2000)  # where the widget opens
    text: str = Field(default="Join me in a live chat, I can show you around:", max_length=500)
    hours: int = Field(default=72, ge=1, le=24 * 14)
    max_uses: int = Field(default=3, ge=1, le=20)


@dataclass(frozen=True)
class Invited:
    link: str
    seq: int
    expires_at: str


def _check_page(rt: Runtime, site: Site, page: str | None) -> str:
    allowed = [*site.allowed_origins, normalize_origin(rt.settings.public_url)]
    page = page or (site.allowed_origins[0] + "/" if site.allowed_origins else "")
    if not page:
        raise Invalid("the site has no page to open the chat on; give one", code="no_page")
    try:
        origin = normalize_origin(f"{urlsplit(page).scheme}://{urlsplit(page).netloc}")
    except Invalid:
        raise Invalid(f"not a page of the site: {page!r}", code="bad_page") from None
    if origin not in allowed:
        raise Invalid(f"{origin} is not one of the site's origins", code="bad_page")
    return page.split("#", 1)[0]


async def check_invite_to_chat(
    rt: Runtime, who: Principal, conversation_id: int, data: InviteIn
) -> Invited:
    if who.kind != "agent":
        raise Forbidden("only agents invite")
    now = rt.clock.now()
    nonce = secrets.token_urlsafe(18)
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        site = await s.get(Site, conv.site_id)
        assert site is not None
        email = recipient(conv, await s.get(Visitor, conv.visitor_id))
        if not email:
            raise Invalid("the customer has no email address", code="no_email")
        row = ChatInvite(
            nonce=nonce,
            site_id=site.id,
            conversation_id=conv.id,
            visitor_id=conv.visitor_id,
            email=email,
            page=_check_page(rt, site, data.page),
            max_uses=data.max_uses,
            expires_at=now + timedelta(hours=data.hours),
            created_by=who.id,
            created_at=now,
        )
        s.add(row)
    token = invite_signer(rt).sign({"n": nonce}, expires_at=row.expires_at.timestamp())
    link = f"{rt.settings.public_url.rstrip('/')}/invite/{token}"
    sent = await check_send_message(
        rt,
        who,
        body=f"{data.text}\n{link}",
        client_msg_id=f"invite-{nonce}",
        conversation_id=conversation_id,
    )
    return Invited(link, sent.message.seq, row.expires_at.isoformat())


@router.post("/api/conversations/{conversation_id}/chat-invite", status_code=201)
async def post_invite(
    conversation_id: int, body: InviteIn, rt: RT, who: AgentDep
) -> dict[str, object]:
    invited = await check_invite_to_chat(rt, who, conversation_id, body)
    return {"link": invited.link, "seq": invited.seq, "expires_at": invited.expires_at}


@router.get("/invite/{token}", include_in_schema=False)
async def open_invite(token: str, rt: RT) -> Response:
    async with rt.db.read() as s:
        try:
            row = await access_invite(rt, s, token)
        except InviteUnusable as exc:
            return _unusable(exc.message, await _page_of(rt, s, token))
    return RedirectResponse(f"{row.page}#tresen-invite={token}", status_code=303)


async def _page_of(rt: Runtime, s: AsyncSession, token: str) -> str | None:
    """The page of a genuine but expired or used-up link, for the "new chat" button."""
    try:
        nonce = invite_signer(rt).unsign(token, now=0)["n"]  # signature only, not the expiry
    except (BadToken, KeyError):
        return None
    stmt = select(ChatInvite.page).where(ChatInvite.nonce == str(nonce))
    return (await s.execute(stmt)).scalar_one_or_none()


def _unusable(reason: str, page: str | None) -> HTMLResponse:
    button = (
        f'<p><a class="button" href="{html.escape(page + "#tresen-open", quote=True)}">'
        "Start a new chat</a></p>"
        if page
        else ""
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Chat link</title><style>body{{font-family:sans-serif;max-width:32rem;margin:4rem auto;
padding:0 1rem}}.button{{display:inline-block;padding:.6rem 1rem;background:#2451b7;color:#fff;
border-radius:6px;text-decoration:none}}</style></head>
<body><h1>This chat link cannot be used</h1><p>{html.escape(reason.capitalize())}.</p>
{button}</body></html>"""
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(body, status_code=410, headers=headers)
