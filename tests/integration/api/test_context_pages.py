"""The visitor context shows the pages a visitor saw and, while they are live, where they are."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer


async def _page(ws: object, path: str) -> None:
    frame = {
        "type": "track",
        "kind": "page",
        "url": f"https://shop.example{path}",
        "title": f"Title of {path}",
        "device": "mobile",
        "language": "da",
    }
    await ws.send(json.dumps(frame))  # type: ignore[attr-defined]


async def test_pages_newest_first_and_live_state(tmp_path: Path) -> None:
    # No grace period: the visitor is no longer live as soon as the last tab closed.
    async with running_scenario(tmp_path, visit_grace_seconds=0) as (server, scenario):
        await _pages_and_live_state(scenario, server)


async def _pages_and_live_state(scenario: Scenario, server: InProcessServer) -> None:
    visitor = await scenario.visitor()
    ws = await raw_socket(visitor.ws_url())
    await next_frame(ws, "welcome")
    for path in ("/", "/shop/product/tablet", "/shop/cart"):
        await _page(ws, path)
    await ws.send(json.dumps({"type": "ping"}))
    await next_frame(ws, "pong")
    await server.rt.radar.flush()

    body = (await scenario.anna.http.get(f"/api/visitors/{visitor.id}")).json()
    assert [p["title"] for p in body["pages"]] == [
        "Title of /shop/cart",
        "Title of /shop/product/tablet",
        "Title of /",
    ]
    assert body["current_page"] == "https://shop.example/shop/cart"
    assert body["live"]["pages_viewed"] == 3 and body["live"]["device"] == "mobile"
    assert isinstance(body["time_on_site_seconds"], int) and body["time_on_site_seconds"] >= 0

    await ws.close()
    for _ in range(100):
        if server.rt.radar.snapshot(visitor.id) is None:
            break
        await asyncio.sleep(0.02)
    body = (await scenario.anna.http.get(f"/api/visitors/{visitor.id}")).json()
    assert body["live"] is None and body["time_on_site_seconds"] is None
    assert body["current_page"] == "https://shop.example/shop/cart"  # the last page stored
    assert len(body["pages"]) == 3


async def test_at_most_twenty_pages(scenario: Scenario, server: InProcessServer) -> None:
    visitor = await scenario.visitor()
    ws = await raw_socket(visitor.ws_url())
    await next_frame(ws, "welcome")
    for i in range(25):
        await _page(ws, f"/p/{i}")
    await ws.send(json.dumps({"type": "ping"}))
    await next_frame(ws, "pong")
    await server.rt.radar.flush()
    body = (await scenario.anna.http.get(f"/api/visitors/{visitor.id}")).json()
    assert len(body["pages"]) == 20
    assert body["pages"][0]["url"].endswith("/p/24")
    await ws.close()
