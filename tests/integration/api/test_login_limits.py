"""Login limits: per IP and per account, without locking the rightful owner out; forwarded
client addresses believed only from configured proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from tests.integration.api.helpers import assert_error
from tests.support.actors import PASSWORD, Scenario, running_scenario

from tresen.security import ratelimit

LIMIT = 10  # settings.login_attempts_per_minute


@pytest.fixture(autouse=True)
def pinned_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limiter's window stands still, so no test straddles a minute boundary."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6000.0))


@pytest.fixture
async def behind_proxy(tmp_path: Path) -> AsyncIterator[Scenario]:
    async with running_scenario(tmp_path, trusted_proxies=["127.0.0.1"]) as (_srv, sc):
        yield sc


async def _login(http: httpx.AsyncClient, user: str, password: str, ip: str) -> httpx.Response:
    body = {"username": user, "password": password}
    return await http.post("/api/auth/login", json=body, headers={"X-Forwarded-For": ip})


async def test_guesses_from_many_ips_do_not_lock_out_the_owners_browser(
    behind_proxy: Scenario,
) -> None:
    sc = behind_proxy
    owner = sc.ben.http  # ben logged in from this browser before: it holds the device cookie
    assert "tresen_device" in {c.name for c in owner.cookies.jar}
    async with httpx.AsyncClient(base_url=sc.base_url) as attacker:
        for i in range(LIMIT):
            r = await _login(attacker, "ben", "wrong guess", f"198.51.100.{i}")
            assert_error(r, 401, "bad_credentials")
        # The account is locked for browsers it does not know, whatever their address...
        r = await _login(attacker, "ben", PASSWORD, "198.51.100.200")
        assert_error(r, 429, "rate_limited")
    # ...but ben's own browser still logs in.
    r = await _login(owner, "ben", PASSWORD, "203.0.113.7")
    assert r.status_code == 200, r.text


async def test_one_ip_is_limited_across_accounts(behind_proxy: Scenario) -> None:
    async with httpx.AsyncClient(base_url=behind_proxy.base_url) as http:
        for i in range(LIMIT):
            assert (await _login(http, f"nobody{i}", "x", "198.51.100.9")).status_code == 401
        assert_error(await _login(http, "anna", PASSWORD, "198.51.100.9"), 429, "rate_limited")
        # Another client address (through the trusted proxy) is counted on its own.
        assert (await _login(http, "anna", PASSWORD, "198.51.100.10")).status_code == 200


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(scenario: Scenario) -> None:
    async with httpx.AsyncClient(base_url=scenario.base_url) as http:
        statuses = [
            (await _login(http, f"nobody{i}", "x", f"198.51.100.{i}")).status_code
            for i in range(LIMIT)
        ]
        assert statuses[-1] == 429  # anna's and ben's logins counted too: one IP, one limit
        # Every attempt came from 127.0.0.1, whatever the header claimed.
        assert_error(await _login(http, "anna", PASSWORD, "198.51.100.99"), 429, "rate_limited")


async def test_forwarded_host_is_ignored_from_an_untrusted_peer(scenario: Scenario) -> None:
    # The console's CSP names its host: from an untrusted peer the header changes nothing.
    r = await scenario.anna.http.get("/console", headers={"X-Forwarded-Host": "evil.example"})
    assert r.status_code == 200
    assert "evil.example" not in r.headers["content-security-policy"]


async def test_forwarded_host_counts_from_a_trusted_proxy(behind_proxy: Scenario) -> None:
    r = await behind_proxy.anna.http.get("/console", headers={"X-Forwarded-Host": "chat.example"})
    assert "ws://chat.example" in r.headers["content-security-policy"]
