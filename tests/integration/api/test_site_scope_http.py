"""Site scoping over HTTP: an agent reads only the conversations, visitors, radar rules and
policies, co-browse sessions, support codes and reports of the sites they serve; another site's
ids answer 404 (as if absent). Admins see every site."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.integration.api.helpers import assert_error
from tests.integration.api.sites_world import TwoSites, chat, two_sites
from tests.support.actors import Scenario, next_frame, running_scenario
from tests.support.server import InProcessServer


@pytest.fixture
async def world(scenario: Scenario) -> AsyncIterator[TwoSites]:
    w = await two_sites(scenario)
    yield w
    await w.close()


async def test_conversations_list_detail_messages_and_inbox_are_scoped(world: TwoSites) -> None:
    sc = world.sc
    v1, v2 = await world.visitor(world.site1), await world.visitor(world.site2)
    ws1, conv1 = await chat(v1, "site one")
    ws2, conv2 = await chat(v2, "site two")
    ben, cora, anna = sc.ben, world.cora, sc.anna

    assert [c["id"] for c in (await ben.http.get("/api/conversations")).json()] == [conv1]
    assert [c["id"] for c in (await cora.http.get("/api/conversations")).json()] == [conv2]
    assert {c["id"] for c in (await anna.http.get("/api/conversations")).json()} == {conv1, conv2}
    inbox = (await ben.http.get("/api/console/inbox")).json()
    assert [c["id"] for c in inbox] == [conv1]
    assert [c["id"] for c in (await cora.http.get("/api/console/inbox")).json()] == [conv2]

    assert (await ben.http.get(f"/api/conversations/{conv1}")).status_code == 200
    for path in (
        f"/api/conversations/{conv2}",
        f"/api/conversations/{conv2}/messages",
        f"/api/conversations/{conv2}/deliveries",
    ):
        assert_error(await ben.http.get(path), 404, "no_such_conversation")
    r = await ben.post(f"/api/conversations/{conv2}/messages", json={"body": "hi"})
    assert_error(r, 404, "no_such_conversation")
    r = await ben.patch(f"/api/conversations/{conv2}", json={"status": "resolved"})
    assert_error(r, 404, "no_such_conversation")
    r = await ben.post(f"/api/conversations/{conv2}/accept")
    assert_error(r, 404, "no_such_conversation")
    # nothing of site 2 changed through ben
    msgs = (await cora.http.get(f"/api/conversations/{conv2}/messages")).json()
    assert [m["body"] for m in msgs] == ["site two"]
    assert (await cora.http.get(f"/api/conversations/{conv2}")).json()["status"] == "open"
    await ws1.close()
    await ws2.close()


async def test_assignment_and_transfer_only_to_agents_of_the_site(world: TwoSites) -> None:
    v2 = await world.visitor(world.site2)
    ws, conv2 = await chat(v2)
    r = await world.sc.anna.patch(
        f"/api/conversations/{conv2}", json={"assignee_id": world.sc.ben.id}
    )
    assert_error(r, 422, "agent_not_on_site")
    r = await world.sc.anna.patch(
        f"/api/conversations/{conv2}", json={"assignee_id": world.cora.id}
    )
    assert r.status_code == 200 and r.json()["assignee_id"] == world.cora.id
    r = await world.cora.post(
        f"/api/conversations/{conv2}/transfer", json={"agent_id": world.sc.ben.id}
    )
    assert_error(r, 422, "agent_not_on_site")
    await ws.close()


async def test_visitors_are_scoped(world: TwoSites) -> None:
    v1, v2 = await world.visitor(world.site1), await world.visitor(world.site2)
    ben, anna = world.sc.ben, world.sc.anna
    assert (await ben.http.get(f"/api/visitors/{v1.id}")).status_code == 200
    assert_error(await ben.http.get(f"/api/visitors/{v2.id}"), 404, "no_such_visitor")
    assert [v["id"] for v in (await ben.http.get("/api/visitors")).json()] == [v1.id]
    assert [v["id"] for v in (await world.cora.http.get("/api/visitors")).json()] == [v2.id]
    assert {v["id"] for v in (await anna.http.get("/api/visitors")).json()} == {v1.id, v2.id}


async def test_radar_rules_policy_and_live_visitors_are_scoped(world: TwoSites) -> None:
    anna, ben = world.sc.anna, world.sc.ben
    rule = {
        "name": "x",
        "when": {"url": {"glob": "/x"}},
        "action": {"type": "message", "text": {"en": "hi"}},
    }
    ids = {}
    for site in (world.site1, world.site2, None):
        r = await anna.post("/api/radar/rules", json={"site_id": site, "rule": rule})
        assert r.status_code == 201, r.text
        ids[site] = r.json()["id"]
    seen = {r["id"] for r in (await ben.http.get("/api/radar/rules")).json()}
    assert seen == {ids[world.site1], ids[None]}
    assert_error(
        await ben.http.get(f"/api/radar/rules/{ids[world.site2]}/figures"), 404, "not_found"
    )
    assert (await ben.http.get(f"/api/radar/rules/{ids[world.site1]}/figures")).status_code == 200
    assert (await ben.http.get(f"/api/radar/policy/{world.site1}")).status_code == 200
    assert_error(await ben.http.get(f"/api/radar/policy/{world.site2}"), 404, "not_found")

    v1, v2 = await world.visitor(world.site1), await world.visitor(world.site2)
    ws1, _ = await chat(v1)
    ws2, _ = await chat(v2)
    live = {v["id"] for v in (await anna.http.get("/api/radar/visitors")).json()}
    assert {v1.id, v2.id} <= live
    assert {v["id"] for v in (await ben.http.get("/api/radar/visitors")).json()} == {v1.id}
    r = await ben.post(f"/api/radar/visitors/{v2.id}/invite", json={"text": "Hello?"})
    assert_error(r, 404, "visitor_not_live")
    await ws1.close()
    await ws2.close()


async def test_cobrowse_sessions_audit_and_support_codes_are_scoped(world: TwoSites) -> None:
    v2 = await world.visitor(world.site2)
    ws, conv2 = await chat(v2)
    r = await world.sc.anna.patch(
        f"/api/conversations/{conv2}", json={"assignee_id": world.cora.id}
    )
    assert r.status_code == 200
    cora_ws = await _agent_socket(world.cora)
    await cora_ws.send(json.dumps({"type": "cobrowse_request", "conversation_id": conv2}))
    asked = await next_frame(ws, "cobrowse")
    assert asked["status"] == "requested"
    ben = world.sc.ben
    r = await world.cora.http.get("/api/cobrowse/sessions", params={"conversation_id": conv2})
    assert [s["session_id"] for s in r.json()] == [asked["session_id"]]
    r = await ben.http.get("/api/cobrowse/sessions", params={"conversation_id": conv2})
    assert r.status_code == 200 and r.json() == []
    assert (await ben.http.get("/api/cobrowse/audit")).json() == []
    assert len((await world.cora.http.get("/api/cobrowse/audit")).json()) == 1

    # A support code of site 2 is "no such code" for ben, and stays usable for cora.
    await ws.send(json.dumps({"type": "cobrowse_code"}))
    code = (await next_frame(ws, "cobrowse_code"))["code"]
    r = await ben.post("/api/cobrowse/join-by-code", json={"code": code})
    assert_error(r, 404, "bad_code")
    r = await world.cora.post("/api/cobrowse/join-by-code", json={"code": code})
    assert r.status_code == 200, r.text
    assert r.json()["conversation_id"] == conv2
    await cora_ws.close()
    await ws.close()


async def test_reports_count_only_the_readers_sites(
    world: TwoSites, server: InProcessServer
) -> None:
    anna = world.sc.anna
    r = await anna.patch(f"/api/agents/{world.sc.ben.id}", json={"role": "supervisor"})
    assert r.status_code == 200
    sockets = []
    for site, n in ((world.site1, 1), (world.site2, 2)):
        for _ in range(n):
            ws, _conv = await chat(await world.visitor(site))
            sockets.append(ws)
    await server.app.state.reports.flush()  # facts are folded in at the store's flush
    by_site = (await anna.http.get("/api/reports/volume", params={"by": "site"})).json()
    assert {int(row["site"]): row["conversations"] for row in by_site} == {
        world.site1: 1,
        world.site2: 2,
    }
    ben_view = (await world.sc.ben.http.get("/api/reports/volume", params={"by": "site"})).json()
    assert {int(row["site"]): row["conversations"] for row in ben_view} == {world.site1: 1}
    for ws in sockets:
        await ws.close()


async def _agent_socket(agent: object) -> object:
    from tests.support.actors import raw_socket

    ws = await raw_socket(await agent.ws_url(), origin=None)  # type: ignore[attr-defined]
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "resume", "conversations": {}}))
    return ws


async def test_scope_holds_on_both_databases(tmp_path: Path, database_url: str) -> None:
    """Reads, replies and assignment across sites, on SQLite and PostgreSQL."""
    async with running_scenario(tmp_path, database_url) as (_srv, sc):
        world = await two_sites(sc)
        try:
            ws2, conv2 = await chat(await world.visitor(world.site2), "two")
            ws1, conv1 = await chat(await world.visitor(world.site1), "one")
            assert [c["id"] for c in (await sc.ben.http.get("/api/conversations")).json()] == [
                conv1
            ]
            r = await sc.ben.post(f"/api/conversations/{conv2}/messages", json={"body": "x"})
            assert_error(r, 404, "no_such_conversation")
            r = await world.cora.post(f"/api/conversations/{conv2}/messages", json={"body": "y"})
            assert r.status_code == 201, r.text
            r = await sc.anna.patch(
                f"/api/conversations/{conv1}", json={"assignee_id": world.cora.id}
            )
            assert_error(r, 422, "agent_not_on_site")
            await ws1.close()
            await ws2.close()
        finally:
            await world.close()
