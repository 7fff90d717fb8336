"""Cursor pagination: ``?limit=&cursor=``; lists the console reads as arrays keep that shape and
carry the next page's cursor in ``X-Next-Cursor``; following it visits every row once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.integration.api.helpers import assert_error, start_conversation
from tests.support.actors import Scenario


async def all_pages(agent: Any, path: str, limit: int, **params: Any) -> list[list[Any]]:
    pages, cursor = [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = await agent.http.get(path, params=query)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        cursor = r.headers.get("X-Next-Cursor")
        if cursor is None:
            return pages
        assert len(pages) < 50


async def test_conversations_inbox_and_visitors_page_by_cursor(scenario: Scenario) -> None:
    convs = []
    for i in range(5):
        convs.append(await start_conversation(await scenario.visitor(), f"hello {i}"))
    pages = await all_pages(scenario.anna, "/api/conversations", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c["id"] for p in pages for c in p] == sorted(convs, reverse=True)
    pages = await all_pages(scenario.anna, "/api/console/inbox", 2)
    assert sorted(c["id"] for p in pages for c in p) == sorted(convs)
    assert len({c["id"] for p in pages for c in p}) == 5
    pages = await all_pages(scenario.anna, "/api/visitors", 3)
    assert [len(p) for p in pages] == [3, 2]
    pages = await all_pages(scenario.anna, "/api/agents", 1)
    assert [a["username"] for p in pages for a in p] == ["anna", "ben"]


async def test_conversations_since_a_time(scenario: Scenario) -> None:
    first = await start_conversation(await scenario.visitor(), "old")
    old = (await scenario.anna.http.get(f"/api/conversations/{first}")).json()
    since = datetime.fromisoformat(old["updated_at"]) + timedelta(microseconds=1)
    second = await start_conversation(await scenario.visitor(), "new")
    r = await scenario.anna.http.get(
        "/api/conversations", params={"updated_since": since.isoformat()}
    )
    assert [c["id"] for c in r.json()] == [second]
    earlier = (since - timedelta(hours=1)).isoformat()
    r = await scenario.anna.http.get("/api/conversations", params={"updated_since": earlier})
    assert [c["id"] for c in r.json()] == [second, first]


async def test_a_transcript_is_read_page_by_page(scenario: Scenario) -> None:
    bodies = [f"line {i}" for i in range(7)]
    conv = await start_conversation(await scenario.visitor(), *bodies)
    pages = await all_pages(scenario.anna, f"/api/conversations/{conv}/messages", 3, after_seq=0)
    assert [m["body"] for p in pages for m in p] == bodies


async def test_a_bad_cursor_is_422(scenario: Scenario) -> None:
    for path in ("/api/conversations", "/api/console/inbox", "/api/agents", "/api/visitors"):
        r = await scenario.anna.http.get(path, params={"cursor": "%%%"})
        assert_error(r, 422, "bad_cursor")
    r = await scenario.anna.http.get("/api/conversations", params={"cursor": "eyJiZWZvcmUiOiJ4In0"})
    assert_error(r, 422, "bad_cursor")
