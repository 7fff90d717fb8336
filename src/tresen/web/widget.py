"""Routes that serve the widget: the loader script, the chat frame and the visitor status.

``GET /widget.js``                  the loader a site embeds (tiny, host page side)
``GET /widget/frame?site=&origin=`` the chat frame, an iframe on the Tresen origin (its core
                                    script inlined, allowed by its CSP hash; the chat UI comes
                                    on demand); CSP ``frame-ancestors`` lets only the site's
                                    allowlist embed it; gzip, revalidated by its ETag
``GET /api/visitor/status?site_key=`` is any agent available? (online / offline form)
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from tresen.auth.deps import RT
from tresen.errors import Forbidden, NotFound
from tresen.sites.queries import site_by_key
from tresen.storage.models import Agent, Site
from tresen.visitors.actions import origin_allowed
from tresen.web.assets import BUILD, asset, precompressed, read_built

router = APIRouter(include_in_schema=False)
LANGS = ("en", "de", "da")
NO_STORE = {"Cache-Control": "no-store"}
REVALIDATE = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
INVITE_CHARS = re.compile(r"[A-Za-z0-9_.-]*")


@router.get("/widget.js")
async def loader(request: Request) -> Response:
    path = BUILD / "widget.js"
    if not path.is_file():
        raise NotFound("the widget is not built (cd frontend && npm run build)")
    return precompressed(
        path,
        request.headers,
        "text/javascript; charset=utf-8",
        {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/widget/frame")
async def frame(
    request: Request,
    rt: RT,
    site: str = "",
    origin: str = "",
    lang: str = "en",
    page: str = "",  # sent by older loaders; not used (the page comes by postMessage)
    topics: str = "",
    invite: str = "",
    open: str = "",
) -> Response:
    async with rt.db.read() as s:
        try:
            the_site = await site_by_key(s, site)
        except NotFound:
            return _refusal(404, "Unknown site")
    own = _own_origin(request)
    parent = origin if _parent_allowed(the_site, origin, own) else ""
    if not parent:
        return _refusal(403, "This page may not embed the chat")
    config = {
        "site": the_site.widget_key,
        "parentOrigin": parent,
        "lang": lang if lang in LANGS else "en",
        "maxChars": rt.settings.max_message_chars,
        "topics": parse_topics(topics),
        # a chat link from an email (redeemed by the session request), or "open the chat"
        "invite": invite if len(invite) <= 1024 and INVITE_CHARS.fullmatch(invite) else "",
        "open": open == "1",
        # the chat UI, fetched by the frame's core only when needed (frontend/src/widget/core.ts)
        "ui": {"js": asset("widget-frame.js"), "css": asset("widget-frame.css")},
    }
    core, core_hash = _core_script()
    csp = frame_csp(the_site, own, core_hash)
    body = _frame_html(config, core)
    etag = '"' + hashlib.sha256(f"{csp}\n{body}".encode()).hexdigest()[:32] + '"'
    headers = {"Content-Security-Policy": csp, "ETag": etag, **REVALIDATE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    accepted = {
        e.split(";")[0].strip() for e in request.headers.get("accept-encoding", "").split(",")
    }
    if "gzip" in accepted:
        headers["Content-Encoding"] = "gzip"
        return HTMLResponse(_gzipped(body), headers=headers)
    return HTMLResponse(body, headers=headers)


@router.get("/api/visitor/status")
async def visitor_status(request: Request, rt: RT, site_key: str) -> JSONResponse:
    """Whether someone can answer now: an agent marked online, or an agent socket open on this
    node whose agent is not away. The widget shows the leave-a-message form otherwise."""
    async with rt.db.read() as s:
        the_site = await site_by_key(s, site_key)
        if not origin_allowed(the_site, request.headers.get("origin"), request.headers.get("host")):
            raise Forbidden("this origin is not allowed for the site", code="bad_origin")
        rows = (
            await s.execute(select(Agent.id, Agent.status).where(Agent.is_active.is_(True)))
        ).all()
    connected = _connected_agents(request)
    online = sum(1 for aid, st in rows if st == "online" or (aid in connected and st != "away"))
    return JSONResponse({"online": online > 0, "agents_online": online}, headers=NO_STORE)


def _connected_agents(request: Request) -> set[int]:
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is None:
        return set()
    return {c.who.id for c in gateway.connections if c.who.kind == "agent" and not c.closed}


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def parse_topics(raw: str) -> list[str]:
    """``data-topics="Sales,Support"``: the skills a visitor may pick before the first message."""
    names = [t.strip() for t in raw.split(",") if t.strip()]
    return [t for t in names if len(t) <= 64][:6]


def _parent_allowed(site: Site, origin: str, own: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        return False
    return origin in site.allowed_origins or origin == own


def frame_csp(site: Site, own: str, core_hash: str = "") -> str:
    """``core_hash``: the inlined core script's ``'sha256-...'`` source (no ``unsafe-inline``)."""
    ancestors = " ".join(["'self'", *(_csp_source(o) for o in site.allowed_origins if o)])
    ws = own.replace("http", "ws", 1)
    scripts = f"script-src 'self' {core_hash}" if core_hash else "script-src 'self'"
    return "; ".join(
        [
            "default-src 'none'",
            scripts,
            "style-src 'self'",
            f"connect-src 'self' {ws}",
            "img-src 'self' data: blob:",  # blob: files of the conversation, fetched with the token
            "media-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


def _csp_source(origin: str) -> str:
    # Origins are validated when a site is saved; drop anything that could end the directive.
    return "".join(ch for ch in origin if ch not in " ;,'\"\r\n")


def _core_script() -> tuple[str, str]:
    """The frame's core (``widget-core.js``), to inline, and its CSP hash source. Inlined, it
    costs no request of its own; the HTML around it revalidates by its ETag."""
    text = read_built("widget-core.js")
    if text is None:
        raise NotFound("the widget is not built (cd frontend && npm run build)")
    return _inline(text)


@lru_cache(maxsize=4)
def _inline(text: str) -> tuple[str, str]:
    # `</script` would end the element early (`<\/` means the same in a JS string or regex);
    # `<!--` is kept out of the build (tests/unit/test_loader_size.py).
    code = re.sub("</(script)", r"<\/\1", text, flags=re.IGNORECASE)
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    return code, f"'sha256-{digest}'"


@lru_cache(maxsize=256)
def _gzipped(body: str) -> bytes:
    """Frames of the same site, origin and language are the same bytes: compressed once."""
    return gzip.compress(body.encode(), 9, mtime=0)


def _frame_html(config: dict[str, Any], core: str) -> str:
    cfg = html.escape(json.dumps(config), quote=True)
    return f"""<!doctype html>
<html lang="{html.escape(config["lang"])}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Chat</title>
</head>
<body>
<div id="tresen-root" data-config="{cfg}"></div>
<script>{core}</script>
</body>
</html>
"""


def _refusal(status: int, text: str) -> HTMLResponse:
    body = f"<!doctype html><title>{html.escape(text)}</title><p>{html.escape(text)}</p>"
    headers = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}
    return HTMLResponse(body, status_code=status, headers={**headers, **NO_STORE})
