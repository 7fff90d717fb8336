"""Navigating visitors with their visits written through: the radar service on a real database.

10,000 visitors (each one tab) view one page every 10 s; 100 rules (``bench.radar``'s mix);
every page view goes through ``RadarService.track`` (journey, facts, rules, offers) and the
visits that changed are written through once per simulated second (``flush``: one bulk UPDATE,
plus the page views' INSERT). Time is simulated (ManualClock), the database is real.

Printed: sustained events/s over the measured seconds (tracking and writing, one process) and
per event p50/p99/max, each event charged its own tracking time plus an equal share of its
second's write. Offers the rules make are recorded as in production (their writes run during
the flushes).

    .venv/bin/python -m bench.visits [--database-url URL] [--visitors 10000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from bench.radar import PATHS, Capacity, make_rule
from tresen.cli import tune_gc
from tresen.clock import ManualClock
from tresen.principal import Principal
from tresen.radar.actions import check_create_rule
from tresen.radar.live import RadarService
from tresen.radar.rules import compile_rule
from tresen.realtime.protocol import TrackIn
from tresen.runtime import build_runtime
from tresen.scheduler import ManualScheduler
from tresen.settings import Settings
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Site, Visitor


async def seed(rt: object, visitors: int) -> tuple[int, list[int]]:
    now = datetime.now(UTC)
    async with rt.db.write() as s:  # type: ignore[attr-defined]
        site = Site(
            name="Bench",
            widget_key="bench",
            allowed_origins=[],
            identity_secret="x",
            created_at=now,
        )
        s.add(site)
        await s.flush()
        rows = [
            {
                "site_id": site.id,
                "anon_id": f"a{i}",
                "attributes": {},
                "created_at": now,
                "last_seen_at": now,
            }
            for i in range(visitors)
        ]
        await s.execute(insert(Visitor), rows)
        ids = list((await s.execute(select(Visitor.id).order_by(Visitor.id))).scalars())
        return site.id, ids


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tresen-bench-visits-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await upgrade_async(url)
    settings = Settings(var_dir=tmp, database_url=url, secret_key="bench").resolved()
    clock = ManualClock()
    timers = ManualScheduler(clock)
    rt = build_runtime(settings, clock=clock, scheduler=timers)
    radar = RadarService(rt)
    rt.radar = radar
    radar.engine.resources.capacity = Capacity()  # 50 free slots per skill
    rng = random.Random(7)
    site_id, ids = await seed(rt, args.visitors)
    rules = [await check_create_rule(rt, site_id, make_rule(i, rng)) for i in range(args.rules)]
    radar.engine.set_rules(compile_rule(r.id, r.site_id, r.spec) for r in rules)
    who = [Principal("visitor", vid, site_id=site_id) for vid in ids]
    started = time.perf_counter()
    for p in who:
        await radar.visitor_connected(p, f"tab{p.id}")
    arrive = time.perf_counter() - started
    tune_gc()
    per_second = args.visitors // 10  # each visitor views a page every 10 s
    charged: list[float] = []
    busy = 0.0
    events = 0
    for second in range(args.seconds):
        batch = who[(second % 10) * per_second : (second % 10 + 1) * per_second]
        spent: list[float] = []
        for p in batch:
            path = rng.choice(PATHS)
            frame = TrackIn(
                type="track",
                kind="page",
                url="https://shop.example" + path,
                title="Page",
                view=f"v{second}",
                device="desktop",
                language="de",
            )
            t0 = time.perf_counter()
            await radar.track(p, frame, f"tab{p.id}")
            spent.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await radar.flush()  # the visits that changed, written through; the page views
        await asyncio.sleep(0)  # let the offers' writes run too
        write = time.perf_counter() - t0
        share = write / max(1, len(batch))
        charged += [s + share for s in spent]
        busy += sum(spent) + write
        events += len(batch)
        timers.advance(1.0)
    await rt.events.drain()
    q = statistics.quantiles(charged, n=100)
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{db}: visitors={args.visitors} rules={args.rules} events={events} "
        f"(one page view per visitor every 10 s, {args.seconds} s simulated)"
    )
    print(f"arrivals (visit started and stored): {args.visitors / arrive:,.0f}/s")
    print(f"sustained: {events / busy:,.0f} page-view events/s incl. the write-through")
    print(
        f"per event incl. its share of the write: p50 {q[49] * 1e6:.0f} us, "
        f"p99 {q[98] * 1e6:.0f} us, max {max(charged) * 1e6:.0f} us"
    )
    await rt.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default="")
    ap.add_argument("--visitors", type=int, default=10_000)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=30)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
