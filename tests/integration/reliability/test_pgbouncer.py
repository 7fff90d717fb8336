"""PostgreSQL through PgBouncer in transaction mode (every transaction may run on another server
connection): with ``?pgbouncer=true`` on the database URL, migrations, the seed and a Tresen node
under a two-sided exchange all work: 0 lost, 0 duplicated. Without it, asyncpg's prepared
statements break on the shared server connections, which is why the setting exists."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.actors import Agent, Visitor
from tests.support.cluster import Exchange, Node, audit, prepare_database
from tests.support.pgbouncer import PgBouncerServer
from tests.support.services import PostgresServer

PER_SIDE = 100
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pgbouncer(postgres: PostgresServer) -> Iterator[PgBouncerServer]:
    server = PgBouncerServer(postgres)
    server.start()
    yield server
    server.stop()


def db_name(pg_url: str) -> str:
    return pg_url.rsplit("/", 1)[1]


READS = """
import asyncio, sys
from sqlalchemy import text
from tresen.storage.db import Database

async def main(url):
    db = Database(url)

    async def one(i):
        async with db.read() as s:
            await s.execute(text(f"SELECT {i % 7} + :x"), {"x": i})
            await s.execute(text("SELECT 1"))

    try:
        for _ in range(5):
            await asyncio.gather(*(one(i) for i in range(200)))
        print("ok")
    except Exception as exc:
        print("failed:", exc)
    finally:
        await db.dispose()

asyncio.run(main(sys.argv[1]))
"""


def concurrent_reads(url: str) -> str:
    """Many concurrent short transactions, in a process of their own (a failing driver leaves
    broken connections behind)."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", READS, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout + done.stderr[-2000:]


async def test_without_the_setting_prepared_statements_break(
    pg_url: str, pgbouncer: PgBouncerServer
) -> None:
    without = pgbouncer.url(db_name(pg_url), pgbouncer_setting=False)
    assert "prepared statement" in await asyncio.to_thread(concurrent_reads, without)
    with_it = pgbouncer.url(db_name(pg_url))
    assert (await asyncio.to_thread(concurrent_reads, with_it)).strip() == "ok"


async def test_a_node_behind_pgbouncer_exchanges_messages(
    pg_url: str, pgbouncer: PgBouncerServer, tmp_path: Path, nodes: list[Node]
) -> None:
    url = pgbouncer.url(db_name(pg_url))
    site_key = await prepare_database(url, tmp_path)  # migrations and seed through PgBouncer
    nodes.append(Node("a", tmp_path, url))
    node = nodes[0]
    await node.astart()
    anna = await Agent.login(node.url, "anna")
    visitor = await Visitor.arrive(node.url, site_key)
    ex = Exchange(visitor.client(), anna.client())
    await ex.agent.start()
    await ex.visitor.start()
    try:
        await ex.open()
        await ex.run(visitor=PER_SIDE - 1, agent=PER_SIDE)
        await audit(ex, url)
        assert "prepared statement" not in node.log_tail(200_000)
    except BaseException:
        print("node:", node.log_tail(), "\npgbouncer:", pgbouncer.log())
        raise
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()
        await anna.close()
