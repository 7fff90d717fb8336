"""Reports benchmark: every dashboard query over a large history, on SQLite and PostgreSQL.

Seeds ``--conversations`` (100,000) conversations with ``--messages`` (1,000,000) messages over
30 days (bulk inserts, not through the actions: only the queries are measured; a fifth of the
visitors invited, each with the visit of the invitation, some buying), rebuilds the
report facts with the product's backfill (timed), then runs each dashboard query ``--repeat``
times for a 30-day and a 1-day range and prints the slowest run of each.

    .venv/bin/python -m bench.reports [--conversations 100000] [--messages 1000000]
        [--databases sqlite,postgres] [--url DATABASE_URL]

Before and after a change, alternating in one run: ``bench/reports_ab.py``.

PostgreSQL is started from the installed binaries (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from tresen.clock import ManualClock
from tresen.radar.funnel import funnel, rule_figures
from tresen.radar.rules import DEFAULT_GOAL
from tresen.reports import metrics
from tresen.reports.csat import csat
from tresen.reports.metrics import Scope
from tresen.reports.store import backfill
from tresen.runtime import Runtime, build_runtime
from tresen.settings import Settings
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import (
    Agent,
    Conversation,
    Message,
    RadarOffer,
    RadarRule,
    ReportAgentStatus,
    Site,
    Visit,
    Visitor,
)

START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
AGENTS = 40
SKILLS = ["Sales", "Support", "Billing", None]
CHUNK = 5000


async def seed(rt: Runtime, conversations: int, messages: int, rng: random.Random) -> None:
    async with rt.db.write() as s:
        await s.execute(
            insert(Site),
            [
                {
                    "id": 1,
                    "name": "Shop",
                    "widget_key": "k",
                    "identity_secret": "s",
                    "allowed_origins": [],
                    "created_at": START,
                }
            ],
        )
        await s.execute(
            insert(Agent),
            [
                {
                    "id": a,
                    "username": f"a{a}",
                    "display_name": f"Agent {a}",
                    "password_hash": "x",
                    "role": "agent",
                    "skills": [],
                    "created_at": START,
                }
                for a in range(1, AGENTS + 1)
            ],
        )
        await s.execute(
            insert(RadarRule),
            [
                {
                    "id": r,
                    "site_id": 1,
                    "name": f"r{r}",
                    "enabled": True,
                    "priority": r,
                    "spec": {},
                    "created_at": START,
                    "updated_at": START,
                }
                for r in range(1, 11)
            ],
        )
        await s.execute(
            insert(ReportAgentStatus),
            [
                {"agent_id": a, "status": "online", "max_chats": 4, "started_at": START}
                for a in range(1, AGENTS + 1)
            ],
        )
    per_conv = max(1, messages // conversations)
    for base in range(0, conversations, CHUNK):
        ids = range(base + 1, min(conversations, base + CHUNK) + 1)
        visitors, convs, msgs, offers, visits = [], [], [], [], []
        for cid in ids:
            # ids grow with time, as they do when conversations are opened
            spread = DAYS * 86400 / conversations
            created = START + timedelta(seconds=(cid - 1) * spread + rng.uniform(0, spread))
            wait = rng.expovariate(1 / 30)
            assigned = created + timedelta(seconds=wait)
            abandoned = rng.random() < 0.08
            closed = assigned + timedelta(seconds=rng.uniform(60, 900))
            agent = None if abandoned else rng.randint(1, AGENTS)
            visitors.append(
                {
                    "id": cid,
                    "site_id": 1,
                    "anon_id": f"a{cid}",
                    "created_at": created,
                    "last_seen_at": created,
                    "attributes": {},
                }
            )
            convs.append(
                {
                    "id": cid,
                    "site_id": 1,
                    "visitor_id": cid,
                    "channel": "web",
                    "skill": rng.choice(SKILLS),
                    "status": "abandoned" if abandoned else "resolved",
                    "assignee_id": agent,
                    "queued_at": created,
                    "assigned_at": None if abandoned else assigned,
                    "closed_at": closed,
                    "created_at": created,
                    "updated_at": closed,
                    "last_seq": per_conv,
                    "meta": {},
                    "declined_by": [],
                }
            )
            at = created
            for seq in range(1, per_conv + 1):
                at += timedelta(seconds=rng.uniform(5, 60))
                kind = "visitor" if seq % 2 else ("agent" if agent else "visitor")
                msgs.append(
                    {
                        "conversation_id": cid,
                        "seq": seq,
                        "author_kind": kind,
                        "author_id": agent if kind == "agent" else cid,
                        "body": "x" * 40,
                        "internal": False,
                        "created_at": at,
                    }
                )
            if rng.random() < 0.2:
                offers.append(
                    {
                        "rule_id": rng.randint(1, 10),
                        "site_id": 1,
                        "visitor_id": cid,
                        "kind": "invite",
                        "text": "hi",
                        "manual": False,
                        "outcome": "accepted",
                        "shown_at": created,
                        "conversation_id": cid,
                    }
                )
                # the visit of the exposure (the funnel judges the goal in it): three pages,
                # a purchase after the chat now and then
                at0 = created.timestamp()
                buys = rng.random() < 0.3
                visits.append(
                    {
                        "site_id": 1,
                        "visitor_id": cid,
                        "started_at": created - timedelta(seconds=60),
                        "last_seen_at": created + timedelta(seconds=900),
                        "pages": [
                            [f"https://shop.example/p{i}", "", at0 - 60 + 30 * i, 1.0]
                            for i in range(3)
                        ],
                        "goals": [{"name": "purchase", "value": 49.0, "at": at0 + 600}]
                        if buys
                        else [],
                    }
                )
        async with rt.db.write() as s:
            await s.execute(insert(Visitor), visitors)
            await s.execute(insert(Conversation), convs)
            await s.execute(insert(Message), msgs)
            if offers:
                await s.execute(insert(RadarOffer), offers)
                await s.execute(insert(Visit), visits)
    print(f"  seeded {conversations:,} conversations")


async def slowest(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    """(slowest wall ms, its process CPU ms): CPU counts this process's threads (SQLite's
    included, not PostgreSQL's server), so it is the figure a busy machine does not inflate."""
    worst = (0.0, 0.0)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        await fn()
        took = (time.perf_counter() - t0, time.process_time() - c0)
        worst = max(worst, took)
    return worst[0] * 1000, worst[1] * 1000


def _bound(fn: Callable[[Any, Scope], Awaitable[Any]], scope: Scope) -> Callable[[Any], Any]:
    return lambda s: fn(s, scope)


async def _rule_figures(s: Any, scope: Scope) -> Any:
    """``GET /api/radar/rules/1/figures`` without the access check: all of rule 1's offers."""
    return await rule_figures(s, [RadarOffer.rule_id == 1], lambda _: DEFAULT_GOAL)


async def measure(rt: Runtime, repeat: int) -> list[tuple[str, str, float]]:
    end = START + timedelta(days=DAYS)
    ranges = {
        "30 days": Scope(START, end, now=end),
        "1 day": Scope(end - timedelta(days=1), end, now=end),
    }
    out = []
    for label, scope in ranges.items():
        facts_only = replace(scope, rollups=False)
        queries: dict[str, Callable[[Any], Awaitable[Any]]] = {
            # A/B in one run: the same summary from the facts alone, then with the rollups
            "summary (facts only)": _bound(metrics.summary, facts_only),
            "summary": _bound(metrics.summary, scope),
            "  its sums": _bound(lambda s, sc: metrics._groups(s, sc, metrics.CSK), scope),
            "  its percentiles": _bound(metrics._percentiles, scope),
            "  its occupancy": _bound(metrics.occupancy, scope),
            "  its CSAT": _bound(csat, scope),
            "agents": _bound(metrics.agent_table, scope),
            "teams": _bound(metrics.team_table, scope),
            "funnel": _bound(lambda s, sc: funnel(s, sc.start, sc.end), scope),
            "timeline": _bound(metrics.status_timeline, scope),
            "series": _bound(metrics.series, scope),
            "drill-down (abandoned)": _bound(
                lambda s, sc: metrics.drill_down(s, sc, "abandoned", None, 200), scope
            ),
            # what else the console asks for: the other drill-downs (a CSV export takes 200
            # too), a rule's own figures (all its offers), tables under a filter
            **{
                f"drill-down ({which})": _bound(
                    lambda s, sc, which=which, rule=rule: metrics.drill_down(
                        s, sc, which, rule, 200
                    ),
                    scope,
                )
                for which, rule in (
                    ("all", None),
                    ("sl_missed", None),
                    ("handed_over", None),
                    ("unanswered", None),
                    ("from_invitation", 1),
                )
            },
            "agents (skill filter)": _bound(metrics.agent_table, replace(scope, skill="Sales")),
            "summary (one agent)": _bound(metrics.summary, replace(scope, agent_id=1)),
            "rule figures (all offers)": _bound(_rule_figures, scope),
        }
        for name, q in queries.items():

            async def run(q: Callable[[Any], Awaitable[Any]] = q) -> Any:
                async with rt.db.read() as s:
                    return await q(s)

            ms, cpu = await slowest(run, repeat)
            flag = "ok" if ms <= 300 else "OVER 300 ms"
            print(f"  {label:8} {name:30} {ms:8.1f} ms  (CPU {cpu:6.1f} ms)  {flag}")
            out.append((label, name, ms))
    return out


async def _seeded(rt: Runtime) -> bool:
    async with rt.db.read() as s:
        return bool((await s.execute(select(func.count()).select_from(Conversation))).scalar())


async def bench_one(url: str, args: argparse.Namespace, var: Path) -> None:
    await upgrade_async(url)
    settings = Settings(var_dir=var, database_url=url, secret_key="bench").resolved()
    rt = build_runtime(settings, ManualClock(START + timedelta(days=DAYS)))
    rng = random.Random(7)
    if not ((args.reuse or args.url) and await _seeded(rt)):
        t0 = time.perf_counter()
        await seed(rt, args.conversations, args.messages, rng)
        print(f"  seed {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        done = await backfill(rt)
        took = time.perf_counter() - t0
        print(f"  backfill: facts and rollups of {done:,} conversations in {took:.1f} s")
        if not rt.db.is_sqlite:  # what autovacuum does on a live database
            async with rt.db.write() as s:
                await s.execute(text("ANALYZE"))
    results = await measure(rt, args.repeat)
    worst = max(ms for _, name, ms in results if not name.startswith(" ") and "only" not in name)
    print(
        f"  slowest dashboard query: {worst:.1f} ms (target <= 300 ms); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    await rt.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--reuse", help="SQLite only: keep the database in this directory and reuse it")
    p.add_argument("--url", help="this database (seeded if empty), instead of --databases")
    args = p.parse_args()
    if args.url:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{args.url.split(':', 1)[0]}: {args.conversations:,} conversations")
            asyncio.run(bench_one(args.url, args, Path(tmp)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(args.reuse or tmp)
        var.mkdir(parents=True, exist_ok=True)
        for db in args.databases.split(","):
            print(f"{db}: {args.conversations:,} conversations, {args.messages:,} messages")
            if db == "sqlite":
                asyncio.run(bench_one(f"sqlite+aiosqlite:///{var / 'reports.db'}", args, var))
            else:
                sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
                from tests.support.services import PostgresServer

                server = PostgresServer()
                server.start()
                try:
                    asyncio.run(bench_one(server.create_database("reports"), args, var))
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
