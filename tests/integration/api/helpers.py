"""Helpers shared by the HTTP API tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.support.actors import Visitor, next_frame, raw_socket


async def start_conversation(visitor: Visitor, *bodies: str) -> int:
    """The visitor opens a conversation over its socket with ``bodies``; returns its id."""
    ws = await raw_socket(visitor.ws_url())
    try:
        await next_frame(ws, "welcome")
        conv: int | None = None
        for i, body in enumerate(bodies):
            frame: dict[str, Any] = {"type": "send", "client_msg_id": f"v-{i}", "body": body}
            if conv is not None:
                frame["conversation_id"] = conv
            await ws.send(json.dumps(frame))
            conv = (await next_frame(ws, "ack"))["conversation_id"]
        assert conv is not None
        return conv
    finally:
        await ws.close()


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the product's JSON error shape with this status and code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    assert body["type"] == "error" and body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body
