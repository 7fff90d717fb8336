"""Hostile and broken input on the WebSocket: a clear error frame, the connection keeps
working, nothing is stored, and an unrelated connection never notices."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from tests.support.actors import Scenario, Visitor, raw_socket, running_scenario
from tests.support.actors import next_frame as _next_frame
from tests.support.server import TEST_SECRET, InProcessServer
from websockets.exceptions import ConnectionClosed

from tresen.clock import ManualClock
from tresen.security.tokens import Signer
from tresen.storage.models import Message

LIMIT = 8192  # settings.max_message_chars (default)


NEWS = frozenset({"radar", "queue", "overflow", "offer"})
"""Frames of other features (live radar, routing) that may arrive at any time; skipped."""


async def next_frame(ws: Any, kind: str | None = None, timeout: float = 5) -> dict[str, Any]:
    """The next frame (of ``kind``), skipping pings and other features' news."""
    while True:
        frame = await _next_frame(ws, kind, timeout)
        if frame["type"] not in NEWS or kind in NEWS:
            return frame


# ---- helpers -----------------------------------------------------------------------------------


async def open_visitor(visitor: Visitor) -> Any:
    ws = await raw_socket(visitor.ws_url())
    welcome = await next_frame(ws, "welcome")
    assert welcome["max_message_chars"] == LIMIT
    return ws


async def next_error(ws: Any, code: str) -> dict[str, Any]:
    """The very next (non-ping) frame is an error with ``code`` and a readable message."""
    frame = await next_frame(ws)
    assert frame["type"] == "error", frame
    assert frame["code"] == code, frame
    assert isinstance(frame["message"], str) and len(frame["message"]) > 5
    return frame


async def assert_alive(ws: Any) -> None:
    await ws.send('{"type":"ping"}')
    assert (await next_frame(ws))["type"] == "pong"


async def gather(ws: Any, *kinds: str) -> dict[str, dict[str, Any]]:
    """Read frames until one of each kind arrived (in any order); the first of each kind."""
    seen: dict[str, dict[str, Any]] = {}
    while set(kinds) - set(seen):
        frame = await next_frame(ws)
        seen.setdefault(frame["type"], frame)
    return seen


async def send(ws: Any, **frame: Any) -> None:
    await ws.send(json.dumps(frame))


async def stored(server: InProcessServer) -> list[str]:
    async with server.rt.db.read() as s:
        return list((await s.execute(select(Message.body).order_by(Message.id))).scalars())


async def count_stored(server: InProcessServer) -> int:
    async with server.rt.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(Message))).scalar_one())


@pytest.fixture
async def pair(scenario: Scenario) -> AsyncIterator[tuple[Any, Any]]:
    """A visitor's socket that misbehaves, and a bystander (another visitor, who is sent
    nothing of the first one's) that must not notice anything."""
    ws = await open_visitor(await scenario.visitor())
    bystander = await open_visitor(await scenario.visitor())
    yield ws, bystander
    await ws.close()
    await bystander.close()


# ---- malformed frames --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "hint"),
    [
        ("{not json", "bad_json", "JSON object"),
        ("", "bad_json", "JSON object"),
        ("[1, 2]", "bad_json", "JSON object"),
        ('"send"', "bad_json", "JSON object"),
        ("null", "bad_json", "JSON object"),
        ("42", "bad_json", "JSON object"),
        ('{"type": "dance"}', "unknown_type", "dance"),
        ("{}", "unknown_type", "None"),
        ('{"type": ["send"]}', "unknown_type", "send"),
        ('{"type": "send", "body": "hi"}', "invalid_frame", "client_msg_id"),
        ('{"type": "send", "client_msg_id": "c1"}', "invalid_frame", "body"),
        ('{"type": "send", "client_msg_id": "", "body": "hi"}', "invalid_frame", "client_msg_id"),
        ('{"type": "send", "client_msg_id": "c1", "body": 5}', "invalid_frame", "body"),
        (
            '{"type": "send", "client_msg_id": "c1", "body": "x", "admin": 1}',
            "invalid_frame",
            "admin",
        ),
        (
            '{"type": "read", "conversation_id": "one", "seq": 1}',
            "invalid_frame",
            "conversation_id",
        ),
        ('{"type": "read", "conversation_id": 1, "seq": -1}', "invalid_frame", "seq"),
        ('{"type": "typing"}', "invalid_frame", "conversation_id"),
        ('{"type": "resume", "conversations": [1]}', "invalid_frame", "conversations"),
    ],
)
async def test_malformed_frame_gets_error_and_connection_survives(
    scenario: Scenario,
    server: InProcessServer,
    pair: tuple[Any, Any],
    raw: str,
    code: str,
    hint: str,
) -> None:
    ws, bystander = pair
    await ws.send(raw)
    error = await next_error(ws, code)
    assert hint in error["message"]
    await assert_alive(ws)
    await assert_alive(bystander)
    assert await count_stored(server) == 0


async def test_invalid_send_error_carries_client_msg_id_as_ref(pair: tuple[Any, Any]) -> None:
    ws, _ = pair
    await send(ws, type="send", client_msg_id="mine-1", body="x", conversation_id="nope")
    assert (await next_error(ws, "invalid_frame"))["ref"] == "mine-1"


async def test_binary_frame_is_refused(server: InProcessServer, pair: tuple[Any, Any]) -> None:
    ws, bystander = pair
    await ws.send(json.dumps({"type": "send", "client_msg_id": "b", "body": "hi"}).encode())
    await next_error(ws, "binary_not_supported")
    await assert_alive(ws)
    await assert_alive(bystander)
    assert await count_stored(server) == 0


async def test_oversized_frame_is_refused(server: InProcessServer, pair: tuple[Any, Any]) -> None:
    ws, bystander = pair
    padding = "x" * (server.settings.max_frame_bytes + 1)
    await send(ws, type="send", client_msg_id="big", body=padding)
    error = await next_error(ws, "frame_too_large")
    assert str(server.settings.max_frame_bytes) in error["message"]
    await assert_alive(ws)
    await assert_alive(bystander)
    assert await count_stored(server) == 0


# ---- message content ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("x" * (LIMIT + 1), "message_too_long"),
        ("ä" * (LIMIT + 1), "message_too_long"),  # characters, not bytes, are counted
        ("", "empty_message"),
        (" \n\t ", "empty_message"),
        ("a\x00b", "bad_characters"),
        ("\ud800 lone surrogate", "bad_characters"),
    ],
)
async def test_unacceptable_body_is_refused_and_not_stored(
    server: InProcessServer, pair: tuple[Any, Any], body: str, code: str
) -> None:
    ws, bystander = pair
    await send(ws, type="send", client_msg_id="m1", body=body)
    error = await next_error(ws, code)
    assert error["ref"] == "m1"
    if code == "message_too_long":
        assert str(LIMIT) in error["message"]
    await assert_alive(ws)
    assert await count_stored(server) == 0
    # The same client_msg_id is still free: a corrected resend is stored.
    await send(ws, type="send", client_msg_id="m1", body="fixed")
    ack = await next_frame(ws, "ack")
    assert ack["duplicate"] is False and ack["seq"] == 1
    assert await stored(server) == ["fixed"]
    await assert_alive(bystander)


async def test_hundred_kilobytes_rejected_as_too_long(
    server: InProcessServer, pair: tuple[Any, Any]
) -> None:
    ws, _ = pair
    await send(ws, type="send", client_msg_id="huge", body="A" * 100_000)
    frame = await next_frame(ws)
    assert frame["type"] == "error" and frame["code"] in {"frame_too_large", "message_too_long"}
    await assert_alive(ws)
    assert await count_stored(server) == 0


HOSTILE = [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    "\u202egnp.exe (RTL override)",
    "👩‍👩‍👧‍👦 🇩🇪 é vs e\u0301 \u200b zero-width",
    '{"type":"error","code":"fake"}',
    'line1\r\nline2\ttab \\ backslash " quote',
    "'; DROP TABLE messages; --",
    "ä" * LIMIT,  # exactly the limit, 16 KB of UTF-8
    "x" * (LIMIT - 1) + "😀",
]


async def test_hostile_strings_are_stored_and_echoed_byte_exact(
    scenario: Scenario, server: InProcessServer
) -> None:
    visitor = await scenario.visitor()
    ws = await open_visitor(visitor)
    agent = await raw_socket(await scenario.anna.ws_url(), origin=None)
    await next_frame(agent, "welcome")
    try:
        conv: int | None = None
        for i, body in enumerate(HOSTILE):
            frame: dict[str, Any] = {"type": "send", "client_msg_id": f"h{i}", "body": body}
            if conv is not None:
                frame["conversation_id"] = conv
            await ws.send(json.dumps(frame))
            got = await gather(ws, "ack", "message")  # the visitor's own copy too
            conv, echoed = got["ack"]["conversation_id"], got["message"]
            seen = await next_frame(agent, "message")
            assert echoed["body"] == body and seen["body"] == body
            assert seen["body"].encode() == body.encode()
        assert await stored(server) == HOSTILE
        r = await scenario.anna.http.get(
            f"/api/conversations/{conv}/messages", params={"limit": 50}
        )
        assert [m["body"] for m in r.json()] == HOSTILE
    finally:
        await ws.close()
        await agent.close()


async def test_resend_of_same_client_msg_id_is_acked_as_duplicate(
    scenario: Scenario, server: InProcessServer
) -> None:
    ws = await open_visitor(await scenario.visitor())
    agent = await raw_socket(await scenario.anna.ws_url(), origin=None)
    await next_frame(agent, "welcome")
    try:
        await send(ws, type="send", client_msg_id="once", body="hello")
        first = await next_frame(ws, "ack")
        conv = first["conversation_id"]
        # Resent without and then with the conversation id (as after a lost ack).
        await send(ws, type="send", client_msg_id="once", body="hello")
        again = await next_frame(ws, "ack")
        await send(ws, type="send", client_msg_id="once", body="hello", conversation_id=conv)
        third = await next_frame(ws, "ack")
        for ack in (again, third):
            assert ack["duplicate"] is True
            assert (ack["conversation_id"], ack["seq"], ack["id"]) == (
                conv,
                first["seq"],
                first["id"],
            )
        assert first["duplicate"] is False
        assert await stored(server) == ["hello"]
        # The agent heard about it exactly once.
        await send(ws, type="send", client_msg_id="next", body="second", conversation_id=conv)
        # The resends took no seq (a resend is found by the UNIQUE id failing, rolled back).
        assert (await next_frame(ws, "ack"))["seq"] == first["seq"] + 1
        await next_frame(agent, "conversation")
        bodies = [(await next_frame(agent, "message"))["body"] for _ in range(2)]
        assert bodies == ["hello", "second"]
    finally:
        await ws.close()
        await agent.close()


# ---- authorisation -----------------------------------------------------------------------------


async def test_visitor_cannot_touch_another_visitors_conversation(
    scenario: Scenario, server: InProcessServer
) -> None:
    alice = await open_visitor(await scenario.visitor())
    mallory = await open_visitor(await scenario.visitor())
    try:
        await send(alice, type="send", client_msg_id="a1", body="my card ends 4242")
        conv = (await gather(alice, "ack", "message"))["ack"]["conversation_id"]
        attempts: list[dict[str, Any]] = [
            {"type": "send", "client_msg_id": "m1", "body": "hi", "conversation_id": conv},
            {"type": "send", "client_msg_id": "a1", "body": "hi", "conversation_id": conv},
            {"type": "typing", "conversation_id": conv},
            {"type": "read", "conversation_id": conv, "seq": 1},
        ]
        for attempt in attempts:
            await mallory.send(json.dumps(attempt))
            error = await next_error(mallory, "no_such_conversation")
            absent = {**attempt, "conversation_id": 9999}
            await mallory.send(json.dumps(absent))
            # The same answer as for an id that does not exist: ids cannot be probed.
            assert (await next_error(mallory, "no_such_conversation"))["message"] == error[
                "message"
            ].replace(str(conv), "9999")
        await send(mallory, type="resume", conversations={str(conv): 0})
        await next_error(mallory, "no_such_conversation")
        resumed = await next_frame(mallory)
        assert resumed == {"type": "resumed", "conversations": {}}
        # Alice keeps talking; nothing of it reaches Mallory.
        await send(
            alice, type="send", client_msg_id="a2", body="still private", conversation_id=conv
        )
        mine = await next_frame(alice)  # alice sees none of Mallory's typing or reads
        assert mine["type"] == "message" and mine["body"] == "still private"
        assert (await next_frame(alice))["type"] == "ack"
        await assert_alive(mallory)
        await assert_alive(alice)
        assert await stored(server) == ["my card ends 4242", "still private"]
    finally:
        await alice.close()
        await mallory.close()


async def test_visitor_cannot_write_internal_notes(
    server: InProcessServer, pair: tuple[Any, Any]
) -> None:
    ws, _ = pair
    await send(ws, type="send", client_msg_id="n1", body="psst", internal=True)
    error = await next_error(ws, "forbidden")
    assert error["ref"] == "n1"
    assert await count_stored(server) == 0
    await assert_alive(ws)


async def test_agent_must_name_the_conversation(
    server: InProcessServer, scenario: Scenario
) -> None:
    ws = await raw_socket(await scenario.ben.ws_url(), origin=None)
    try:
        await next_frame(ws, "welcome")
        await send(ws, type="send", client_msg_id="x", body="to whom?")
        await next_error(ws, "missing_conversation")
        assert await count_stored(server) == 0
    finally:
        await ws.close()


# ---- refused connections -----------------------------------------------------------------------


async def expect_refusal(url: str, origin: str | None, code: str, close_code: int) -> None:
    ws = await raw_socket(url, origin=origin)
    try:
        error = await next_frame(ws)
        assert error["type"] == "error" and error["code"] == code, error
        with pytest.raises(ConnectionClosed) as closed:
            await next_frame(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code
    finally:
        await ws.close()


async def test_wrong_site_key_is_refused(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    base = scenario.base_url.replace("http", "ws", 1)
    url = f"{base}/ws/visitor?site=no-such-key&token={quote(visitor.token)}"
    await expect_refusal(url, visitor.origin, "unknown_site", 4401)


async def test_foreign_origin_is_refused_with_4403(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    bystander = await open_visitor(await scenario.visitor())
    try:
        await expect_refusal(visitor.ws_url(), "https://evil.example", "bad_origin", 4403)
        ticket_url = await scenario.anna.ws_url()
        await expect_refusal(ticket_url, "https://evil.example", "bad_origin", 4403)
        await assert_alive(bystander)
    finally:
        await bystander.close()


async def test_bad_visitor_tokens_are_refused_with_4401(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    base = scenario.base_url.replace("http", "ws", 1)
    signer = Signer(TEST_SECRET, "visitor-token")
    tokens = [
        "",
        "garbage",
        visitor.token[:-2] + "xx",
        signer.sign({"v": visitor.id, "s": 1}, expires_at=time.time() - 5),  # expired
        Signer("guessed", "visitor-token").sign({"v": visitor.id, "s": 1}, expires_at=2e9),
        Signer(TEST_SECRET, "agent-ws-ticket").sign({"v": visitor.id, "s": 1}, expires_at=2e9),
        signer.sign({"v": visitor.id, "s": 2}, expires_at=2e9),  # another site
        signer.sign({"v": 99999, "s": 1}, expires_at=2e9),  # no such visitor
    ]
    for token in tokens:
        url = f"{base}/ws/visitor?site={scenario.site_key}&token={quote(token)}"
        await expect_refusal(url, visitor.origin, "bad_token", 4401)
    # A token crafted the right way is accepted: the refusals above are for the flaws.
    good = signer.sign({"v": visitor.id, "s": 1}, expires_at=2e9)
    ws = await raw_socket(f"{base}/ws/visitor?site={scenario.site_key}&token={quote(good)}")
    assert (await next_frame(ws, "welcome"))["principal"]["id"] == visitor.id
    await ws.close()


async def test_forged_and_expired_tickets_are_refused(scenario: Scenario) -> None:
    base = scenario.base_url.replace("http", "ws", 1)
    signer = Signer(TEST_SECRET, "agent-ws-ticket")
    anna = scenario.anna.id
    refused = [
        signer.sign({"agent": anna}, expires_at=time.time() - 1),
        Signer("guessed", "agent-ws-ticket").sign({"agent": anna}, expires_at=2e9),
        Signer(TEST_SECRET, "visitor-token").sign({"agent": anna}, expires_at=2e9),
        signer.sign({"agent": 424242}, expires_at=2e9),
        # Signed right, but bound to no session and without a nonce: not single-use.
        signer.sign({"agent": anna}, expires_at=time.time() + 30),
        signer.sign({"agent": anna, "sid": 424242, "n": "x"}, expires_at=time.time() + 30),
        "not-a-ticket",
    ]
    for ticket in refused:
        await expect_refusal(f"{base}/ws/agent?ticket={quote(ticket)}", None, "bad_ticket", 4401)
    await expect_refusal(f"{base}/ws/agent", None, "bad_ticket", 4401)
    ws = await raw_socket(await scenario.anna.ws_url(), origin=None)
    assert (await next_frame(ws, "welcome"))["principal"]["id"] == anna
    await ws.close()


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[Scenario, ManualClock]]:
    clock = ManualClock()
    async with running_scenario(tmp_path, clock=clock) as (_srv, sc):
        yield sc, clock


async def test_ticket_expires_after_its_ttl(clocked: tuple[Scenario, ManualClock]) -> None:
    scenario, clock = clocked
    fresh, stale = await scenario.anna.ws_url(), await scenario.anna.ws_url()
    clock.advance(29)
    ws = await raw_socket(fresh, origin=None)
    assert (await next_frame(ws, "welcome"))["principal"]["name"] == "Anna"
    await ws.close()
    clock.advance(2)  # 31 s after issue; the TTL is 30 s
    await expect_refusal(stale, None, "bad_ticket", 4401)


# ---- rate limiting -----------------------------------------------------------------------------


async def test_frame_rate_is_limited_per_connection(
    clocked: tuple[Scenario, ManualClock],
) -> None:
    scenario, clock = clocked
    ws = await open_visitor(await scenario.visitor())
    bystander = await open_visitor(await scenario.visitor())
    try:
        burst = 60  # settings.frames_burst; the clock stands still, so nothing refills
        for _ in range(burst):
            await ws.send('{"type":"ping"}')
        for _ in range(burst):
            assert (await next_frame(ws))["type"] == "pong"
        await ws.send('{"type":"ping"}')
        await next_error(ws, "rate_limited")
        await bystander.send('{"type":"ping"}')  # its own bucket is full
        assert (await next_frame(bystander))["type"] == "pong"
        clock.advance(0.1)  # 20 frames/s: two frames' worth
        for _ in range(3):
            await ws.send('{"type":"ping"}')
        assert [(await next_frame(ws))["type"] for _ in range(3)] == ["pong", "pong", "error"]
    finally:
        await ws.close()
        await bystander.close()
