"""The percentiles of the summary (first response p50 and p90, queue wait p90) are the
nearest rank of the facts of the range (``reports.metrics.percentile``), however the database
finds them: PostgreSQL's ``percentile_disc``; on SQLite the first responses sorted here and the
wait's p90 read at its rank from the top, with the count of waits given (from the sums) or
counted. Random facts with ties and missing values, ranges and filters; SQLite and PostgreSQL
(``database_url``)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from tests.support.server import test_settings

from tresen.clock import ManualClock
from tresen.reports import metrics
from tresen.reports.metrics import Scope, percentile
from tresen.runtime import Runtime, build_runtime
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Conversation, ReportConversation, Site, Visitor

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def rt(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    await upgrade_async(database_url)
    runtime = build_runtime(test_settings(tmp_path, database_url), ManualClock(T0))
    yield runtime
    await runtime.close()


async def seed(rt: Runtime, rng: random.Random, n: int) -> None:
    site = {"id": 1, "name": "Shop", "widget_key": "k", "identity_secret": "s"}
    convs, visitors, facts = [], [], []
    for i in range(1, n + 1):
        at = T0 + timedelta(seconds=rng.uniform(0, 3 * 86400))
        visitors.append(
            {"id": i, "site_id": 1, "anon_id": f"v{i}", "created_at": at, "last_seen_at": at}
        )
        convs.append(
            {
                "id": i,
                "site_id": 1,
                "visitor_id": i,
                "channel": "web",
                "status": "resolved",
                "created_at": at,
                "updated_at": at,
                "meta": {},
                "declined_by": [],
            }
        )

        def value() -> float | None:  # ties (whole seconds), microseconds as facts hold, none
            if rng.random() < 0.2:
                return None
            return float(rng.randint(0, 40)) if rng.random() < 0.5 else round(rng.uniform(0, 90), 6)

        facts.append(
            {
                "conversation_id": i,
                "site_id": 1,
                "channel": "web",
                "skill": rng.choice(["Sales", None]),
                "agent_id": None,
                "status": "resolved",
                "created_at": at,
                "created_hour": int(at.timestamp() // 3600),
                "first_response_seconds": value(),
                "wait_seconds": value(),
                "rebuilt_at": at,
            }
        )
    async with rt.db.write() as s:
        await s.execute(insert(Site), [{**site, "allowed_origins": [], "created_at": T0}])
        await s.execute(insert(Visitor), [{**v, "attributes": {}} for v in visitors])
        await s.execute(insert(Conversation), convs)
        await s.execute(insert(ReportConversation), facts)


@pytest.mark.parametrize("n", [1, 7, 400])
async def test_percentiles_are_the_nearest_rank_of_the_range(rt: Runtime, n: int) -> None:
    await seed(rt, random.Random(n), n)
    R = ReportConversation
    scopes = [
        Scope(T0, T0 + timedelta(days=3)),
        Scope(T0 + timedelta(hours=5, seconds=0.5), T0 + timedelta(days=2)),
        Scope(T0, T0 + timedelta(days=3), skill="Sales"),
        Scope(T0 - timedelta(days=1), T0),  # nothing
    ]
    for scope in scopes:
        async with rt.db.read() as s:
            rows = (
                await s.execute(
                    select(R.first_response_seconds, R.wait_seconds).where(*scope.where())
                )
            ).all()
            firsts = [r[0] for r in rows if r[0] is not None]
            waits = [r[1] for r in rows if r[1] is not None]
            want = (percentile(firsts, 50), percentile(firsts, 90), percentile(waits, 90))
            assert await metrics._percentiles(s, scope) == want, scope
            counted = {"n_wait": len(waits)}
            assert await metrics._percentiles(s, scope, counted) == want, scope
            if scope.skill is None and scope.start == T0:
                assert want[0] is not None and want[2] is not None
