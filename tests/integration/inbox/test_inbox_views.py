"""Inbox views and their counts, tags, snooze (woken by the injected clock and by the visitor),
the resolved history behind a cursor, bulk actions, and the frames that keep consoles current."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.inbox.helpers import armed_at, get, until, visitor_writes
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler


async def counts(sc: Scenario, agent: Any = None) -> dict[str, Any]:
    return dict(await get(agent or sc.anna, "/api/console/views"))


async def ids(sc: Scenario, view: str, agent: Any = None) -> list[int]:
    page = await get(agent or sc.anna, f"/api/console/views/{view}")
    return [c["id"] for c in page["items"]]


async def test_views_counts_tags_and_live_frames(scenario: Scenario) -> None:
    sc = scenario
    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")
    socks, convs = [], []
    for text in ("first", "second", "third"):
        ws, conv = await visitor_writes(sc, text)
        socks.append(ws)
        convs.append(conv)
    c1, c2, c3 = convs
    r = await sc.anna.patch(f"/api/conversations/{c1}", json={"assignee_id": sc.anna.id})
    assert r.status_code == 200

    n = await counts(sc)
    assert (n["mine"], n["unassigned"], n["all"], n["snoozed"], n["resolved"]) == (1, 2, 3, 0, 0)
    assert n["channels"] == {"web": 3}
    assert await ids(sc, "mine") == [c1]
    assert set(await ids(sc, "unassigned")) == {c2, c3}
    assert (await counts(sc, sc.ben))["mine"] == 0  # mine is per agent

    r = await sc.anna.post(f"/api/conversations/{c2}/tags", json={"add": ["Billing ", "vip"]})
    assert r.status_code == 200 and r.json()["tags"] == ["billing", "vip"]
    frame = await next_frame(console, "tags")
    assert frame == {"type": "tags", "conversation_id": c2, "tags": ["billing", "vip"]}
    r = await sc.anna.post(f"/api/conversations/{c2}/tags", json={"remove": ["vip"]})
    assert r.json()["tags"] == ["billing"]
    assert (await counts(sc))["tags"] == {"billing": 1}
    assert await ids(sc, "tag:billing") == [c2]
    assert await get(sc.anna, "/api/console/tags") == [{"tag": "billing", "count": 1}]
    row = (await get(sc.anna, "/api/console/views/tag:billing"))["items"][0]
    assert row["tags"] == ["billing"] and row["last_message"]["body"] == "second"
    bad = await sc.anna.post(f"/api/conversations/{c2}/tags", json={"add": ["<script>"]})
    assert bad.status_code == 422 and bad.json()["code"] == "bad_tag"

    until_ = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    r = await sc.anna.post(f"/api/conversations/{c3}/snooze", json={"until": until_})
    assert r.status_code == 200, r.text
    assert r.json()["snoozed_until"] == until_
    frame = await next_frame(console, "conversation")
    while frame["conversation"]["id"] != c3:
        frame = await next_frame(console, "conversation")
    assert frame["conversation"]["snoozed_until"] == until_
    n = await counts(sc)
    assert (n["all"], n["unassigned"], n["snoozed"]) == (2, 1, 1)
    assert await ids(sc, "snoozed") == [c3]
    assert c3 not in await ids(sc, "all")
    past = await sc.anna.post(
        f"/api/conversations/{c3}/snooze", json={"until": "2001-01-01T00:00Z"}
    )
    assert past.status_code == 422

    await sc.anna.patch(f"/api/conversations/{c1}", json={"status": "resolved"})
    n = await counts(sc)
    assert (n["mine"], n["resolved"], n["all"]) == (0, 1, 1)
    assert await ids(sc, "resolved") == [c1]

    for bad_view in ("nope", "tag:", "channel:" + "x" * 100):
        r = await sc.anna.http.get(f"/api/console/views/{bad_view}")
        assert r.status_code in (404, 422), bad_view
    for ws in socks:
        await ws.close()
    await console.close()


async def test_resolved_history_pages_with_an_opaque_cursor(scenario: Scenario) -> None:
    sc = scenario
    convs = []
    for i in range(5):
        ws, conv = await visitor_writes(sc, f"question {i}")
        await ws.close()
        await sc.anna.patch(f"/api/conversations/{conv}", json={"status": "resolved"})
        convs.append(conv)
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await get(sc.anna, "/api/console/views/resolved", **params)
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(convs))  # the last resolved first, each once
    for bad in ("not-a-cursor", "W10", "eyJ4Ijox"):
        r = await sc.anna.http.get("/api/console/views/resolved", params={"cursor": bad})
        assert r.status_code == 422 and r.json()["code"] == "bad_cursor"


async def test_snooze_wakes_at_its_time_and_when_the_visitor_writes(
    tmp_path: Path, database_url: str
) -> None:
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    async with running_scenario(tmp_path, database_url, clock=clock, scheduler=scheduler) as (
        _srv,
        sc,
    ):
        ws1, c1 = await visitor_writes(sc, "call me later")
        ws2, c2 = await visitor_writes(sc, "me too")
        wake_at = clock.now() + timedelta(hours=1)
        for conv, until_ in ((c1, wake_at), (c2, wake_at + timedelta(hours=5))):
            r = await sc.anna.post(
                f"/api/conversations/{conv}/snooze", json={"until": until_.isoformat()}
            )
            assert r.status_code == 200

        # the visitor writes into a snoozed conversation: it is back at once
        await ws2.send(
            json.dumps(
                {"type": "send", "client_msg_id": "again", "body": "hello?", "conversation_id": c2}
            )
        )

        async def c2_awake() -> bool:
            return await ids(sc, "snoozed") == [c1]

        await until(c2_awake)

        # the other one wakes at its second on the injected clock
        async def armed() -> bool:
            return armed_at(scheduler, wake_at.timestamp())

        await until(armed)
        scheduler.advance(3599)
        assert await ids(sc, "snoozed") == [c1]
        scheduler.advance(1)  # the snooze's exact second

        async def c1_awake() -> bool:
            return await ids(sc, "snoozed") == []

        await until(c1_awake)
        conv = await get(sc.anna, f"/api/conversations/{c1}")
        assert conv["snoozed_until"] is None and c1 in await ids(sc, "all")

        assert (await counts(sc))["all"] == 2
        await ws1.close()
        await ws2.close()


async def test_bulk_actions_change_each_conversation_on_its_own(scenario: Scenario) -> None:
    sc = scenario
    convs = []
    for i in range(3):
        ws, conv = await visitor_writes(sc, f"bulk {i}")
        await ws.close()
        convs.append(conv)
    c1, c2, c3 = convs

    async def bulk(**body: Any) -> list[dict[str, Any]]:
        r = await sc.anna.post("/api/conversations/bulk", json=body)
        assert r.status_code == 200, r.text
        return list(r.json()["results"])

    in_a_week = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    res = await bulk(ids=[c1, c2, 999_999], action="tag", tags=["refund"])
    assert [r["ok"] for r in res] == [True, True, False]
    assert res[2]["code"] == "no_such_conversation"
    assert set(await ids(sc, "tag:refund")) == {c1, c2}

    res = await bulk(ids=[c1, c2], action="assign", assignee_id=sc.ben.id)
    assert all(r["ok"] for r in res)
    assert set(await ids(sc, "mine", sc.ben)) == {c1, c2}

    res = await bulk(ids=[c3], action="snooze", until=in_a_week)
    assert res[0]["ok"] and await ids(sc, "snoozed") == [c3]
    res = await bulk(ids=[c3], action="snooze")
    assert res[0]["code"] == "bad_time"

    res = await bulk(ids=[c1, c2, c3], action="resolve")
    assert all(r["ok"] for r in res)
    n = await counts(sc)
    assert (n["resolved"], n["all"], n["snoozed"]) == (3, 0, 0)

    too_many = await sc.anna.post(
        "/api/conversations/bulk", json={"ids": list(range(1, 102)), "action": "resolve"}
    )
    assert too_many.status_code == 422
    no_csrf = await sc.anna.http.post(
        "/api/conversations/bulk", json={"ids": [c1], "action": "reopen"}
    )
    assert no_csrf.status_code == 403
