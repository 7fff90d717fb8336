"""Frames that used to crash a socket or slip past its limits: numbers beyond 64 bits, deep
nesting, a second ``type`` key, a legal co-browse batch above the transport limit, and a
visitor opening conversation after conversation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.integration.realtime.test_bad_input import assert_alive, next_error, open_visitor
from tests.support.actors import Scenario, next_frame, raw_socket

HUGE = 99999999999999999999  # beyond 64 bits


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "send", "client_msg_id": "big", "body": "hi", "conversation_id": HUGE},
        {"type": "read", "conversation_id": HUGE, "seq": 1},
        {"type": "resume", "conversations": {str(HUGE): 0}},
        {"type": "resume", "conversations": {"1": HUGE}},
        {"type": "watch", "conversation_id": HUGE},
    ],
)
async def test_numbers_beyond_64_bits_are_an_invalid_frame(
    scenario: Scenario, frame: dict[str, Any]
) -> None:
    ws = await raw_socket(await scenario.anna.ws_url(), origin=None)
    try:
        await next_frame(ws, "welcome")
        await ws.send(json.dumps(frame))
        error = await next_frame(ws, "error")
        assert error["code"] == "invalid_frame", error
        await assert_alive(ws)
    finally:
        await ws.close()


async def test_a_deeply_nested_frame_is_answered_not_fatal(scenario: Scenario) -> None:
    ws = await open_visitor(await scenario.visitor())
    bystander = await open_visitor(await scenario.visitor())
    try:
        depth = 50_000
        await ws.send('{"type":"send","body":' + "[" * depth + "]" * depth + "}")
        await next_error(ws, "bad_json")
        await assert_alive(ws)
        await assert_alive(bystander)
    finally:
        await ws.close()
        await bystander.close()


async def test_the_parsed_type_decides_the_size_cap(scenario: Scenario) -> None:
    """``{"type":"cobrowse_events", ..., "type":"send"}`` is a ``send`` (JSON's last key wins):
    it gets the 64 KiB cap of a send, not the co-browse batch cap."""
    ws = await open_visitor(await scenario.visitor())
    try:
        body = "x" * (70 * 1024)
        text = '{"type":"cobrowse_events","events":[],"type":"send","client_msg_id":"dup",'
        await ws.send(text + json.dumps({"body": body})[1:])
        await next_error(ws, "frame_too_large")
        await assert_alive(ws)
    finally:
        await ws.close()


async def test_a_legal_cobrowse_batch_never_kills_the_socket(scenario: Scenario) -> None:
    """The transport accepts every frame the gateway's caps allow (2 MiB batches): one above
    the old 1 MiB transport limit is answered, not closed with 1009."""
    ws = await open_visitor(await scenario.visitor())
    try:
        blob = "y" * (1536 * 1024)
        frame = {"type": "cobrowse_events", "session_id": 1, "events": [{"type": 2, "d": blob}]}
        await ws.send(json.dumps(frame))
        error = await next_frame(ws, "error")
        assert error["code"] != "frame_too_large", error
        await assert_alive(ws)
    finally:
        await ws.close()


async def test_new_conversations_per_visitor_are_limited(scenario: Scenario) -> None:
    ws = await open_visitor(await scenario.visitor())
    limit = 10  # settings.new_conversations_per_visitor_per_hour
    try:
        for i in range(limit):
            await ws.send(json.dumps({"type": "send", "client_msg_id": f"n{i}", "body": "hi"}))
            assert (await next_frame(ws, "ack"))["client_msg_id"] == f"n{i}"
        await ws.send(json.dumps({"type": "send", "client_msg_id": "one-more", "body": "hi"}))
        error = await next_frame(ws, "error")
        assert error["code"] == "too_many_conversations" and error["ref"] == "one-more"
        await assert_alive(ws)
    finally:
        await ws.close()


async def test_what_a_visitor_tracks_is_bounded(scenario: Scenario) -> None:
    """``track`` frames are kept per visitor (its last events): a large one is refused, and
    event props are small."""
    ws = await open_visitor(await scenario.visitor())
    try:
        big = {"type": "track", "kind": "event", "name": "x", "props": {"k": "v" * 20_000}}
        await ws.send(json.dumps(big))
        await next_error(ws, "frame_too_large")
        props = {f"k{i}": "v" * 200 for i in range(15)}
        await ws.send(json.dumps({"type": "track", "kind": "event", "name": "x", "props": props}))
        assert "props" in (await next_error(ws, "invalid_frame"))["message"]
        await assert_alive(ws)
    finally:
        await ws.close()
