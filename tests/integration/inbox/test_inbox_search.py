"""Full-text search across messages: the same messages found on SQLite (FTS5) and PostgreSQL
(tsvector), snippets as plain text with offsets, hostile queries answered with a 4xx or results."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.integration.inbox.helpers import get, visitor_writes
from tests.support.actors import running_scenario

CORPUS = [
    ("Hallo, meine Bestellung 4711 ist nicht angekommen", "Die Lieferung über DHL dauert zu lange"),
    ("My invoice is wrong, please write to anna@example.com", "Price was 3.5 EUR, not-fair"),
    ("Where is my ORDER?", "<b>bold</b> order & <script>alert(1)</script>"),
]
# query -> the (conversation index, seq) found, newest first
EXPECTED = {
    "bestellung": [(0, 1)],
    "über": [(0, 2)],
    "anna": [(1, 1)],
    "example com": [(1, 1)],
    "3": [(1, 2)],
    "not fair": [(1, 2)],
    "order": [(2, 2), (2, 1)],
    "my order": [(2, 1)],
    "ORDER*": [(2, 2), (2, 1)],
    "script alert": [(2, 2)],
    "NEAR(order bold": [],  # every word is searched for, "near" too
    "bold) order": [(2, 2)],
    '"order" OR "invoice"': [],
    "'); DROP TABLE messages; --": [],
    "order or": [],  # not an operator on either database
    "not -fair": [(1, 2)],
    "nothing-like-this": [],
}
HOSTILE_4XX = [
    '"',
    "*",
    "(",
    "   ",
    "x" * 10_000,
    " ".join(f"w{i}" for i in range(13)),
    "\u0000",
    "-",
    "^*",
]


async def test_search_finds_the_same_messages_on_both_databases(
    tmp_path: Path, database_url: str
) -> None:
    async with running_scenario(tmp_path, database_url) as (_srv, sc):
        convs = []
        for bodies in CORPUS:
            ws, conv_id = await visitor_writes(sc, *bodies)
            await ws.close()
            convs.append(conv_id)
        for query, expected in EXPECTED.items():
            found = await get(sc.anna, "/api/console/search", q=query)
            got = [(convs.index(h["conversation_id"]), h["seq"]) for h in found["results"]]
            assert got == expected, query

        hit = (await get(sc.anna, "/api/console/search", q="bestellung"))["results"][0]
        assert hit["snippet"] == CORPUS[0][0]
        assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["Bestellung"]

        # markup in a message is text: the snippet carries it as it is, offsets around the word
        hit = (await get(sc.anna, "/api/console/search", q="bold"))["results"][0]
        assert hit["snippet"] == CORPUS[2][1]
        assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["bold"]

        for query in HOSTILE_4XX:
            r = await sc.anna.http.get("/api/console/search", params={"q": query})
            assert r.status_code == 422, (query[:20], r.status_code, r.text)
            assert r.json()["code"] in {"empty_query", "query_too_long", "too_many_terms"}

        async with httpx.AsyncClient(base_url=sc.base_url) as anon:  # agents only
            r = await anon.get("/api/console/search", params={"q": "order"})
            assert r.status_code == 401


async def test_long_messages_give_a_window_around_the_word(tmp_path: Path) -> None:
    async with running_scenario(tmp_path) as (_srv, sc):
        body = "lorem " * 100 + "Schrank " + "ipsum " * 100
        ws, _ = await visitor_writes(sc, body)
        await ws.close()
        hit = (await get(sc.anna, "/api/console/search", q="schrank"))["results"][0]
        assert hit["snippet"].startswith("…") and hit["snippet"].endswith("…")
        assert len(hit["snippet"]) <= 162
        assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["Schrank"]


async def test_search_pages_back_by_message_id(tmp_path: Path) -> None:
    async with running_scenario(tmp_path) as (_srv, sc):
        ws, _conv = await visitor_writes(sc, *[f"parcel number {i}" for i in range(5)])
        await ws.close()
        first = await get(sc.anna, "/api/console/search", q="parcel", limit=3)
        assert [h["seq"] for h in first["results"]] == [5, 4, 3]
        rest = await get(
            sc.anna, "/api/console/search", q="parcel", limit=3, before_id=first["next_before_id"]
        )
        assert [h["seq"] for h in rest["results"]] == [2, 1]
        assert rest["next_before_id"] is None
