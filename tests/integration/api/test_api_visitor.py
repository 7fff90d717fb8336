"""Visitor sessions: new, returning, verified identity across devices, origin and key checks."""

from __future__ import annotations

import httpx
from tests.integration.api.helpers import assert_error, start_conversation
from tests.support.actors import ORIGIN, Scenario
from tests.support.server import InProcessServer

from tresen.security.identity import identity_hash
from tresen.security.tokens import Signer
from tresen.sites.actions import do_create_site


async def _session(
    base_url: str, body: dict[str, object], origin: str | None = ORIGIN
) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    async with httpx.AsyncClient(base_url=base_url) as http:
        return await http.post("/api/visitor/session", json=body, headers=headers)


async def test_new_visitor_then_returning_by_token(scenario: Scenario) -> None:
    r = await _session(scenario.base_url, {"site_key": scenario.site_key})
    assert r.status_code == 200
    first = r.json()
    assert first["verified"] is False and first["conversations"] == []
    assert isinstance(first["visitor_id"], int) and first["token"]

    other = (await _session(scenario.base_url, {"site_key": scenario.site_key})).json()
    assert other["visitor_id"] != first["visitor_id"]

    visitor = await scenario.visitor(token=first["token"])
    assert visitor.id == first["visitor_id"]
    conv = await start_conversation(visitor, "I was here before")
    back = await _session(
        scenario.base_url, {"site_key": scenario.site_key, "token": first["token"]}
    )
    assert back.json()["visitor_id"] == first["visitor_id"]
    convs = back.json()["conversations"]
    assert [c["id"] for c in convs] == [conv] and convs[0]["last_seq"] == 1
    assert "visitor_id" not in convs[0]  # the visitor view


async def test_verified_identity_is_recognised_on_a_new_device(scenario: Scenario) -> None:
    claim = {"id": "cust-42", "hash": identity_hash(scenario.identity_secret, "cust-42")}
    laptop = await _session(
        scenario.base_url,
        {"site_key": scenario.site_key, "identity": {**claim, "name": "Jana", "email": "j@x.de"}},
    )
    assert laptop.status_code == 200
    assert laptop.json()["verified"] is True and laptop.json()["name"] == "Jana"
    visitor = await scenario.visitor(token=laptop.json()["token"])
    conv = await start_conversation(visitor, "order 1001?")

    # A phone, no token, same verified customer: the same visitor with the same history.
    phone = await _session(scenario.base_url, {"site_key": scenario.site_key, "identity": claim})
    assert phone.json()["verified"] is True
    assert phone.json()["visitor_id"] == laptop.json()["visitor_id"]
    assert [c["id"] for c in phone.json()["conversations"]] == [conv]

    agent_view = (await scenario.ben.http.get(f"/api/conversations/{conv}")).json()
    assert agent_view["visitor_id"] == laptop.json()["visitor_id"]


async def test_anonymous_visitor_becomes_the_verified_customer(scenario: Scenario) -> None:
    anon = (await _session(scenario.base_url, {"site_key": scenario.site_key})).json()
    claim = {"id": "cust-7", "hash": identity_hash(scenario.identity_secret, "cust-7")}
    logged = await _session(
        scenario.base_url,
        {"site_key": scenario.site_key, "token": anon["token"], "identity": claim},
    )
    assert logged.json()["visitor_id"] == anon["visitor_id"] and logged.json()["verified"]


async def test_unverified_identity_is_not_trusted(scenario: Scenario) -> None:
    claim = {"id": "cust-42", "hash": identity_hash(scenario.identity_secret, "cust-42")}
    real = (
        await _session(scenario.base_url, {"site_key": scenario.site_key, "identity": claim})
    ).json()
    conv = await start_conversation(await scenario.visitor(token=real["token"]), "my address")

    for forged in (
        {"id": "cust-42"},
        {"id": "cust-42", "hash": "0" * 64},
        {"id": "cust-42", "hash": identity_hash("guessed-secret", "cust-42")},
        {"id": "cust-42", "hash": identity_hash(scenario.identity_secret, "cust-43")},
    ):
        r = await _session(
            scenario.base_url,
            {"site_key": scenario.site_key, "identity": {**forged, "name": "Mallory"}},
        )
        assert r.status_code == 200
        body = r.json()
        assert body["verified"] is False
        assert body["visitor_id"] != real["visitor_id"]
        assert body["conversations"] == []
        assert str(conv) not in str(body["conversations"])
        assert body["name"] is None  # unverified claims set nothing


async def test_token_of_another_site_or_forged_starts_fresh(
    scenario: Scenario, server: InProcessServer
) -> None:
    visitor = await scenario.visitor()
    other = await do_create_site(server.rt, "Other", [ORIGIN])
    r = await _session(scenario.base_url, {"site_key": other.widget_key, "token": visitor.token})
    assert r.status_code == 200 and r.json()["visitor_id"] != visitor.id

    forged = Signer("not-the-server-key", "visitor-token").sign(
        {"v": visitor.id, "s": 1}, expires_at=4_000_000_000
    )
    r = await _session(scenario.base_url, {"site_key": scenario.site_key, "token": forged})
    assert r.status_code == 200 and r.json()["visitor_id"] != visitor.id


async def test_wrong_site_key_is_404(scenario: Scenario) -> None:
    r = await _session(scenario.base_url, {"site_key": "no-such-site"})
    assert_error(r, 404, "unknown_site")


async def test_foreign_origin_is_403(scenario: Scenario) -> None:
    r = await _session(
        scenario.base_url, {"site_key": scenario.site_key}, origin="https://evil.example"
    )
    assert_error(r, 403, "bad_origin")
    # Server-side clients send no Origin; the widget frame comes from Tresen's own origin.
    assert (
        await _session(scenario.base_url, {"site_key": scenario.site_key}, None)
    ).status_code == 200
    own = await _session(scenario.base_url, {"site_key": scenario.site_key}, scenario.base_url)
    assert own.status_code == 200


async def test_visitor_reads_only_own_history(scenario: Scenario) -> None:
    alice, bob = await scenario.visitor(), await scenario.visitor()
    conv = await start_conversation(alice, "alice's secret")
    async with httpx.AsyncClient(base_url=scenario.base_url) as http:

        async def read(token: str | None, origin: str = ORIGIN) -> httpx.Response:
            headers = {"Origin": origin}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            return await http.get(
                f"/api/visitor/conversations/{conv}/messages",
                params={"site_key": scenario.site_key},
                headers=headers,
            )

        assert [m["body"] for m in (await read(alice.token)).json()] == ["alice's secret"]
        r = await read(bob.token)
        assert_error(r, 404, "no_such_conversation")
        assert "secret" not in r.text
        assert_error(await read(None), 401, "bad_token")
        assert_error(await read("garbage"), 401, "bad_token")
        assert_error(await read(alice.token, "https://evil.example"), 403, "bad_origin")
