"""Routes that serve the agent console: one HTML shell; the Preact bundle does the rest.

The page carries no inline script or style, so the CSP can forbid both. The console's own small
JSON helpers (inbox, visitor context) are included here so the app needs one router line.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tresen.conversations.inbox_api import router as inbox_router
from tresen.visitors.context_api import router as context_router

router = APIRouter(include_in_schema=False)
router.include_router(inbox_router)
router.include_router(context_router)

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
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
<link rel="stylesheet" href="/static/build/console.css">
<script src="/static/build/console.js" defer></script>
</head>
<body>
<noscript>The Tresen console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
"""


def _page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=HEADERS)


@router.get("/console")
async def console() -> HTMLResponse:
    return _page()


@router.get("/console/{rest:path}")
async def console_deep_link(rest: str) -> HTMLResponse:
    """/console/login, /console/admin/sites, ...: the app reads the path and shows the view."""
    return _page()
