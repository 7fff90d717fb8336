"""Agent assist over HTTP: the knowledge base (agents, supervisors, visitors and the
deflection), canned responses with their variables, and answer suggestions whose index follows
committed events (articles, canned responses, resolved conversations, picks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import assert_error, start_conversation
from tests.support.actors import ORIGIN, Scenario, Visitor, running_scenario

from tresen.security.identity import identity_hash


@pytest.fixture
async def on_both(tmp_path: Path, database_url: str) -> AsyncIterator[Scenario]:
    """A scenario on SQLite, and again on PostgreSQL."""
    async with running_scenario(tmp_path, database_url) as (_server, sc):
        yield sc


async def site_id(sc: Scenario) -> int:
    sites = (await sc.anna.http.get("/api/sites")).json()
    return int(next(s["id"] for s in sites if s["widget_key"] == sc.site_key))


async def eventually(probe: Any, timeout: float = 5.0) -> Any:
    """The listeners run after the commit, in the background: poll until ``probe`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


async def suggest(sc: Scenario, conv_id: int, q: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"conversation_id": conv_id}
    if q is not None:
        params["q"] = q
    r = await sc.ben.http.get("/api/assist/suggest", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


def visitor_http(v: Visitor) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=v.base_url,
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {v.token}"},
        timeout=30,
    )


async def test_articles_crud_sanitised_and_only_supervisors_write(scenario: Scenario) -> None:
    sid = await site_id(scenario)
    r = await scenario.anna.post(
        "/api/kb/categories", json={"site_id": sid, "name": "Delivery", "language": "en"}
    )
    assert r.status_code == 201, r.text
    cat = r.json()["id"]
    body = "# Shipping\n\nFree from **€50**. <script>alert(1)</script> [x](javascript:alert(1))"
    spec = {"site_id": sid, "title": "Shipping costs", "body": body, "category_id": cat}
    r = await scenario.anna.post("/api/kb/articles", json=spec)
    assert r.status_code == 201, r.text
    article = r.json()
    assert "<strong>€50</strong>" in article["html"]
    assert "<script>" not in article["html"] and "&lt;script&gt;" in article["html"]
    assert "javascript:" not in article["html"].split("[x]")[0] and "href" not in article["html"]

    assert_error(await scenario.ben.post("/api/kb/articles", json=spec), 403, "forbidden")
    bad = {**spec, "language": "fr"}
    assert_error(await scenario.anna.post("/api/kb/articles", json=bad), 422, "invalid")
    other = {**spec, "category_id": 99999}
    assert_error(await scenario.anna.post("/api/kb/articles", json=other), 422, "bad_category")
    r = await scenario.anna.post("/api/kb/articles", json={**spec, "title": ""})
    assert r.status_code == 422

    r = await scenario.anna.patch(f"/api/kb/articles/{article['id']}", json={"title": "Postage"})
    assert r.status_code == 200 and r.json()["title"] == "Postage"
    listed = (await scenario.ben.http.get("/api/kb/articles", params={"site_id": sid})).json()
    assert [a["title"] for a in listed] == ["Postage"]
    r = await scenario.anna.http.delete(
        f"/api/kb/articles/{article['id']}", headers={"X-CSRF-Token": scenario.anna.csrf}
    )
    assert r.status_code == 204
    r = await scenario.ben.http.get(f"/api/kb/articles/{article['id']}")
    assert_error(r, 404, "no_such_article")


async def test_visitor_searches_reads_and_is_deflected(on_both: Scenario) -> None:
    scenario = on_both
    sid = await site_id(scenario)
    for title, text in [
        ("Returning an item", "Returns are free within 30 days: print the return label."),
        ("Payment methods", "We take cards, PayPal and invoices."),
    ]:
        r = await scenario.anna.post(
            "/api/kb/articles", json={"site_id": sid, "title": title, "body": text}
        )
        assert r.status_code == 201
    draft = {"site_id": sid, "title": "Secret return plan", "body": "x", "published": False}
    hidden = (await scenario.anna.post("/api/kb/articles", json=draft)).json()["id"]
    v = await scenario.visitor()
    async with visitor_http(v) as http:
        key = {"site_key": scenario.site_key}

        async def found() -> list[dict[str, Any]]:
            r = await http.get("/api/visitor/kb", params={**key, "q": "how do I return it"})
            assert r.status_code == 200, r.text
            return list(r.json())

        hits = await eventually(found)
        assert hits[0]["title"] == "Returning an item"
        assert all(h["id"] != hidden for h in hits)
        r = await http.post(f"/api/visitor/kb/{hits[0]['id']}/read", params=key)
        assert r.status_code == 200, r.text
        read = r.json()
        assert "print the return label" in read["html"]
        r = await http.post(f"/api/visitor/kb/reads/{read['read_id']}/answered", params=key)
        assert r.status_code == 200 and r.json()["answered"] is True
        assert_error(
            await http.post(f"/api/visitor/kb/{hidden}/read", params=key), 404, "no_such_article"
        )
        r = await scenario.ben.http.get(f"/api/kb/articles/{hits[0]['id']}")
        assert (r.json()["reads"], r.json()["answered"]) == (1, 1)
        r = await http.get("/api/visitor/kb", params={**key, "q": "x" * 501})
        assert r.status_code == 422
    other = await scenario.visitor()
    async with visitor_http(other) as http:
        r = await http.post(f"/api/visitor/kb/reads/{read['read_id']}/answered", params=key)
        assert_error(r, 404, "no_such_read")
    async with httpx.AsyncClient(base_url=v.base_url, headers={"Origin": ORIGIN}) as anon:
        r = await anon.get("/api/visitor/kb", params={**key, "q": "return"})
        assert_error(r, 401, "bad_token")


async def test_canned_shared_personal_shortcuts_and_variables(scenario: Scenario) -> None:
    anna, ben = scenario.anna, scenario.ben
    shared = {
        "shortcut": "price",
        "title": "Shipping price",
        "body": "Hi {{visitor.name}}, {{agent.name}} of {{site.name}} here: shipping is free.",
        "shared": True,
    }
    r = await anna.post("/api/canned", json=shared)
    assert r.status_code == 201, r.text
    assert_error(await ben.post("/api/canned", json=shared), 403, "forbidden")
    mine = {"shortcut": "bye", "title": "Bye", "body": "Bye {{visitor.email}}"}
    r = await ben.post("/api/canned", json=mine)
    assert r.status_code == 201, r.text
    ben_own = r.json()["id"]
    assert_error(await ben.post("/api/canned", json=mine), 409, "shortcut_taken")
    assert_error(
        await ben.post("/api/canned", json={**mine, "shortcut": "price"}), 409, "shortcut_taken"
    )
    r = await ben.post("/api/canned", json={**mine, "shortcut": "no spaces"})
    assert r.status_code == 422
    r = await anna.post("/api/canned", json=mine)  # anna may have her own /bye
    assert r.status_code == 201
    assert_error(
        await anna.patch(f"/api/canned/{ben_own}", json={"title": "x"}), 404, "no_such_canned"
    )

    claim = {"id": "u1", "hash": identity_hash(scenario.identity_secret, "u1"), "name": "Lena"}
    v = await scenario.visitor(identity=claim)
    conv = await start_conversation(v, "hello")
    listed = (await ben.http.get("/api/canned", params={"conversation_id": conv})).json()
    by_shortcut = {c["shortcut"]: c for c in listed}
    assert set(by_shortcut) == {"bye", "price"} and by_shortcut["bye"]["id"] == ben_own
    assert by_shortcut["price"]["text"] == "Hi Lena, Ben of Shop here: shipping is free."
    assert by_shortcut["bye"]["text"] == "Bye your email"


async def test_suggestions_follow_events_and_picks(on_both: Scenario) -> None:
    scenario = on_both
    sid = await site_id(scenario)
    anna, ben = scenario.anna, scenario.ben
    # A past answer: a resolved conversation in which Ben answered a question.
    old = await start_conversation(await scenario.visitor(), "Do you ship parcels to Norway?")
    r = await ben.post(
        f"/api/conversations/{old}/messages",
        json={"body": "Yes, Norway takes 5 days and costs 9 euros."},
    )
    assert r.status_code == 201, r.text
    conv = await start_conversation(await scenario.visitor(), "Can you ship to Norway?")
    assert await suggest(scenario, conv) == []  # not resolved yet: not a past answer
    r = await ben.patch(f"/api/conversations/{old}", json={"status": "resolved"})
    assert r.status_code == 200, r.text

    async def answer_found() -> list[dict[str, Any]]:
        return [s for s in await suggest(scenario, conv) if s["source"] == "answer"]

    hit = (await eventually(answer_found))[0]
    assert hit["text"] == "Yes, Norway takes 5 days and costs 9 euros."
    assert hit["conversation_id"] == old

    # An article appears, changes and goes, without a rebuild.
    spec = {"site_id": sid, "title": "Gift wrapping", "body": "We wrap gifts for 3 euros."}
    art = (await anna.post("/api/kb/articles", json=spec)).json()["id"]

    async def kb_ids(q: str) -> list[int]:
        return [s["id"] for s in await suggest(scenario, conv, q) if s["source"] == "kb"]

    assert await eventually(lambda: kb_ids("do you wrap a gift")) == [art]
    await anna.patch(f"/api/kb/articles/{art}", json={"title": "Wrapping paper"})

    async def renamed() -> bool:
        return (await kb_ids("wrapping paper")) == [art]

    await eventually(renamed)
    await anna.http.delete(f"/api/kb/articles/{art}", headers={"X-CSRF-Token": anna.csrf})

    async def gone() -> bool:
        return (await kb_ids("wrapping paper gift")) == []

    await eventually(gone)

    # Two equally good canned responses: the one agents picked comes first.
    for shortcut in ("late1", "late2"):
        body = {
            "shortcut": shortcut,
            "title": "Late parcel",
            "body": f"Sorry it is late ({shortcut})",
            "shared": True,
        }
        assert (await anna.post("/api/canned", json=body)).status_code == 201

    async def canned_order() -> list[str]:
        found = await suggest(scenario, conv, "my parcel is late")
        return [s["text"] for s in found if s["source"] == "canned"]

    first = await eventually(canned_order)
    assert len(first) == 2
    loser = first[1]
    ids = {c["body"]: c["id"] for c in (await ben.http.get("/api/canned")).json()}
    pick = {"conversation_id": conv, "source": "canned", "item_id": ids[loser]}
    r = await ben.post("/api/assist/picks", json=pick)
    assert r.status_code == 201, r.text

    async def flipped() -> bool:
        return (await canned_order())[0] == loser

    await eventually(flipped)
    r = await ben.post("/api/assist/picks", json={**pick, "item_id": 99999})
    assert_error(r, 404, "no_such_item")
    r = await ben.post("/api/assist/picks", json={**pick, "source": "web"})
    assert r.status_code == 422
    r = await ben.http.get("/api/assist/suggest", params={"conversation_id": 99999})
    assert_error(r, 404, "no_such_conversation")
