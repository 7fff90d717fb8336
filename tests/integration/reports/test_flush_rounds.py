"""The live flush folds many conversations in rounds of ``FLUSH_BATCH`` (each round a short
loop turn, its statement padded to a power of two): what it writes, flushed now and then while
the messages come, is what a backfill from nothing builds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.reports.test_scripted_day import Day, open_day

from tresen.clock import ManualClock
from tresen.principal import Principal
from tresen.reports.facts import FLUSH_BATCH
from tresen.reports.store import ReportStore, backfill
from tresen.storage.models import ReportConversation

CONVERSATIONS = FLUSH_BATCH + 7  # one full round and one padded to 8


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Day, ReportStore, dict]]:
    async with open_day(database_url, tmp_path, ManualClock()) as world:
        yield world


async def _facts(d: Day) -> dict[int, dict[str, Any]]:
    async with d.rt.db.read() as s:
        rows = (await s.execute(select(ReportConversation))).scalars()
        skip = {"rebuilt_at"}
        return {
            r.conversation_id: {
                c.key: getattr(r, c.key)
                for c in ReportConversation.__table__.columns
                if c.key not in skip
            }
            for r in rows
        }


async def test_the_flush_in_rounds_folds_what_a_backfill_builds(
    day: tuple[Day, ReportStore, dict],
) -> None:
    d, store, ids = day
    anna = Principal("agent", ids["anna"], name="Anna", role="admin")
    visitors = [await d.visitor() for _ in range(CONVERSATIONS)]
    convs = [await d.say(v, f"Hello {n}") for n, v in enumerate(visitors)]
    for turn in range(3):  # answers and questions, flushed after each turn
        d.clock.advance(30)
        for n, (v, conv) in enumerate(zip(visitors, convs, strict=True)):
            if (n + turn) % 3:  # not every conversation moves every turn
                await d.say(anna, f"Answer {turn}", conv)
                d.clock.advance(1)
                await d.say(v, f"Thanks {turn}", conv)
        await d.rt.events.drain()
        moved = sum(1 for n in range(CONVERSATIONS) if (n + turn) % 3)
        # the first flush also has the conversations' openings: every one of them
        assert await store.flush() == (CONVERSATIONS if turn == 0 else moved)
    await d.rt.events.drain()
    await store.flush()
    live = await _facts(d)
    assert len(live) == CONVERSATIONS
    answered = [f for f in live.values() if f["responses"]]
    assert len(answered) == CONVERSATIONS  # every one was answered at least once
    assert await backfill(d.rt) == CONVERSATIONS
    assert await _facts(d) == live
