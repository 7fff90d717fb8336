"""A report read right after ``flush()`` sees every conversation marked before it, also when a
periodic flush was under way at that moment (it is waited for, not skipped)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tests.support.actors import Scenario, next_frame, raw_socket
from tests.support.server import InProcessServer

from tresen.reports import store as store_module


async def test_a_flush_waits_for_the_one_under_way(
    scenario: Scenario, server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sockets = []
    for n in range(3):
        v = await scenario.visitor()
        ws = await raw_socket(v.ws_url())
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "send", "client_msg_id": f"c{n}", "body": "Hej"}))
        await next_frame(ws, "ack")
        sockets.append(ws)
    # A flush under way is held at its read until the test lets it go on.
    reading, go_on = asyncio.Event(), asyncio.Event()
    read_facts = store_module.read_facts

    async def held_read(*args: Any, **kwargs: Any) -> Any:
        reading.set()
        await go_on.wait()
        return await read_facts(*args, **kwargs)

    monkeypatch.setattr(store_module, "read_facts", held_read)
    store = server.app.state.reports
    under_way = asyncio.create_task(store.flush())  # as the periodic flush starts it
    await reading.wait()  # it has taken the marks and waits on its read
    asked = asyncio.create_task(store.flush())
    go_on.set()
    await asked
    assert under_way.done()
    rows = (await scenario.anna.http.get("/api/reports/volume", params={"by": "site"})).json()
    assert sum(row["conversations"] for row in rows) == 3
    for ws in sockets:
        await ws.close()
