"""Hourly rollups give the same metrics as the facts, on SQLite and PostgreSQL.

The scripted morning of ``test_scripted_day`` starts at 08:58:00 here, so it runs across the
09:00 hour boundary; ranges that start and end inside an hour, on it and across several hours
read their whole hours from the rollups and the partial ones from the facts, and every figure
equals the one computed from the facts alone.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from tests.integration.reports.test_scripted_day import Day, open_day, played

from tresen.agents.teams import check_create_team
from tresen.clock import ManualClock
from tresen.privacy.retention import run_retention
from tresen.reports import metrics
from tresen.reports.metrics import Scope
from tresen.reports.rollups import rebuild_hours, rollup_for
from tresen.reports.store import ReportStore, backfill
from tresen.storage.models import ReportHourly, ReportHourlyAgent, SitePrivacy

START = datetime(2026, 1, 1, 8, 58, tzinfo=UTC)


@pytest.fixture
async def late_day(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Day, ReportStore, dict]]:
    async with open_day(database_url, tmp_path, ManualClock(START)) as world:
        yield world


def _at(h: int, m: int, s: float = 0) -> datetime:
    return datetime(2026, 1, 1, h, m, tzinfo=UTC) + timedelta(seconds=s)


RANGES = [
    (_at(8, 0), _at(10, 0)),  # two whole hours
    (_at(8, 58, 30), _at(10, 0)),  # a partial hour, then a whole one
    (_at(8, 0), _at(9, 2)),  # a whole hour, then a partial one
    (_at(8, 59, 59.5), _at(11, 0, 30)),  # partial, two whole, partial
    (_at(9, 0), _at(9, 3)),  # inside one hour: facts only
    (_at(7, 0), _at(9, 0)),  # ends on the boundary
]


async def _compare(d: Day, ids: dict[str, int]) -> None:
    filters: list[dict[str, Any]] = [
        {},
        {"skill": "Sales"},
        {"agent_id": ids["anna"]},
        {"channel": "email"},
        {"site_id": d.site.id},
        {"team_agents": frozenset({ids["ben"]})},
    ]
    used = 0
    async with d.rt.db.read() as s:
        for start, end in RANGES:
            for f in filters:
                fast = Scope(start, end, now=d.clock.now(), **f)
                slow = replace(fast, rollups=False)
                used += rollup_for(fast, metrics.CSK) is not None
                used += rollup_for(fast, ("agent",)) is not None
                assert await metrics.summary(s, fast) == await metrics.summary(s, slow)
                assert await metrics.series(s, fast) == await metrics.series(s, slow)
                assert await metrics.agent_table(s, fast) == await metrics.agent_table(s, slow)
    # 5 ranges have whole hours: sums by channel, site and skill from the rollups unless an
    # agent or team filter; sums per agent unless a channel or skill filter
    assert used == 5 * 4 + 5 * 4


async def test_rollups_equal_the_facts_on_every_range(
    late_day: tuple[Day, ReportStore, dict],
) -> None:
    d, store, ids = late_day
    await played(d, ids, store)
    async with d.rt.db.read() as s:
        rolled = (await s.execute(select(func.sum(ReportHourly.count)))).scalar_one()
        whole = await metrics.summary(s, Scope(_at(8, 0), _at(10, 0), now=d.clock.now()))
        edge = await metrics.summary(s, Scope(_at(8, 59), _at(9, 1), now=d.clock.now()))
    assert rolled == 8 and whole["volume"]["total"] == 8
    # 08:59-09:01: C2 (09:00:05), C3 (09:00:55), C4 (09:01:25 no), ... by hand:
    assert edge["volume"]["total"] == 2
    await _compare(d, ids)
    # the backfill rebuilds the same rollups
    await backfill(d.rt)
    await _compare(d, ids)


async def test_a_day_of_series_sums_its_hours(late_day: tuple[Day, ReportStore, dict]) -> None:
    d, store, ids = late_day
    await played(d, ids, store)
    scope = Scope(_at(0, 0) - timedelta(days=2), _at(0, 0) + timedelta(days=1), now=d.clock.now())
    async with d.rt.db.read() as s:
        days = await metrics.series(s, scope)
    assert days["bucket"] == "day"
    assert [(p["at"][:10], p["conversations"]) for p in days["points"]] == [
        ("2025-12-30", 0),
        ("2025-12-31", 0),
        ("2026-01-01", 8),
    ]


async def test_teams_are_a_dimension(late_day: tuple[Day, ReportStore, dict]) -> None:
    d, store, ids = late_day
    sales = await check_create_team(d.rt, "Sales crew", [ids["anna"]])
    both = await check_create_team(d.rt, "Everyone", [ids["anna"], ids["ben"]])
    await check_create_team(d.rt, "Night shift", [])
    await played(d, ids, store)
    scope = Scope(_at(8, 0), _at(10, 0), now=d.clock.now())
    async with d.rt.db.read() as s:
        got = await metrics.summary(s, scope)
        table = await metrics.team_table(s, scope)
        anna_only = await metrics.summary(s, replace(scope, team_agents=frozenset({ids["anna"]})))
    # Anna has C1 and C5, Ben C2 (transferred to him); nobody has the rest
    assert got["volume"]["by_team"] == {str(sales["id"]): 2, str(both["id"]): 3}
    assert anna_only["volume"]["total"] == 2
    assert anna_only["times"]["first_response_avg"] == (15 + 8) / 2
    rows = {r["team"]: r for r in table}
    assert rows["Sales crew"]["conversations"] == 2
    assert rows["Sales crew"]["queue_wait_avg"] == (10 + 5) / 2
    assert rows["Sales crew"]["handle_avg"] == 115.0
    assert rows["Everyone"]["conversations"] == 3
    assert rows["Everyone"]["first_response_avg"] == (15 + 50 + 8) / 3
    assert rows["Everyone"]["transfers"] == 1
    assert rows["Night shift"]["conversations"] == 0
    assert rows["Night shift"]["first_response_avg"] is None


async def test_retention_takes_its_conversations_out_of_the_rollups(
    late_day: tuple[Day, ReportStore, dict],
) -> None:
    d, store, ids = late_day
    await played(d, ids, store)
    async with d.rt.db.write() as s:
        s.add(SitePrivacy(site_id=d.site.id, conversation_days=1, updated_at=d.clock.now()))
    d.clock.advance(2 * 86400)
    done = await run_retention(d.rt)
    assert done[d.site.id]["conversations"] == 8
    await d.rt.events.drain()
    scope = Scope(_at(8, 0), _at(10, 0), now=d.clock.now())
    async with d.rt.db.read() as s:
        rolled = (await s.execute(select(func.count()).select_from(ReportHourly))).scalar_one()
        got = await metrics.summary(s, scope)
    assert rolled == 0 and got["volume"]["total"] == 0
    await _compare(d, ids)


async def test_two_rebuilds_of_an_hour_at_once_write_it_once(
    late_day: tuple[Day, ReportStore, dict],
) -> None:
    """Two nodes flushing the same hour at the same time (two transactions here)."""
    d, store, ids = late_day
    await played(d, ids, store)
    hours = [int(START.timestamp() // 3600), int(START.timestamp() // 3600) + 1]

    async def rebuild() -> None:
        async with d.rt.db.write() as s:
            await rebuild_hours(s, hours)

    await asyncio.gather(rebuild(), rebuild(), rebuild())
    async with d.rt.db.read() as s:
        rolled = (await s.execute(select(func.sum(ReportHourly.count)))).scalar_one()
    assert rolled == 8
    await _compare(d, ids)


async def test_the_upgrade_fills_the_rollups_as_the_listeners_do(
    late_day: tuple[Day, ReportStore, dict],
) -> None:
    """The migration's SQL over stored facts gives the rows the listeners wrote."""
    d, store, ids = late_day
    await played(d, ids, store)
    resolved = importlib.import_module("tresen.storage.migrations.versions.0026_reports")

    async def rows() -> list[Any]:
        out = []
        async with d.rt.db.read() as s:
            for table in (ReportHourly, ReportHourlyAgent):
                cols = [c for c in table.__table__.c if c.name != "id"]
                got = (await s.execute(select(*cols))).all()
                out.append(sorted(tuple(r) for r in got))
        return out

    live = await rows()
    async with d.rt.db.write() as s:
        await s.execute(delete(ReportHourly))
        await s.execute(delete(ReportHourlyAgent))
        await s.execute(text(resolved.FILL))  # 0026: 0024's sums and the resolved ones
        await s.execute(text(resolved.FILL_AGENTS))
    assert await rows() == live and live[0] and live[1]
    async with d.rt.db.read() as s:
        for table in (ReportHourly, ReportHourlyAgent):
            assert (await s.execute(select(func.sum(table.resolved)))).scalar(), table
