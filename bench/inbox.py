"""Inbox benchmark: message search, view counts and view pages over a large history, on SQLite
(FTS5) and PostgreSQL (tsvector + GIN).

Seeds ``--conversations`` (20,000) conversations with ``--messages`` (200,000) messages of words
drawn from a 5,000-word vocabulary (a few words common, most rare), a tenth of the
conversations open, some tagged (bulk inserts: only the queries are measured; the FTS5 triggers
and the generated column do their work during the inserts, timed as "seed"). Then runs each
query ``--repeat`` times and prints the median and the slowest run.

    .venv/bin/python -m bench.inbox [--conversations 20000] [--messages 200000]
        [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from tresen.clock import ManualClock
from tresen.conversations.search import search_messages
from tresen.conversations.views import View, view_counts, view_page
from tresen.principal import Principal
from tresen.runtime import Runtime, build_runtime
from tresen.settings import Settings
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Agent, Conversation, ConversationTag, Message, Site, Visitor

START = datetime(2026, 10, 1, tzinfo=UTC)
CHUNK = 2000
ME = Principal("agent", 1, name="Agent 1", role="agent")


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzäöü"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(5000)]


async def seed(rt: Runtime, conversations: int, messages: int, rng: random.Random) -> list[str]:
    words = vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(words))]  # Zipf: word 0 the most common
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
                for a in range(1, 11)
            ],
        )
    per_conv = max(1, messages // conversations)
    for base in range(0, conversations, CHUNK):
        visitors, convs, msgs, tags = [], [], [], []
        for cid in range(base + 1, min(conversations, base + CHUNK) + 1):
            at = START + timedelta(seconds=cid * 60)
            active = rng.random() < 0.1
            visitors.append(
                {
                    "id": cid,
                    "site_id": 1,
                    "anon_id": f"v{cid}",
                    "created_at": at,
                    "last_seen_at": at,
                    "attributes": {},
                }
            )
            convs.append(
                {
                    "id": cid,
                    "site_id": 1,
                    "visitor_id": cid,
                    "channel": "web",
                    "status": "open" if active else "resolved",
                    "assignee_id": rng.choice([None, *range(1, 11)]),
                    "closed_at": None if active else at + timedelta(minutes=10),
                    "created_at": at,
                    "updated_at": at + timedelta(minutes=10),
                    "last_seq": per_conv,
                    "meta": {},
                    "declined_by": [],
                }
            )
            if rng.random() < 0.2:
                tags.append(
                    {
                        "conversation_id": cid,
                        "tag": rng.choice(["billing", "vip", "bug"]),
                        "created_at": at,
                    }
                )
            for seq in range(1, per_conv + 1):
                body = " ".join(rng.choices(words, weights, k=rng.randint(4, 25)))
                msgs.append(
                    {
                        "conversation_id": cid,
                        "seq": seq,
                        "author_kind": "visitor" if seq % 2 else "agent",
                        "author_id": 1,
                        "body": body,
                        "internal": False,
                        "created_at": at + timedelta(seconds=seq),
                    }
                )
        async with rt.db.write() as s:
            await s.execute(insert(Visitor), visitors)
            await s.execute(insert(Conversation), convs)
            await s.execute(insert(Message), msgs)
            if tags:
                await s.execute(insert(ConversationTag), tags)
    return words


async def timings(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    """(median, slowest) in ms: on a busy machine the median says more than the slowest."""
    took = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await fn()
        took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took), max(took)


async def bench_one(url: str, args: argparse.Namespace, var: Path) -> None:
    await upgrade_async(url)
    settings = Settings(var_dir=var, database_url=url, secret_key="bench").resolved()
    rt = build_runtime(settings, ManualClock(START + timedelta(days=30)))
    t0 = time.perf_counter()
    words = await seed(rt, args.conversations, args.messages, random.Random(7))
    print(f"  seed {time.perf_counter() - t0:.1f} s")
    async with rt.db.write() as s:  # planner statistics, as autovacuum / SQLite's optimize keep
        await s.execute(text("ANALYZE"))
    queries: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "search: the commonest word": lambda s: search_messages(s, ME, words[0]),
        "search: a rare word": lambda s: search_messages(s, ME, words[4000]),
        "search: two words": lambda s: search_messages(s, ME, f"{words[3]} {words[40]}"),
        "search: no match": lambda s: search_messages(s, ME, "zzzzqqq"),
        "view counts": lambda s: view_counts(s, ME),
        "view all (first page)": lambda s: view_page(s, ME, View("all")),
        "view tag:vip": lambda s: view_page(s, ME, View("tag", "vip")),
        "view resolved (first page)": lambda s: view_page(s, ME, View("resolved")),
    }
    for name, q in queries.items():

        async def run(q: Callable[[Any], Awaitable[Any]] = q) -> Any:
            async with rt.db.read() as s:
                return await q(s)

        median, worst = await timings(run, args.repeat)
        print(f"  {name:28} median {median:7.1f} ms   slowest {worst:7.1f} ms")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    await rt.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversations", type=int, default=20_000)
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=11)
    p.add_argument("--databases", default="sqlite,postgres")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        for db in args.databases.split(","):
            print(f"{db}: {args.conversations:,} conversations, {args.messages:,} messages")
            if db == "sqlite":
                asyncio.run(bench_one(f"sqlite+aiosqlite:///{var / 'inbox.db'}", args, var))
            else:
                sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
                from tests.support.services import PostgresServer

                server = PostgresServer()
                server.start()
                try:
                    asyncio.run(bench_one(server.create_database("inbox"), args, var))
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
