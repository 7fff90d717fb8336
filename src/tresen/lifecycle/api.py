"""Lifecycle settings per site and skill (admins), and the rating page of an email
conversation's closing mail (a signed, expiring link; no login)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from tresen.auth.deps import RT, AdminDep, AgentDep
from tresen.errors import Invalid, TresenError
from tresen.lifecycle.rating import check_rate_by_link, conversation_of_link
from tresen.lifecycle.settings import check_save_settings, settings_view, timers_for
from tresen.lifecycle.transcript import (
    TranscriptQueued,
    check_mail_transcript,
    known_address,
    masked,
)
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import LifecycleSettings
from tresen.visitors.request_auth import request_visitor

router = APIRouter(tags=["lifecycle"])


class SettingsIn(BaseModel):
    silent_after_seconds: int = Field(default=120, ge=5, le=86400)
    auto_nudge: bool = False
    close_after_minutes: int = Field(default=10, ge=0, le=10080)  # 0: never close
    wait_highlight_seconds: int = Field(default=20, ge=1, le=86400)
    nudge_texts: dict[str, str] = Field(default_factory=dict, max_length=3)
    closing_texts: dict[str, str] = Field(default_factory=dict, max_length=3)
    rating_scale: str = "stars"


@router.get("/api/sites/{site_id}/lifecycle")
async def get_settings(site_id: int, rt: RT, who: AgentDep, skill: str = "") -> dict[str, Any]:
    """The effective settings of a site (``skill`` "") or of chats asking for a skill."""
    async with rt.db.read() as s:
        await access_site_by_id(s, site_id)
        t = await timers_for(s, site_id, skill or None)
        row = (
            await s.execute(
                select(LifecycleSettings.id).where(
                    LifecycleSettings.site_id == site_id, LifecycleSettings.skill == skill
                )
            )
        ).first()
    return settings_view(site_id, skill, t, row is not None)


@router.put("/api/sites/{site_id}/lifecycle")
async def put_settings(
    site_id: int, body: SettingsIn, rt: RT, who: AdminDep, skill: str = ""
) -> dict[str, Any]:
    if len(skill) > 64:
        raise Invalid("skill: at most 64 characters")
    await check_save_settings(rt, site_id, skill, body.model_dump(), who)
    async with rt.db.read() as s:
        t = await timers_for(s, site_id, skill or None)
    return settings_view(site_id, skill, t, True)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Rate our answer</title><style>body{{font:16px system-ui,sans-serif;max-width:32rem;
margin:3rem auto;padding:0 1rem;color:#1d2330}}fieldset{{border:0;padding:0}}
label{{margin-right:.8rem}}textarea{{width:100%;min-height:6rem}}
button{{margin-top:1rem;padding:.5rem 1.2rem}}</style></head><body>{body}</body></html>"""


def _form(token: str) -> str:
    stars = "".join(
        f'<label><input type="radio" name="score" value="{n}" required> {n} ★</label>'
        for n in range(1, 6)
    )
    return (
        "<h1>How did we do?</h1>"
        f'<form method="post" action="/rate/{html.escape(token)}">'
        f"<fieldset><legend>Your rating</legend>{stars}</fieldset>"
        '<p><label for="c">Comment (optional)</label><br>'
        '<textarea id="c" name="comment" maxlength="2000"></textarea></p>'
        "<button>Send rating</button></form>"
    )


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        PAGE.format(body=body),
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/rate/{token}", include_in_schema=False)
async def rating_page(token: str, rt: RT) -> HTMLResponse:
    try:
        conversation_of_link(rt, token)
    except TresenError as e:
        return _page(f"<p>{html.escape(e.message)}</p>", 400)
    return _page(_form(token))


@router.post("/rate/{token}", include_in_schema=False)
async def rating_post(token: str, request: Request, rt: RT) -> HTMLResponse:
    form = parse_qs((await request.body()).decode(errors="replace"))
    try:
        given = (form.get("score") or [""])[0]
        score = int(given) if given.isdigit() and len(given) == 1 else 0
        await check_rate_by_link(rt, token, score, (form.get("comment") or [""])[0])
    except TresenError as e:
        return _page(f"<p>{html.escape(e.message)}</p>", e.status)
    return _page("<h1>Thank you!</h1><p>Your rating has been saved.</p>")


class TranscriptMailIn(BaseModel):
    email: str = Field(default="", max_length=320)


class VisitorTranscriptMailIn(TranscriptMailIn):
    site_key: str = Field(max_length=64)
    conversation_id: int


def _queued(q: TranscriptQueued) -> dict[str, Any]:
    return {"conversation_id": q.conversation_id, "seq": q.seq, "to": q.to, "state": "queued"}


@router.post("/api/conversations/{conversation_id}/transcript-mail", status_code=202)
async def post_transcript_mail(
    conversation_id: int, body: TranscriptMailIn, rt: RT, who: AgentDep
) -> dict[str, Any]:
    """An agent sends the chat's transcript by email (to ``email``, else the known address)."""
    return _queued(await check_mail_transcript(rt, who, conversation_id, body.email))


@router.get("/api/visitor/transcript-mail")
async def get_visitor_transcript_mail(
    site_key: str, conversation_id: int, request: Request, rt: RT
) -> dict[str, Any]:
    """The widget's transcript form, prefilled: the address the transcript would go to (the
    one left in this conversation, else the visitor's known one), or null."""
    _, who = await request_visitor(rt, request, site_key)
    return {"email": await known_address(rt, who, conversation_id)}


@router.post("/api/visitor/transcript-mail", status_code=202)
async def post_visitor_transcript_mail(
    body: VisitorTranscriptMailIn, request: Request, rt: RT
) -> dict[str, Any]:
    """The widget, at the end of a chat: the transcript to the address the visitor typed."""
    _, who = await request_visitor(rt, request, body.site_key)
    ip = request.client.host if request.client else None
    queued = await check_mail_transcript(rt, who, body.conversation_id, body.email, client_ip=ip)
    return {**_queued(queued), "to": masked(queued.to)}
