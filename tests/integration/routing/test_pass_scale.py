"""A routing pass is proportional to what changed (issue #10, "Scale of the routing pass").

With many chats waiting and nobody free, a pass reads the queue without the write lock and
writes nothing; when a slot frees, the pass's write transaction loads only the chat it assigns,
not the whole queue. (The lock-hold times themselves are figures: ``bench/routing_scale.py``.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event
from tests.integration.routing.test_routing import online, visitor_writes
from tests.support.actors import Scenario
from tests.support.server import InProcessServer

from tresen.routing.dispatcher import run_pass
from tresen.storage.models import Conversation

WAITING = 12


class WriteProbe:
    """Counts the write transactions of the test's own task (the passes it runs; not the
    server's background writes) and the conversation rows loaded inside them."""

    def __init__(self, rt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes = 0
        self.loaded = 0
        self._inside = 0
        self.task: asyncio.Task[Any] | None = None
        original = rt.db.write

        @asynccontextmanager
        async def counting() -> AsyncIterator[Any]:
            if asyncio.current_task() is not self.task:
                async with original() as s:
                    yield s
                return
            self.writes += 1
            async with original() as s:
                self._inside += 1
                try:
                    yield s
                finally:
                    self._inside -= 1

        monkeypatch.setattr(rt.db, "write", counting)

    def on_load(self, target: Any, context: Any) -> None:
        if self._inside and asyncio.current_task() is self.task:
            self.loaded += 1

    def reset(self) -> None:
        self.writes = self.loaded = 0
        self.task = asyncio.current_task()


@pytest.fixture
def probe(server: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteProbe]:
    p = WriteProbe(server.rt, monkeypatch)
    event.listen(Conversation, "load", p.on_load)
    yield p
    event.remove(Conversation, "load", p.on_load)


async def test_a_pass_writes_only_what_it_changes(
    server: InProcessServer, scenario: Scenario, probe: WriteProbe
) -> None:
    rt = server.rt
    await rt.routing.stop()  # the test runs the passes itself, one at a time
    await online(scenario, scenario.anna, max_chats=1)
    sockets, convs = [], []
    for i in range(WAITING + 1):
        ws, conv = await visitor_writes(scenario, f"chat {i}")
        sockets.append(ws)
        convs.append(conv)

    first_pass = await run_pass(rt)
    assert len(first_pass.assigned) == 1 and len(first_pass.waiting) == WAITING

    # Nothing changed: the pass tells every waiting chat its place, and writes nothing.
    probe.reset()
    result = await run_pass(rt)
    assert len(result.waiting) == WAITING
    assert [st.position for st in result.waiting] == list(range(1, WAITING + 1))
    assert result.assigned == [] and result.held == 0.0
    assert probe.writes == 0

    # A slot frees: the next chat is assigned; the write transaction loads that chat only.
    first = next(c for c in convs if c not in {st.conversation_id for st in result.waiting})
    r = await scenario.anna.patch(f"/api/conversations/{first}", json={"status": "resolved"})
    assert r.status_code == 200
    probe.reset()
    result = await run_pass(rt)
    assert [c.assignee_id for c in result.assigned] == [scenario.anna.id]
    assert len(result.waiting) == WAITING - 1
    assert probe.writes == 1
    assert probe.loaded == 1
    for ws in sockets:
        await ws.close()
