"""The visitor's session opened on the socket's handshake (``/ws/visitor?session=1``), as the
widget does: a new visitor gets its token in ``welcome``, the token brings the same visitor and
its conversations back on the next page, and every check of ``POST /api/visitor/session`` still
applies (site key, Origin allowlist, the per-IP limit of new visitors) with clear refusals;
identify() stays on the POST path and is still verified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.support.actors import ORIGIN, Scenario, raw_socket, running_scenario
from tests.support.actors import next_frame as _next_frame
from websockets.exceptions import ConnectionClosed

from tresen.gateway.lean_socket import LeanWebSocketProtocol
from tresen.security import ratelimit
from tresen.security.identity import identity_hash

LIMIT = 3
NEWS = frozenset({"radar", "queue", "overflow", "offer", "ping"})


async def next_frame(ws: Any, kind: str | None = None) -> dict[str, Any]:
    while True:
        frame = await _next_frame(ws, kind)
        if frame["type"] not in NEWS or kind in NEWS:
            return frame


def session_url(sc: Scenario, token: str | None = None, site: str | None = None) -> str:
    base = sc.base_url.replace("http", "ws", 1)
    url = f"{base}/ws/visitor?site={site or sc.site_key}&session=1"
    return url + (f"&token={quote(token)}" if token else "")


async def welcome_of(url: str, origin: str | None = ORIGIN) -> tuple[Any, dict[str, Any]]:
    ws = await raw_socket(url, origin=origin)
    welcome = await next_frame(ws, "welcome")
    return ws, welcome


async def refused(url: str, origin: str | None, code: str, close_code: int) -> None:
    ws = await raw_socket(url, origin=origin)
    try:
        error = await next_frame(ws)
        assert error["type"] == "error" and error["code"] == code, error
        assert len(error["message"]) > 5
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code
    finally:
        await ws.close()


async def test_new_visitor_gets_its_token_on_the_socket_and_keeps_it(scenario: Scenario) -> None:
    ws, welcome = await welcome_of(session_url(scenario))
    session = welcome["session"]
    assert welcome["principal"]["kind"] == "visitor"
    assert session["visitor_id"] == welcome["principal"]["id"]
    assert session["conversations"] == [] and session["verified"] is False
    assert {"token", "whatsapp", "uploads", "name", "invited_conversation"} <= set(session)
    # The socket works at once: a chat starts on it.
    await ws.send('{"type": "send", "client_msg_id": "c1", "body": "Hallo"}')
    ack = await next_frame(ws, "ack")
    await ws.close()

    # The next page: the token brings the same visitor and its open conversation back.
    ws2, again = await welcome_of(session_url(scenario, session["token"]))
    assert again["principal"]["id"] == session["visitor_id"]
    assert [c["id"] for c in again["session"]["conversations"]] == [ack["conversation_id"]]
    await ws2.send(
        '{"type": "resume", "conversations": {"%d": 0}}' % ack["conversation_id"]  # noqa: UP031
    )
    assert (await next_frame(ws2, "message"))["body"] == "Hallo"
    await ws2.close()

    # The same token on the plain socket and on the POST (API clients, older widgets).
    base = scenario.base_url.replace("http", "ws", 1)
    plain = await raw_socket(
        f"{base}/ws/visitor?site={scenario.site_key}&token={quote(session['token'])}"
    )
    assert "session" not in (await next_frame(plain, "welcome"))
    await plain.close()
    async with httpx.AsyncClient(base_url=scenario.base_url, headers={"Origin": ORIGIN}) as http:
        r = await http.post(
            "/api/visitor/session", json={"site_key": scenario.site_key, "token": session["token"]}
        )
    assert r.status_code == 200 and r.json()["visitor_id"] == session["visitor_id"]


async def test_a_stale_or_foreign_token_starts_a_new_visitor(scenario: Scenario) -> None:
    ws, welcome = await welcome_of(session_url(scenario, "not-a-token"))
    assert welcome["session"]["token"] and welcome["session"]["conversations"] == []
    await ws.close()


async def test_origin_and_site_are_checked_with_clear_refusals(scenario: Scenario) -> None:
    await refused(session_url(scenario), "https://evil.example", "bad_origin", 4403)
    await refused(session_url(scenario, site="no-such-key"), ORIGIN, "unknown_site", 4401)


@pytest.fixture
async def limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Scenario]:
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6000.0))
    async with running_scenario(tmp_path, visitor_sessions_per_ip_per_minute=LIMIT) as (_s, sc):
        yield sc


async def test_new_visitors_on_the_socket_share_the_per_ip_limit(limited: Scenario) -> None:
    tokens = []
    for _ in range(LIMIT - 1):
        ws, welcome = await welcome_of(session_url(limited))
        tokens.append(welcome["session"]["token"])
        await ws.close()
    async with httpx.AsyncClient(base_url=limited.base_url, headers={"Origin": ORIGIN}) as http:
        r = await http.post("/api/visitor/session", json={"site_key": limited.site_key})
        assert r.status_code == 200  # the last one the limit allows, by the POST
    await refused(session_url(limited), ORIGIN, "too_many_sessions", 4429)
    # A returning visitor (a valid token) is not counted.
    ws, welcome = await welcome_of(session_url(limited, tokens[0]))
    assert welcome["session"]["token"]
    await ws.close()


async def test_identify_stays_verified_by_the_post(scenario: Scenario) -> None:
    ws, welcome = await welcome_of(session_url(scenario))
    token = welcome["session"]["token"]
    await ws.close()
    claim = {
        "id": "cust-9",
        "hash": identity_hash(scenario.identity_secret, "cust-9"),
        "name": "Jana",
    }
    forged = {"id": "cust-9", "hash": identity_hash("guessed", "cust-9"), "name": "Mallory"}
    async with httpx.AsyncClient(base_url=scenario.base_url, headers={"Origin": ORIGIN}) as http:
        body = {"site_key": scenario.site_key, "token": token}
        bad = (await http.post("/api/visitor/session", json={**body, "identity": forged})).json()
        assert bad["verified"] is False and bad["name"] is None
        good = (await http.post("/api/visitor/session", json={**body, "identity": claim})).json()
    assert good["verified"] is True and good["name"] == "Jana"
    # The identified visitor's token opens its session on the socket from then on.
    ws, again = await welcome_of(session_url(scenario, good["token"]))
    assert again["principal"]["id"] == good["visitor_id"]
    assert again["session"]["name"] == "Jana"
    await ws.close()


async def test_the_handshakes_answer_and_the_welcome_go_out_in_one_write(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a visitor's socket costs the server one write: the handshake's answer is held
    until the ``welcome`` (``gateway/lean_socket.py``); a refusal still gets its answer, its
    error frame and its close code."""
    writes: list[bytes] = []
    made = LeanWebSocketProtocol.connection_made

    def counting(self: LeanWebSocketProtocol, transport: Any) -> None:
        made(self, transport)
        write = transport.write

        def write_counted(data: bytes) -> None:
            writes.append(bytes(data))
            write(data)

        transport.write = write_counted

    monkeypatch.setattr(LeanWebSocketProtocol, "connection_made", counting)
    ws, welcome = await welcome_of(session_url(scenario))
    assert welcome["session"]["token"]
    assert len(writes) == 1, writes
    head, frames = writes[0].split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101")
    assert frames and frames[0] & 0x8F == 0x81  # one whole text frame (compressed or not)
    await ws.close()
    await refused(session_url(scenario), "https://evil.example", "bad_origin", 4403)
