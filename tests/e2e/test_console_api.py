"""The console's helper endpoints: inbox with previews and unread counts, visitor context."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.support.actors import Visitor
from tests.support.server import ServerProcess

from tresen.security.identity import identity_hash


@pytest.fixture(scope="module")
def anna(demo_server: ServerProcess) -> Any:
    http = api_login(demo_server.url, "anna")
    yield http
    http.close()


def _visitor_writes(server: ServerProcess, key: str, bodies: list[str], **session: Any) -> int:
    async def go() -> int:
        v = await Visitor.arrive(server.url, key, origin=server.url, **session)
        client = v.client()
        await client.start()
        conv = None
        try:
            for body in bodies:
                ack = await client.wait_ack(await client.send(body, conv))
                conv = ack["conversation_id"]
        finally:
            await client.stop()
        assert conv is not None
        return int(conv)

    # Playwright's sync API may own this thread's loop: run the visitor in a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result(60)


def test_inbox_and_visitor_context(demo_server: ServerProcess, anna: httpx.Client) -> None:
    site = anna.get("/api/sites").json()[0]
    ident = {"id": "ctx-1", "hash": identity_hash(site["identity_secret"], "ctx-1")}
    ident |= {"name": "Kim <b>Bold</b>", "email": "kim@example.com"}
    conv = _visitor_writes(
        demo_server, site["widget_key"], ["one", "two " + "x" * 300], identity=ident
    )

    rows = {c["id"]: c for c in anna.get("/api/console/inbox").json()}
    row = rows[conv]
    assert row["unread"] == 2
    assert row["visitor"]["name"] == "Kim <b>Bold</b>"
    assert row["last_message"]["seq"] == 2 and len(row["last_message"]["body"]) == 140

    anna.post(f"/api/conversations/{conv}/messages", json={"body": "note", "internal": True})
    row = {c["id"]: c for c in anna.get("/api/console/inbox").json()}[conv]
    assert row["last_message"]["internal"] is True and row["unread"] == 2

    anna.patch(f"/api/conversations/{conv}", json={"status": "resolved"})
    assert conv not in {c["id"] for c in anna.get("/api/console/inbox").json()}
    resolved = anna.get("/api/console/inbox", params={"status": "resolved"}).json()
    assert conv in {c["id"] for c in resolved}

    ctx = anna.get(f"/api/visitors/{row['visitor_id']}").json()
    assert ctx["verified"] is True and ctx["external_id"] == "ctx-1"
    assert ctx["email"] == "kim@example.com"
    assert ctx["pages"] == [] and ctx["current_page"] is None
    assert [c["id"] for c in ctx["conversations"]] == [conv]
    assert ctx["conversations"][0]["status"] == "resolved"


def test_context_endpoints_need_an_agent(demo_server: ServerProcess, anna: httpx.Client) -> None:
    assert httpx.get(demo_server.url + "/api/console/inbox").status_code == 401
    assert httpx.get(demo_server.url + "/api/visitors/1").status_code == 401
    missing = anna.get("/api/visitors/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "no_such_visitor"
