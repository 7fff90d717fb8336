"""Routes that serve the agent console: one HTML shell; the Preact bundle does the rest.

The page carries no inline script or style, so the CSP can forbid both. The console's own small
JSON helpers (inbox, visitor context) are included here so the app needs one router line.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tresen.conversations.inbox_api import router as inbox_router
from tresen.conversations.organize_api import router as organize_router
from tresen.routing.callbacks_api import router as callbacks_router
from tresen.visitors.context_api import router as context_router
from tresen.web.assets import asset

router = APIRouter(include_in_schema=False)
router.include_router(inbox_router)
router.include_router(context_router)
router.include_router(organize_router)
router.include_router(callbacks_router)

CSP = (
    "default-src 'self'",
    "script-src 'self'",
    # The co-browse mirror rebuilds the visitor's page: its inline styles and its images.
    # Scripts stay 'self' only (rrweb never runs the page's scripts).
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https: http:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tresen console</title>
<link rel="stylesheet" href="{css}">
<script src="{js}" defer></script>
</head>
<body>
<noscript>The Tresen console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
"""


def csp(host: str | None) -> str:
    """The policy; the socket may connect to this host only (ws or wss, as the page was)."""
    sockets = f" ws://{host} wss://{host}" if host and _safe_host(host) else ""
    return "; ".join((*CSP, f"connect-src 'self'{sockets}"))


def _safe_host(host: str) -> bool:
    return all(c.isalnum() or c in ".-:[]" for c in host)


def _page(request: Request) -> HTMLResponse:
    headers = {**HEADERS, "Content-Security-Policy": csp(request.headers.get("host"))}
    return HTMLResponse(
        PAGE.format(css=asset("console.css"), js=asset("console.js")), headers=headers
    )


@router.get("/console")
async def console(request: Request) -> HTMLResponse:
    return _page(request)


@router.get("/console/{rest:path}")
async def console_deep_link(rest: str, request: Request) -> HTMLResponse:
    """/console/login, /console/admin/sites, ...: the app reads the path and shows the view."""
    return _page(request)
