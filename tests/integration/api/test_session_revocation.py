"""Ending a session ends what it opened: password change, logout and deactivation revoke
sessions and close their agent sockets (4001, after a ``session_ended`` error frame); tickets
are single-use and die with their session."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.integration.api.helpers import assert_error
from tests.support.actors import Agent, Scenario, next_frame, raw_socket
from websockets.exceptions import ConnectionClosed

CLOSE_SESSION_ENDED = 4001  # docs/protocol.md, close codes


async def _console(agent: Agent) -> Any:
    ws = await raw_socket(await agent.ws_url(), origin=None)
    await next_frame(ws, "welcome")
    await ws.send('{"type":"resume","conversations":{}}')
    return ws


async def _ended(ws: Any) -> dict[str, Any]:
    """Read until the server closes: the last frame was ``session_ended``, the code 4001."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frames.append(json.loads(await next_frame_raw(ws)))
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == CLOSE_SESSION_ENDED, closed
    assert frames and frames[-1]["type"] == "error", frames
    assert frames[-1]["code"] == "session_ended"
    return frames[-1]


async def next_frame_raw(ws: Any) -> str:
    import asyncio

    return str(await asyncio.wait_for(ws.recv(), 10))


async def _alive(ws: Any) -> None:
    await ws.send('{"type":"ping"}')
    assert (await next_frame(ws, "pong"))["type"] == "pong"


async def test_password_change_ends_every_other_session_and_its_sockets(
    scenario: Scenario,
) -> None:
    anna = scenario.anna
    other = await Agent.login(scenario.base_url, "anna")  # anna in a second browser
    mine, theirs = await _console(anna), await _console(other)
    try:
        r = await anna.patch(f"/api/agents/{anna.id}", json={"password": "a new password 1"})
        assert r.status_code == 200, r.text
        assert "the password was changed" in (await _ended(theirs))["message"]
        assert_error(await other.http.get("/api/auth/me"), 401, "not_logged_in")
        r = await other.post("/api/conversations/1/messages", json={"body": "still here?"})
        assert r.status_code == 401
        # The session that changed the password carries on, socket and all.
        assert (await anna.http.get("/api/auth/me")).status_code == 200
        await _alive(mine)
    finally:
        await mine.close()
        await other.close()


async def test_admin_setting_a_password_ends_all_of_that_agents_sessions(
    scenario: Scenario,
) -> None:
    ben_ws = await _console(scenario.ben)
    anna_ws = await _console(scenario.anna)
    try:
        r = await scenario.anna.patch(
            f"/api/agents/{scenario.ben.id}", json={"password": "bens new password"}
        )
        assert r.status_code == 200, r.text
        await _ended(ben_ws)
        assert_error(await scenario.ben.http.get("/api/auth/me"), 401, "not_logged_in")
        await _alive(anna_ws)
    finally:
        await anna_ws.close()


async def test_logout_closes_the_sockets_of_that_session_only(scenario: Scenario) -> None:
    anna = scenario.anna
    other = await Agent.login(scenario.base_url, "anna")
    leaving, staying = await _console(anna), await _console(other)
    stale_ticket_url = await anna.ws_url()
    try:
        assert (await anna.post("/api/auth/logout")).status_code == 200
        assert "logged out" in (await _ended(leaving))["message"]
        await _alive(staying)
        # A ticket issued before the logout no longer opens a socket.
        await _refused(stale_ticket_url)
    finally:
        await staying.close()
        await other.close()


async def test_deactivation_closes_every_socket_of_the_agent(scenario: Scenario) -> None:
    ben2 = await Agent.login(scenario.base_url, "ben")
    first, second = await _console(scenario.ben), await _console(ben2)
    try:
        r = await scenario.anna.patch(f"/api/agents/{scenario.ben.id}", json={"is_active": False})
        assert r.status_code == 200, r.text
        assert "deactivated" in (await _ended(first))["message"]
        await _ended(second)
    finally:
        await ben2.close()


async def _refused(url: str) -> None:
    ws = await raw_socket(url, origin=None)
    frame = await next_frame(ws, "error")
    assert frame["code"] == "bad_ticket", frame
    try:
        await ws.recv()
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4401
    else:
        raise AssertionError("a refused socket stays open")


async def test_a_ticket_opens_one_socket_only(scenario: Scenario) -> None:
    url = await scenario.ben.ws_url()
    ws = await raw_socket(url, origin=None)
    assert (await next_frame(ws, "welcome"))["principal"]["id"] == scenario.ben.id
    try:
        await _refused(url)  # the same ticket again
    finally:
        await ws.close()


async def test_session_cookie_is_secure_when_the_public_url_is_https(
    tmp_path: Any,
) -> None:
    from tests.support.actors import PASSWORD, seed
    from tests.support.server import InProcessServer, test_settings

    from tresen.storage.migrate import upgrade_async

    conf = test_settings(tmp_path)
    conf = conf.model_copy(update={"public_url": "https://chat.example"})
    assert not conf.cookie_secure  # no other setting asks for it
    await upgrade_async(conf.database_url)
    srv = InProcessServer(conf)
    await srv.start()
    try:
        await seed(srv.rt)
        async with httpx.AsyncClient(base_url=srv.url) as http:
            r = await http.post("/api/auth/login", json={"username": "anna", "password": PASSWORD})
        assert r.status_code == 200
        cookies = r.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("tresen_session="))
        assert "secure" in {p.strip().lower() for p in session.split(";")}
    finally:
        await srv.stop()
