"""Login, sessions, CSRF, logout and WebSocket tickets over real HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from tests.integration.api.helpers import assert_error
from tests.support.actors import PASSWORD, Scenario, next_frame, raw_socket

from tresen.security import ratelimit


async def test_login_sets_httponly_samesite_session_cookie(
    scenario: Scenario, anon: httpx.AsyncClient
) -> None:
    r = await anon.post("/api/auth/login", json={"username": "anna", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["agent"]["username"] == "anna" and body["agent"]["role"] == "admin"
    assert "password_hash" not in body["agent"]
    assert len(body["csrf_token"]) >= 24
    cookie = r.headers["set-cookie"]
    attrs = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("tresen_session=")
    assert {"httponly", "samesite", "path", "max-age"} <= attrs
    assert "samesite=lax" in cookie.lower()
    # The token travels only in the cookie, never in the JSON body.
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token not in r.text

    me = await anon.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["agent"]["id"] == body["agent"]["id"]
    assert me.json()["csrf_token"] == body["csrf_token"]


@pytest.mark.parametrize("username", ["anna", "nobody"])
async def test_wrong_credentials_are_one_401(
    scenario: Scenario, anon: httpx.AsyncClient, username: str
) -> None:
    r = await anon.post("/api/auth/login", json={"username": username, "password": "wrong-pass"})
    body = assert_error(r, 401, "bad_credentials")
    assert body["message"] == "wrong username or password"  # same for unknown users
    assert "set-cookie" not in r.headers


async def test_not_logged_in_is_401(scenario: Scenario, anon: httpx.AsyncClient) -> None:
    assert_error(await anon.get("/api/auth/me"), 401, "not_logged_in")
    assert_error(await anon.get("/api/conversations"), 401, "not_logged_in")
    anon.cookies.set("tresen_session", "forged-session-token")
    assert_error(await anon.get("/api/auth/me"), 401, "not_logged_in")


async def test_login_is_rate_limited(
    scenario: Scenario, anon: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pin the limiter's window so the test cannot straddle a minute boundary.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6000.0))
    limit = 10  # settings.login_attempts_per_minute
    for _ in range(limit):
        r = await anon.post("/api/auth/login", json={"username": "ben", "password": "nope-nope"})
        assert r.status_code == 401
    r = await anon.post("/api/auth/login", json={"username": "ben", "password": "nope-nope"})
    assert_error(r, 429, "rate_limited")
    # Even the right password is refused until the window passes: no guessing through.
    r = await anon.post("/api/auth/login", json={"username": "ben", "password": PASSWORD})
    assert_error(r, 429, "rate_limited")
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6060.0))
    r = await anon.post("/api/auth/login", json={"username": "ben", "password": PASSWORD})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("POST", "/api/auth/ws-ticket", None),
        ("POST", "/api/auth/logout", None),
        ("POST", "/api/agents", {"username": "carl", "password": "long enough pw"}),
        ("PATCH", "/api/agents/1", {"status": "away"}),
        ("POST", "/api/sites", {"name": "Evil", "allowed_origins": []}),
        ("PATCH", "/api/conversations/1", {"status": "resolved"}),
        ("POST", "/api/conversations/1/messages", {"body": "hi"}),
    ],
)
@pytest.mark.parametrize("header", [None, "wrong-token"])
async def test_state_changes_need_the_csrf_token(
    scenario: Scenario, method: str, path: str, json: object, header: str | None
) -> None:
    http = scenario.anna.http  # logged in: the cookie alone must not be enough
    headers = {} if header is None else {"X-CSRF-Token": header}
    r = await http.request(method, path, json=json, headers=headers)
    assert_error(r, 403, "csrf")
    # The session is still alive (logout did not happen) and nothing was created.
    assert (await http.get("/api/auth/me")).status_code == 200
    usernames = [a["username"] for a in (await http.get("/api/agents")).json()]
    assert "carl" not in usernames
    assert [s["name"] for s in (await http.get("/api/sites")).json()] == ["Shop"]


async def test_csrf_token_of_another_session_is_refused(scenario: Scenario) -> None:
    r = await scenario.anna.http.post(
        "/api/auth/ws-ticket", headers={"X-CSRF-Token": scenario.ben.csrf}
    )
    assert_error(r, 403, "csrf")


async def test_reads_do_not_need_csrf(scenario: Scenario) -> None:
    assert (await scenario.ben.http.get("/api/agents")).status_code == 200
    assert (await scenario.ben.http.get("/api/conversations")).status_code == 200


async def test_logout_invalidates_the_session(scenario: Scenario) -> None:
    anna = scenario.anna
    token = anna.http.cookies["tresen_session"]
    r = await anna.post("/api/auth/logout")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert 'tresen_session=""' in r.headers["set-cookie"] or "max-age=0" in (
        r.headers["set-cookie"].lower()
    )
    # Replaying the old cookie does not work: the session is gone on the server.
    async with httpx.AsyncClient(base_url=scenario.base_url) as replay:
        replay.cookies.set("tresen_session", token)
        assert_error(await replay.get("/api/auth/me"), 401, "not_logged_in")
        r = await replay.post("/api/auth/ws-ticket", headers={"X-CSRF-Token": anna.csrf})
        assert_error(r, 401, "not_logged_in")
    # Other sessions are untouched.
    assert (await scenario.ben.http.get("/api/auth/me")).status_code == 200


async def test_ws_ticket_opens_an_agent_socket(scenario: Scenario) -> None:
    r = await scenario.ben.post("/api/auth/ws-ticket")
    assert r.status_code == 200
    assert r.json()["expires_in"] == 30
    ws = await raw_socket(
        f"{scenario.base_url.replace('http', 'ws', 1)}/ws/agent?ticket={r.json()['ticket']}",
        origin=None,
    )
    try:
        welcome = await next_frame(ws, "welcome")
        assert welcome["principal"] == {
            "kind": "agent",
            "id": scenario.ben.id,
            "name": "Ben",
            "role": "agent",
        }
    finally:
        await ws.close()


async def test_ws_ticket_needs_a_session(scenario: Scenario, anon: httpx.AsyncClient) -> None:
    assert_error(await anon.post("/api/auth/ws-ticket"), 401, "not_logged_in")
