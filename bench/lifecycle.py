"""Lifecycle timer pass benchmark: the once-a-second pass over open web chats.

Seeds ``--open`` (2,000) open, assigned web chats of 10 messages each among ``--closed``
(50,000) resolved ones with 10 messages each (bulk inserts), then times the pass that finds
nothing to do (the usual second) ``--repeat`` times and prints its p50 and slowest run; then
one pass that marks every chat silent (all writes).

    .venv/bin/python -m bench.lifecycle [--open 2000] [--closed 50000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from tresen.clock import ManualClock
from tresen.lifecycle.timers import LifecycleService
from tresen.runtime import build_runtime
from tresen.settings import Settings
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Agent, Conversation, Message, Site, Visitor

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


async def run(open_chats: int, closed: int, repeat: int) -> None:
    var = Path(tempfile.mkdtemp(prefix="tresen-bench-lifecycle-"))
    url = f"sqlite+aiosqlite:///{var / 'bench.db'}"
    await upgrade_async(url)
    clock = ManualClock(START)
    rt = build_runtime(
        Settings(var_dir=var, database_url=url, secret_key="bench").resolved(), clock
    )
    total = open_chats + closed
    async with rt.db.write() as s:
        await s.execute(
            insert(Site),
            [
                {
                    "id": 1,
                    "name": "S",
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
                    "id": 1,
                    "username": "a",
                    "display_name": "A",
                    "password_hash": "x",
                    "created_at": START,
                }
            ],
        )
        await s.execute(
            insert(Visitor),
            [
                {
                    "id": i,
                    "site_id": 1,
                    "created_at": START,
                    "last_seen_at": START,
                    "anon_id": f"v{i}",
                }
                for i in range(1, total + 1)
            ],
        )
        await s.execute(
            insert(Conversation),
            [
                {
                    "id": i,
                    "site_id": 1,
                    "visitor_id": i,
                    "status": "open" if i <= open_chats else "resolved",
                    "assignee_id": 1,
                    "last_seq": 10,
                    "meta": {},
                    "created_at": START,
                    "updated_at": START,
                }
                for i in range(1, total + 1)
            ],
        )
        msgs = [
            {
                "conversation_id": i,
                "seq": q,
                "author_kind": "visitor" if q % 2 else "agent",
                "author_id": 1,
                "body": "x" * 40,
                "internal": False,
                "created_at": START + timedelta(seconds=q * 10),
            }
            for i in range(1, total + 1)
            for q in range(1, 11)
        ]
        for k in range(0, len(msgs), 50_000):
            await s.execute(insert(Message), msgs[k : k + 50_000])
    print(f"seeded {open_chats:,} open chats, {closed:,} resolved, {total * 10:,} messages")
    service = LifecycleService(rt)
    clock.advance(101)  # 1 s after the last (agent) message: nothing due yet
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        changed = await service.run_once()
        times.append((time.perf_counter() - t0) * 1000)
        assert changed == 0
    print(
        f"idle pass (nothing due): p50 {statistics.median(times):.1f} ms, "
        f"slowest {max(times):.1f} ms over {repeat} passes"
    )
    clock.advance(120)
    t0 = time.perf_counter()
    changed = await service.run_once()
    took = (time.perf_counter() - t0) * 1000
    print(f"marking pass: {changed:,} chats marked silent in {took:.0f} ms")
    await rt.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--open", type=int, default=2000)
    p.add_argument("--closed", type=int, default=50_000)
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args()
    asyncio.run(run(a.open, a.closed, a.repeat))


if __name__ == "__main__":
    main()
