"""Shared steps of the inbox tests: visitors who write, waiting on stored state."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.actors import Scenario, next_frame, raw_socket


async def visitor_writes(sc: Scenario, *bodies: str, **arrive: Any) -> tuple[Any, int]:
    """A new visitor opens a conversation with ``bodies`` (one message each)."""
    v = await sc.visitor(**arrive)
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    conv_id: int | None = None
    for i, body in enumerate(bodies or ("Hallo",)):
        frame: dict[str, Any] = {"type": "send", "client_msg_id": f"m{i}", "body": body}
        if conv_id is not None:
            frame["conversation_id"] = conv_id
        await ws.send(json.dumps(frame))
        conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    assert conv_id is not None
    return ws, conv_id


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def get(agent: Any, path: str, **params: Any) -> Any:
    r = await agent.http.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def armed_at(scheduler: Any, when: float) -> bool:
    """A timer of the manual scheduler waits for exactly ``when`` (an alarm was armed)."""
    return any(w == when and not t.cancelled for w, _, t in scheduler._heap)
