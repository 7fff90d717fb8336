"""The inbox by team (docs/inbox.md): a team's view holds the awake conversations assigned to one
of its members; the counts list every team with its members and that number; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.inbox.helpers import get, visitor_writes
from tests.support.actors import Scenario, running_scenario


async def team_counts(sc: Scenario, agent: Any = None) -> dict[str, dict[str, Any]]:
    counts = await get(agent or sc.anna, "/api/console/views")
    return {t["name"]: t for t in counts["teams"]}


async def ids(sc: Scenario, view: str) -> list[int]:
    return [c["id"] for c in (await get(sc.anna, f"/api/console/views/{view}"))["items"]]


async def make_team(sc: Scenario, name: str, members: list[int]) -> int:
    r = await sc.anna.post("/api/teams", json={"name": name, "member_ids": members})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_views_by_team_and_their_counts(tmp_path: Path, database_url: str) -> None:
    async with running_scenario(tmp_path, database_url) as (_srv, sc):
        assert (await get(sc.anna, "/api/console/views"))["teams"] == []
        sales = await make_team(sc, "Sales", [sc.anna.id])
        support = await make_team(sc, "Support", [sc.ben.id])
        both = await make_team(sc, "Everyone", [sc.anna.id, sc.ben.id])
        empty = await make_team(sc, "Nobody", [])

        socks, convs = [], []
        for text in ("first", "second", "third", "fourth"):
            ws, conv = await visitor_writes(sc, text)
            socks.append(ws)
            convs.append(conv)
        c1, c2, c3, c4 = convs
        for conv, agent in ((c1, sc.anna), (c2, sc.ben), (c3, sc.ben)):
            r = await sc.anna.patch(f"/api/conversations/{conv}", json={"assignee_id": agent.id})
            assert r.status_code == 200, r.text

        n = await team_counts(sc)
        assert [(t["name"], t["count"]) for t in n.values()] == [
            ("Everyone", 3),
            ("Nobody", 0),
            ("Sales", 1),
            ("Support", 2),
        ]
        assert n["Everyone"]["member_ids"] == sorted([sc.anna.id, sc.ben.id])
        assert n["Sales"]["id"] == sales and n["Sales"]["member_ids"] == [sc.anna.id]
        assert await ids(sc, f"team:{sales}") == [c1]
        assert set(await ids(sc, f"team:{support}")) == {c2, c3}
        assert set(await ids(sc, f"team:{both}")) == {c1, c2, c3}
        assert await ids(sc, f"team:{empty}") == []
        assert c4 not in await ids(sc, f"team:{both}")  # nobody has it yet
        assert (await team_counts(sc, sc.ben))["Support"]["count"] == 2  # an agent sees teams too

        # Snoozed and resolved conversations leave a team's view, as they leave "all".
        later = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat()
        r = await sc.ben.post(f"/api/conversations/{c2}/snooze", json={"until": later})
        assert r.status_code == 200, r.text
        await sc.anna.patch(f"/api/conversations/{c3}", json={"status": "resolved"})
        n = await team_counts(sc)
        assert (n["Support"]["count"], n["Everyone"]["count"]) == (0, 1)
        assert await ids(sc, f"team:{support}") == []

        # A new member brings the conversations assigned to them.
        r = await sc.anna.patch(f"/api/teams/{empty}", json={"member_ids": [sc.anna.id]})
        assert r.status_code == 200, r.text
        assert await ids(sc, f"team:{empty}") == [c1]

        for bad in ("team:", "team:abc", "team:-1", "team:1.5", "team:" + "9" * 30):
            r = await sc.anna.http.get(f"/api/console/views/{bad}")
            assert r.status_code == 422, bad
            assert r.json()["code"] == "bad_view"
        assert await ids(sc, "team:999999") == []
        for ws in socks:
            await ws.close()
