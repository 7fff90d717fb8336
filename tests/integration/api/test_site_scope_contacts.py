"""Contacts are scoped like everything else: an agent of site 2 never lists, reads, changes,
merges, exports or imports into site 1's contacts (404 / left out, never 403: existence is not
leaked); an admin sees both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.integration.api.sites_world import TwoSites, chat, two_sites
from tests.support.actors import Scenario


@pytest.fixture
async def world(scenario: Scenario) -> AsyncIterator[TwoSites]:
    w = await two_sites(scenario)
    yield w
    await w.close()


async def contact_id(world: TwoSites, visitor_id: int) -> int:
    r = await world.sc.anna.http.get(f"/api/contacts/by-visitor/{visitor_id}")
    assert r.status_code == 200, r.text
    return int(r.json()["contact_id"])


async def test_contacts_exports_and_import_are_scoped(world: TwoSites) -> None:
    sc, cora = world.sc, world.cora
    v1 = await world.visitor(world.site1)
    v2 = await world.visitor(world.site2)
    ws1, _ = await chat(v1, "from shop one")
    ws2, _ = await chat(v2, "from the other shop")
    c1, c2 = await contact_id(world, v1.id), await contact_id(world, v2.id)

    listed = (await cora.http.get("/api/contacts")).json()
    ids = {c["id"] for c in listed.get("items", listed.get("contacts", []))}
    assert c2 in ids and c1 not in ids
    assert (await cora.http.get(f"/api/contacts/{c1}")).status_code == 404
    assert (await cora.http.get(f"/api/contacts/by-visitor/{v1.id}")).status_code == 404
    assert (await cora.http.get(f"/api/contacts/{c2}")).status_code == 200
    r = await cora.patch(f"/api/contacts/{c1}", json={"add_tags": ["stolen"]})
    assert r.status_code == 404
    r = await cora.post(f"/api/contacts/{c2}/merge", json={"other_id": c1})
    assert r.status_code in (404, 422), r.text
    r = await cora.post(f"/api/contacts/{c1}/notes", json={"body": "not yours"})
    assert r.status_code == 404

    # exports and imports are for supervisors: cora becomes one, still of site 2 only
    assert (await cora.http.get("/api/exports/contacts")).status_code == 403
    r = await sc.anna.patch(f"/api/agents/{cora.id}", json={"role": "supervisor"})
    assert r.status_code == 200, r.text
    exported = await cora.http.get("/api/exports/contacts", params={"format": "json"})
    assert exported.status_code == 200
    assert f'"id": {c2}' in exported.text or f'"id":{c2}' in exported.text
    assert f'"id": {c1},' not in exported.text and f'"id":{c1},' not in exported.text
    convs = await cora.http.get("/api/exports/conversations", params={"format": "csv"})
    assert "from the other shop" in convs.text and "from shop one" not in convs.text

    r = await cora.http.post(
        "/api/contacts/import",
        params={"site_id": world.site1, "dry_run": "true"},
        content=b"name,email\nEve,eve@example.com\n",
        headers={"Content-Type": "text/csv", "X-CSRF-Token": cora.csrf},
    )
    assert r.status_code in (403, 404), r.text

    both = (await sc.anna.http.get("/api/contacts")).json()
    all_ids = {c["id"] for c in both.get("items", both.get("contacts", []))}
    assert {c1, c2} <= all_ids
    await ws1.close()
    await ws2.close()
