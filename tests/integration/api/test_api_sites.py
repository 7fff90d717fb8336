"""Sites: embed snippet, normalised origins, identity secret rotation (admins only)."""

from __future__ import annotations

import httpx
from tests.integration.api.helpers import assert_error
from tests.support.actors import Scenario

from tresen.security.identity import identity_hash


async def test_admin_creates_site_with_normalised_origins_and_snippet(scenario: Scenario) -> None:
    r = await scenario.anna.post(
        "/api/sites",
        json={
            "name": " Outlet ",
            "allowed_origins": [
                "https://Outlet.Example:443/",
                "https://outlet.example",
                "http://localhost:3000",
            ],
        },
    )
    assert r.status_code == 201, r.text
    site = r.json()
    assert site["name"] == "Outlet"
    assert site["allowed_origins"] == ["http://localhost:3000", "https://outlet.example"]
    assert len(site["widget_key"]) >= 16 and len(site["identity_secret"]) >= 32
    assert site["embed_snippet"] == (
        f'<script src="{scenario.base_url}/widget.js" data-site="{site["widget_key"]}" '
        "async></script>"
    )
    listed = (await scenario.anna.http.get("/api/sites")).json()
    assert [s["name"] for s in listed] == ["Shop", "Outlet"]
    got = await scenario.anna.http.get(f"/api/sites/{site['id']}")
    assert got.json() == site
    # Visitors of the new site may come from its (normalised) origins.
    async with httpx.AsyncClient(base_url=scenario.base_url) as http:
        r = await http.post(
            "/api/visitor/session",
            json={"site_key": site["widget_key"]},
            headers={"Origin": "https://outlet.example"},
        )
        assert r.status_code == 200


async def test_invalid_origin_is_rejected_and_nothing_created(scenario: Scenario) -> None:
    for bad in ["outlet.example", "https://outlet.example/shop", "ftp://outlet.example"]:
        r = await scenario.anna.post("/api/sites", json={"name": "X", "allowed_origins": [bad]})
        body = assert_error(r, 422, "invalid")
        assert bad in body["message"]
    r = await scenario.anna.post("/api/sites", json={"name": "   "})
    assert_error(r, 422, "invalid")
    assert len((await scenario.anna.http.get("/api/sites")).json()) == 1


async def test_sites_are_admin_only(scenario: Scenario) -> None:
    assert_error(await scenario.ben.http.get("/api/sites"), 403, "forbidden")
    assert_error(await scenario.ben.http.get("/api/sites/1"), 403, "forbidden")
    assert_error(await scenario.ben.post("/api/sites", json={"name": "B"}), 403, "forbidden")
    assert_error(await scenario.ben.patch("/api/sites/1", json={"name": "B"}), 403, "forbidden")
    assert_error(await scenario.anna.http.get("/api/sites/999"), 404, "not_found")


async def _session(scenario: Scenario, origin: str, **body: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=scenario.base_url) as http:
        return await http.post(
            "/api/visitor/session",
            json={"site_key": scenario.site_key, **body},
            headers={"Origin": origin},
        )


async def test_changing_origins_changes_who_may_connect(scenario: Scenario) -> None:
    site = (await scenario.anna.http.get("/api/sites")).json()[0]
    r = await scenario.anna.patch(
        f"/api/sites/{site['id']}", json={"allowed_origins": ["https://NEW.example"]}
    )
    assert r.status_code == 200 and r.json()["allowed_origins"] == ["https://new.example"]
    assert (await _session(scenario, "https://new.example")).status_code == 200
    assert_error(await _session(scenario, "https://shop.example"), 403, "bad_origin")
    r = await scenario.anna.patch(f"/api/sites/{site['id']}", json={"allowed_origins": ["nope"]})
    assert_error(r, 422, "invalid")
    still = (await scenario.anna.http.get(f"/api/sites/{site['id']}")).json()
    assert still["allowed_origins"] == ["https://new.example"]


async def test_rotating_identity_secret_invalidates_old_hashes(scenario: Scenario) -> None:
    site = (await scenario.anna.http.get("/api/sites")).json()[0]
    old = site["identity_secret"]
    assert old == scenario.identity_secret
    r = await scenario.anna.patch(f"/api/sites/{site['id']}", json={"rotate_identity_secret": True})
    assert r.status_code == 200
    new = r.json()["identity_secret"]
    assert new != old and r.json()["widget_key"] == site["widget_key"]

    stale = {"id": "cust-1", "hash": identity_hash(old, "cust-1")}
    r = await _session(scenario, "https://shop.example", identity=stale)
    assert r.status_code == 200 and r.json()["verified"] is False
    fresh = {"id": "cust-1", "hash": identity_hash(new, "cust-1")}
    r = await _session(scenario, "https://shop.example", identity=fresh)
    assert r.status_code == 200 and r.json()["verified"] is True
