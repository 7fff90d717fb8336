"""A new visitor's session carries the site's widget flags (visitor uploads allowed, an
enabled WhatsApp number: "Continue on WhatsApp"), whichever way it was opened: on the socket's
handshake (the widget's way; on SQLite read inside the write that creates the visitor) or by
``POST /api/visitor/session``; and they follow the site's settings as they change."""

from __future__ import annotations

from typing import Any

import httpx
from tests.support.actors import ORIGIN, Scenario, next_frame, raw_socket
from tests.support.channel_world import connect_whatsapp, site_id
from tests.support.server import InProcessServer


async def _socket_session(sc: Scenario) -> dict[str, Any]:
    base = sc.base_url.replace("http", "ws", 1)
    ws = await raw_socket(f"{base}/ws/visitor?site={sc.site_key}&session=1")
    try:
        return dict((await next_frame(ws, "welcome"))["session"])
    finally:
        await ws.close()


async def _posted_session(sc: Scenario) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sc.base_url, headers={"Origin": ORIGIN}) as http:
        r = await http.post("/api/visitor/session", json={"site_key": sc.site_key})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _flags(sc: Scenario) -> list[tuple[bool, bool]]:
    return [
        (s["whatsapp"], s["uploads"])
        for s in (await _socket_session(sc), await _posted_session(sc))
    ]


async def test_a_new_visitors_session_carries_the_sites_widget_flags(
    shop: tuple[InProcessServer, Scenario],
) -> None:
    _srv, sc = shop
    assert await _flags(sc) == [(False, False)] * 2
    sid = await site_id(sc)
    r = await sc.anna.patch(f"/api/sites/{sid}", json={"visitor_uploads": True})
    assert r.status_code == 200
    assert await _flags(sc) == [(False, True)] * 2
    account = await connect_whatsapp(sc)
    assert await _flags(sc) == [(True, True)] * 2
    r = await sc.anna.http.delete(
        f"/api/sites/{sid}/channel-accounts/{account['id']}",
        headers={"X-CSRF-Token": sc.anna.csrf},
    )
    assert r.status_code == 204, r.text
    assert await _flags(sc) == [(False, True)] * 2
