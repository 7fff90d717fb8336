"""Opting out of the summary from the mail itself (docs/reports.md, "Summary mail"): each mail
carries a signed link (``List-Unsubscribe`` with ``List-Unsubscribe-Post: One-Click``, RFC 8058,
and a link in the body). ``GET`` shows a page that asks (mail scanners open links; a GET changes
nothing), ``POST`` (the page's button, or the mail program's one click) turns the summary off for
that supervisor only. A forged, expired or stale link (the supervisor opted in again since the
mail) gets a clear error page and changes nothing. No login: the link is the credential, so no
cookie and no CSRF token are involved."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tresen.auth.deps import RT
from tresen.digest.actions import do_unsubscribe
from tresen.digest.links import PATH, claims_of
from tresen.digest.texts import words
from tresen.runtime import Runtime
from tresen.storage.models import ReportDigest

router = APIRouter(tags=["reports"])
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


async def _language(rt: Runtime, agent_id: int | None) -> str:
    if agent_id is not None:
        async with rt.db.read() as s:
            d = await s.get(ReportDigest, agent_id)
        if d is not None and d.language:
            return d.language
    return rt.settings.digest_language


def _page(language: str, body: str, status: int = 200) -> HTMLResponse:
    w, esc = words(language), html.escape
    page = f"""<!doctype html>
<html lang="{esc(language, quote=True)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><meta name="robots" content="noindex">
<title>{esc(w["page_title"])}</title><style>body{{font-family:sans-serif;max-width:32rem;
margin:4rem auto;padding:0 1rem}}button{{padding:.6rem 1rem;background:#2451b7;color:#fff;
border:0;border-radius:6px;font-size:1rem}}</style></head>
<body><h1>{esc(w["page_title"])}</h1>{body}</body></html>"""
    return HTMLResponse(page, status_code=status, headers=HEADERS)


async def _invalid(rt: Runtime) -> HTMLResponse:
    language = rt.settings.digest_language
    return _page(language, f"<p>{html.escape(words(language)['bad_link'])}</p>", 400)


@router.get(PATH, include_in_schema=False)
async def ask(rt: RT, t: str = "") -> HTMLResponse:
    claims = claims_of(rt, t)
    if claims is None:
        return await _invalid(rt)
    async with rt.db.read() as s:
        d = await s.get(ReportDigest, claims[0])
    if d is None or d.since.timestamp() != claims[1]:
        return await _invalid(rt)
    language = d.language or rt.settings.digest_language
    w, esc = words(language), html.escape
    form = (
        f"<p>{esc(w['confirm'].format(email=d.email))}</p>"
        f'<form method="post" action="{esc(PATH + "?t=" + quote(t), quote=True)}">'
        f'<button type="submit">{esc(w["confirm_button"])}</button></form>'
    )
    return _page(language, form)


@router.post(PATH, include_in_schema=False)
async def stop(rt: RT, t: str = "") -> HTMLResponse:
    """The page's button or a mail program's one-click POST (``List-Unsubscribe=One-Click``)."""
    claims = claims_of(rt, t)
    email = await do_unsubscribe(rt, *claims) if claims is not None else None
    if claims is None or email is None:
        return await _invalid(rt)
    language = await _language(rt, claims[0])
    done: Any = words(language)["done"].format(email=email)
    return _page(language, f"<p>{html.escape(done)}</p>")
