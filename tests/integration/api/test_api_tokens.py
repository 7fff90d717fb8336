"""API tokens: shown once, stored hashed, scoped per resource, bound to their owner's sites (or
their own list), revocable, with last use, rate limited per token (429 + Retry-After)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from tests.integration.api.helpers import assert_error, start_conversation
from tests.integration.api.sites_world import chat, two_sites
from tests.support.actors import Scenario, running_scenario


async def make_token(sc: Scenario, **body: Any) -> dict[str, Any]:
    r = await sc.anna.post("/api/tokens", json={"name": "CRM sync", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def bearer(sc: Scenario, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=sc.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )


async def test_token_is_shown_once_and_works_without_csrf(scenario: Scenario) -> None:
    conv = await start_conversation(await scenario.visitor(), "Hello from the site")
    made = await make_token(scenario, scopes=["conversations:read", "messages:write"])
    token = made["token"]
    assert token.startswith("trs_") and len(token) > 40
    listed = (await scenario.anna.http.get("/api/tokens")).json()
    assert [t["id"] for t in listed["items"]] == [made["id"]]
    assert all("token" not in t and "token_hash" not in t for t in listed["items"])
    assert listed["items"][0]["last_used_at"] is None
    async with bearer(scenario, token) as api:
        r = await api.get("/api/conversations")
        assert r.status_code == 200 and [c["id"] for c in r.json()] == [conv]
        r = await api.post(f"/api/conversations/{conv}/messages", json={"body": "From the CRM"})
        assert r.status_code == 201, r.text
        assert r.json()["author"]["id"] == scenario.anna.id
        msgs = (await api.get(f"/api/conversations/{conv}/messages")).json()
        assert [m["body"] for m in msgs] == ["Hello from the site", "From the CRM"]
    listed = (await scenario.anna.http.get("/api/tokens")).json()
    assert listed["items"][0]["last_used_at"] is not None


async def test_scopes_limit_what_a_token_may_do(scenario: Scenario) -> None:
    conv = await start_conversation(await scenario.visitor(), "Hi")
    token = (await make_token(scenario, scopes=["conversations:read"]))["token"]
    async with bearer(scenario, token) as api:
        assert (await api.get(f"/api/conversations/{conv}")).status_code == 200
        r = await api.patch(f"/api/conversations/{conv}", json={"status": "resolved"})
        assert_error(r, 403, "scope")
        assert_error(await api.get(f"/api/conversations/{conv}/messages"), 403, "scope")
        assert_error(await api.get("/api/agents"), 403, "scope")
        assert_error(await api.get("/api/audit"), 403, "scope")
        # never: minting tokens, WebSocket tickets
        r = await api.post("/api/tokens", json={"name": "x", "scopes": ["tokens:write"]})
        assert_error(r, 403, "scope")
        assert_error(await api.post("/api/auth/ws-ticket"), 403, "scope")
    conv_now = (await scenario.anna.http.get(f"/api/conversations/{conv}")).json()
    assert conv_now["status"] == "open"


async def test_bad_unknown_and_revoked_tokens_are_401(scenario: Scenario) -> None:
    made = await make_token(scenario, scopes=["conversations:read"])
    async with bearer(scenario, "trs_" + "x" * 43) as api:
        assert_error(await api.get("/api/conversations"), 401, "bad_token")
    async with bearer(scenario, "nonsense") as api:
        assert_error(await api.get("/api/conversations"), 401, "bad_token")
    r = await scenario.anna.http.delete(
        f"/api/tokens/{made['id']}", headers={"X-CSRF-Token": scenario.anna.csrf}
    )
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    async with bearer(scenario, made["token"]) as api:
        assert_error(await api.get("/api/conversations"), 401, "bad_token")


async def test_only_admins_manage_tokens_and_scopes_are_checked(scenario: Scenario) -> None:
    r = await scenario.ben.post("/api/tokens", json={"name": "x", "scopes": ["sites:read"]})
    assert_error(r, 403, "forbidden")
    assert_error(await scenario.ben.http.get("/api/tokens"), 403, "forbidden")
    r = await scenario.anna.post("/api/tokens", json={"name": "x", "scopes": ["everything"]})
    assert_error(r, 422, "invalid")
    r = await scenario.anna.post("/api/tokens", json={"name": "x", "scopes": []})
    assert_error(r, 422, "invalid")
    r = await scenario.anna.http.post("/api/tokens", json={"name": "x", "scopes": ["sites:read"]})
    assert_error(r, 403, "csrf")


async def test_a_token_carries_its_owners_sites_or_its_own_list(scenario: Scenario) -> None:
    world = await two_sites(scenario)
    try:
        ws1, conv1 = await chat(await world.visitor(world.site1), "one")
        ws2, conv2 = await chat(await world.visitor(world.site2), "two")
        await ws1.close()
        await ws2.close()
        # a service account: cora's token sees site 2 only
        cora_token = (
            await make_token(scenario, scopes=["conversations:read"], agent_id=world.cora.id)
        )["token"]
        # an admin's token narrowed to site 1
        narrow = (
            await make_token(scenario, scopes=["conversations:read"], site_ids=[world.site1])
        )["token"]
        async with bearer(scenario, cora_token) as api:
            assert [c["id"] for c in (await api.get("/api/conversations")).json()] == [conv2]
            assert_error(await api.get(f"/api/conversations/{conv1}"), 404, "no_such_conversation")
        async with bearer(scenario, narrow) as api:
            assert [c["id"] for c in (await api.get("/api/conversations")).json()] == [conv1]
            assert_error(await api.get(f"/api/conversations/{conv2}"), 404, "no_such_conversation")
    finally:
        await world.close()


async def test_each_token_is_rate_limited_with_retry_after(tmp_path: Path) -> None:
    async with running_scenario(tmp_path, api_token_requests_per_minute=3) as (_srv, sc):
        one = (await make_token(sc, scopes=["conversations:read"]))["token"]
        two = (await make_token(sc, scopes=["conversations:read"]))["token"]
        async with bearer(sc, one) as api:
            # 3 a minute: of 7 requests (two windows at most) some are refused, the first 3 not
            responses = [await api.get("/api/conversations") for _ in range(7)]
            codes = [r.status_code for r in responses]
            assert codes[:3] == [200, 200, 200] and 429 in codes
            r = responses[codes.index(429)]
            body = assert_error(r, 429, "rate_limited")
            assert "3 requests a minute" in body["message"]
            assert 1 <= int(r.headers["Retry-After"]) <= 60
        async with bearer(sc, two) as api:  # another token has its own budget
            assert (await api.get("/api/conversations")).status_code == 200
        # the browser session is not limited by the token's budget
        assert (await sc.anna.http.get("/api/conversations")).status_code == 200
