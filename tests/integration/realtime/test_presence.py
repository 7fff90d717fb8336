"""Typing indicators, read receipts and resume after a disconnect, over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.support.actors import Scenario, Visitor, raw_socket
from tests.support.actors import next_frame as _next_frame

NEWS = frozenset({"radar", "queue", "overflow", "offer"})
"""Frames of other features (live radar, routing) that may arrive at any time; skipped."""


async def next_frame(ws: Any, kind: str | None = None, timeout: float = 5) -> dict[str, Any]:
    """The next frame (of ``kind``), skipping pings and other features' news."""
    while True:
        frame = await _next_frame(ws, kind, timeout)
        if frame["type"] not in NEWS or kind in NEWS:
            return frame


@dataclass
class Chat:
    visitor: Visitor
    vws: Any
    aws: Any
    conv: int


async def _gather(ws: Any, *kinds: str) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    while set(kinds) - set(seen):
        frame = await next_frame(ws)
        seen.setdefault(frame["type"], frame)
    return seen


async def _quiet(ws: Any, seconds: float = 0.3) -> list[dict[str, Any]]:
    """Frames that arrive within ``seconds`` (pings aside)."""
    frames = []
    try:
        while True:
            frames.append(await next_frame(ws, timeout=seconds))
    except TimeoutError:
        return frames


@pytest.fixture
async def chat(scenario: Scenario) -> AsyncIterator[Chat]:
    """A visitor (socket) with one conversation of one message; Anna's socket is open."""
    visitor = await scenario.visitor()
    vws = await raw_socket(visitor.ws_url())
    await next_frame(vws, "welcome")
    aws = await raw_socket(await scenario.anna.ws_url(), origin=None)
    await next_frame(aws, "welcome")
    await vws.send(json.dumps({"type": "send", "client_msg_id": "v1", "body": "Hallo"}))
    conv = (await _gather(vws, "ack", "message"))["ack"]["conversation_id"]
    await _gather(aws, "conversation", "message")
    yield Chat(visitor, vws, aws, conv)
    await vws.close()
    await aws.close()


async def test_typing_reaches_the_other_side(scenario: Scenario, chat: Chat) -> None:
    await chat.vws.send(json.dumps({"type": "typing", "conversation_id": chat.conv}))
    typing = await next_frame(chat.aws)
    assert typing == {
        "type": "typing",
        "conversation_id": chat.conv,
        "author": {"kind": "visitor", "id": chat.visitor.id, "name": None},
        "is_typing": True,
    }
    await chat.aws.send(
        json.dumps({"type": "typing", "conversation_id": chat.conv, "is_typing": False})
    )
    seen = await next_frame(chat.vws)
    assert seen["type"] == "typing" and seen["is_typing"] is False
    assert seen["author"] == {"kind": "agent", "id": scenario.anna.id, "name": "Anna"}
    # A visitor is not told about its own typing.
    assert await _quiet(chat.vws) == []


async def test_typing_does_not_reach_other_visitors(scenario: Scenario, chat: Chat) -> None:
    other = await raw_socket((await scenario.visitor()).ws_url())
    try:
        await next_frame(other, "welcome")
        await chat.aws.send(json.dumps({"type": "typing", "conversation_id": chat.conv}))
        assert (await next_frame(chat.vws))["type"] == "typing"
        assert await _quiet(other) == []
    finally:
        await other.close()


async def _conversation(scenario: Scenario, conv: int) -> dict[str, Any]:
    r = await scenario.anna.http.get(f"/api/conversations/{conv}")
    assert r.status_code == 200
    return dict(r.json())


async def test_read_receipts_reach_the_other_side_and_never_move_back(
    scenario: Scenario, chat: Chat
) -> None:
    for i in range(2):
        r = await scenario.anna.post(
            f"/api/conversations/{chat.conv}/messages", json={"body": f"Antwort {i}"}
        )
        assert r.status_code == 201
    for _ in range(2):
        await next_frame(chat.vws, "message")

    await chat.vws.send(json.dumps({"type": "read", "conversation_id": chat.conv, "seq": 3}))
    receipt = await next_frame(chat.aws, "read")
    assert receipt == {"type": "read", "conversation_id": chat.conv, "reader": "visitor", "seq": 3}
    assert await next_frame(chat.vws) == receipt  # the visitor's other tabs learn it too
    assert (await _conversation(scenario, chat.conv))["visitor_read_seq"] == 3

    # An older marker (a late frame from another tab) changes nothing and tells no one.
    await chat.vws.send(json.dumps({"type": "read", "conversation_id": chat.conv, "seq": 1}))
    await chat.vws.send(json.dumps({"type": "read", "conversation_id": chat.conv, "seq": 3}))
    await chat.vws.send('{"type": "ping"}')
    assert (await next_frame(chat.vws))["type"] == "pong"  # both reads were handled
    assert [f for f in await _quiet(chat.aws) if f["type"] == "read"] == []
    assert await _quiet(chat.vws) == []
    assert (await _conversation(scenario, chat.conv))["visitor_read_seq"] == 3

    # Beyond the newest message is an error, and the marker stays.
    await chat.vws.send(json.dumps({"type": "read", "conversation_id": chat.conv, "seq": 99}))
    error = await next_frame(chat.vws)
    assert error["type"] == "error" and error["code"] == "invalid"
    assert (await _conversation(scenario, chat.conv))["visitor_read_seq"] == 3

    await chat.aws.send(json.dumps({"type": "read", "conversation_id": chat.conv, "seq": 1}))
    seen = await next_frame(chat.vws, "read")
    assert seen == {"type": "read", "conversation_id": chat.conv, "reader": "agent", "seq": 1}
    conv = await _conversation(scenario, chat.conv)
    assert (conv["agent_read_seq"], conv["visitor_read_seq"]) == (1, 3)


async def test_resume_returns_exactly_the_missed_messages(scenario: Scenario, chat: Chat) -> None:
    await chat.vws.close()  # the visitor's connection drops after seq 1
    anna = scenario.anna
    for body, internal in [("eins", False), ("note", True), ("zwei", False), ("drei", False)]:
        r = await anna.post(
            f"/api/conversations/{chat.conv}/messages", json={"body": body, "internal": internal}
        )
        assert r.status_code == 201
    ws = await raw_socket(chat.visitor.ws_url())
    try:
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "resume", "conversations": {str(chat.conv): 1}}))
        frames = [await next_frame(ws) for _ in range(4)]
        assert [(f["type"], f.get("seq"), f.get("body")) for f in frames] == [
            ("message", 2, "eins"),
            ("message", 4, "zwei"),
            ("message", 5, "drei"),
            ("resumed", None, None),
        ]
        assert frames[-1]["conversations"] == {str(chat.conv): 5}
        assert await _quiet(ws) == []  # nothing twice

        # After the resume, live messages follow in order.
        await anna.post(f"/api/conversations/{chat.conv}/messages", json={"body": "vier"})
        live = await next_frame(ws)
        assert (live["type"], live["seq"], live["body"]) == ("message", 6, "vier")
    finally:
        await ws.close()


async def test_agent_resume_includes_internal_notes_and_resumes_at_the_top(
    scenario: Scenario, chat: Chat
) -> None:
    await chat.aws.close()
    await scenario.ben.post(
        f"/api/conversations/{chat.conv}/messages", json={"body": "note", "internal": True}
    )
    await chat.vws.send(
        json.dumps(
            {"type": "send", "client_msg_id": "v2", "body": "?", "conversation_id": chat.conv}
        )
    )
    await next_frame(chat.vws, "ack")
    ws = await raw_socket(await scenario.anna.ws_url(), origin=None)
    try:
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "resume", "conversations": {str(chat.conv): 1}}))
        frames = [await next_frame(ws) for _ in range(3)]
        assert [(f["type"], f.get("seq")) for f in frames] == [
            ("message", 2),
            ("message", 3),
            ("resumed", None),
        ]
        assert frames[0]["internal"] is True
        # Already up to date: just the resumed frame.
        await ws.send(json.dumps({"type": "resume", "conversations": {str(chat.conv): 3}}))
        assert await next_frame(ws) == {"type": "resumed", "conversations": {str(chat.conv): 3}}
        await asyncio.sleep(0)
        assert await _quiet(ws) == []
    finally:
        await ws.close()
