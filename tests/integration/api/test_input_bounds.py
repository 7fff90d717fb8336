"""What a client sends cannot make the server fail: ids beyond 64 bits and references to
nothing are 4xx, a fault of ours is one JSON 500 logged once, every response says nosniff,
rule testing is for admins."""

from __future__ import annotations

import logging

import httpx
import pytest
from tests.integration.api.helpers import assert_error
from tests.support.actors import Scenario

HUGE = "99999999999999999999"  # beyond 64 bits


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/conversations/{HUGE}"),
        ("GET", f"/api/conversations/{HUGE}/messages"),
        ("PATCH", f"/api/agents/{HUGE}"),
        ("GET", f"/api/conversations/1/messages?after_seq={HUGE}"),
        ("DELETE", f"/api/radar/rules/{HUGE}"),
        ("GET", f"/api/conversations/-{HUGE}"),
    ],
)
async def test_ids_beyond_64_bits_are_a_client_error(
    scenario: Scenario, method: str, path: str
) -> None:
    anna = scenario.anna
    r = await anna.http.request(method, path, headers={"X-CSRF-Token": anna.csrf}, json={})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json()["type"] == "error"


async def test_numbers_beyond_64_bits_in_a_body_are_a_client_error(scenario: Scenario) -> None:
    rule = {
        "name": "x",
        "when": {"url": {"glob": "/x"}},
        "action": {"type": "message", "text": {"en": "hi"}},
    }
    r = await scenario.anna.post("/api/radar/rules", json={"site_id": int(HUGE), "rule": rule})
    assert r.status_code == 422, r.text


async def test_a_rule_for_no_site_is_refused(scenario: Scenario) -> None:
    rule = {
        "name": "x",
        "when": {"url": {"glob": "/x"}},
        "action": {"type": "message", "text": {"en": "hi"}},
    }
    r = await scenario.anna.post("/api/radar/rules", json={"site_id": 4242, "rule": rule})
    assert_error(r, 422, "no_such_site")
    r = await scenario.anna.post("/api/radar/rules", json={"site_id": None, "rule": rule})
    assert r.status_code == 201, r.text
    r = await scenario.anna.patch(f"/api/radar/rules/{r.json()['id']}", json={"site_id": 4242})
    assert_error(r, 422, "no_such_site")


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_fault_is_one_json_500_logged_once(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tresen.agents import api

    async def broken(*args: object) -> object:
        raise RuntimeError("boom in a query")

    monkeypatch.setattr(api, "list_agents", broken)
    seen = _Count()
    for name in ("", "uvicorn.error", "uvicorn"):
        logging.getLogger(name).addHandler(seen)
    try:
        r = await scenario.anna.http.get("/api/agents")
    finally:
        for name in ("", "uvicorn.error", "uvicorn"):
            logging.getLogger(name).removeHandler(seen)
    assert_error(r, 500, "internal")
    assert "boom" not in r.text  # no internals to the client
    faults = [rec for rec in seen.records if rec.exc_info and rec.levelno >= logging.ERROR]
    assert len({id(rec) for rec in faults}) == 1, [rec.getMessage() for rec in faults]


@pytest.mark.parametrize("path", ["/api/agents", "/api/nothing-here", "/healthz", "/console"])
async def test_every_response_says_nosniff(scenario: Scenario, path: str) -> None:
    r = await scenario.anna.http.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_rule_testing_is_for_admins(scenario: Scenario) -> None:
    probe = {
        "visitor_id": 1,
        "rule": {
            "name": "x",
            "when": {"url": {"regex": "(a+)+$"}},
            "action": {"type": "message", "text": {"en": "hi"}},
        },
    }
    assert_error(await scenario.ben.post("/api/radar/rules/test", json=probe), 403, "forbidden")
    r = await scenario.anna.post("/api/radar/rules/test", json=probe)
    assert r.status_code == 404  # an admin gets through: no such visitor live


async def test_nosniff_even_on_anonymous_errors(scenario: Scenario) -> None:
    async with httpx.AsyncClient(base_url=scenario.base_url) as anon:
        r = await anon.get("/api/conversations")
    assert r.status_code == 401 and r.headers["x-content-type-options"] == "nosniff"
