"""One node reads each mailbox (a lease on the mailbox row): two nodes on one database and one
real Dovecot; only the lease holder fetches, the other takes over once the holder died and its
lease ran out on the injected clock (not before), or at once after a clean stop; every mail is
stored exactly once and marked read. SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.channels.test_email_imap import connect_mailbox, counts, mails
from tests.support.actors import running_scenario
from tests.support.dovecot import DovecotServer
from tests.support.server import InProcessServer, test_settings

from tresen.channels.imap import ImapService
from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.models import Mailbox

POLL, LEASE = 60, 180


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer().start()
    yield server
    server.stop()


def settings() -> dict[str, object]:
    return dict(imap_idle=False, imap_poll_seconds=POLL, imap_lease_seconds=LEASE)


@asynccontextmanager
async def node(
    tmp_path: Path, database_url: str, timers: ManualScheduler, name: str
) -> AsyncIterator[InProcessServer]:
    """Another node on the same database (and the same injected clock)."""
    folder = tmp_path / name
    folder.mkdir()
    conf = test_settings(folder, database_url, node_name=name, **settings())
    srv = InProcessServer(conf, clock=timers.clock, scheduler=timers)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def imap(srv: InProcessServer) -> ImapService:
    service: ImapService = srv.app.state.imap
    return service


async def settle(*nodes: InProcessServer) -> None:
    for srv in nodes:
        await imap(srv).idle()
        await srv.rt.events.drain()


async def reader(srv: InProcessServer) -> str | None:
    async with srv.rt.db.read() as s:
        box = (await s.execute(select(Mailbox))).scalar_one()
        return box.imap_reader


async def test_one_reader_takes_over_when_the_other_dies(
    tmp_path: Path, database_url: str, dovecot: DovecotServer
) -> None:
    timers = ManualScheduler(ManualClock())
    dovecot.deliver(*mails(3))
    async with running_scenario(
        tmp_path / "a", database_url, timers.clock, timers, node_name="a", **settings()
    ) as (a, sc):
        await connect_mailbox(sc, dovecot.port)
        imap(a).kick()
        await settle(a)
        assert await counts(a) == (3, 3) and await reader(a) == "a"

        async with node(tmp_path, database_url, timers, "b") as b:
            await settle(b)  # its start sync finds the mailbox read by a
            assert imap(b).stored == 0 and imap(b).held == set()
            dovecot.deliver(*mails(2, start=3))
            timers.advance(POLL)  # both poll: only a reads (and renews its lease)
            await settle(a, b)
            assert (imap(a).stored, imap(b).stored) == (5, 0)
            assert await counts(a) == (5, 5)

            # a's reader dies: its lease stays as it was (a clean stop would give it up)
            imap(a).held.clear()
            await imap(a).stop()
            dovecot.deliver(*mails(2, start=5))
            timers.advance(POLL)  # a renewed at the last poll: its lease runs 3 more minutes
            await settle(b)
            assert imap(b).stored == 0 and await counts(b) == (5, 5)
            timers.advance(POLL)
            await settle(b)
            assert imap(b).stored == 0
            timers.advance(POLL)  # the lease ran out just now (not yet: "<")
            await settle(b)
            timers.advance(POLL)  # past it: b takes over from the stored cursor
            await settle(b)
            assert await reader(b) == "b"
            assert imap(b).stored == 2 and await counts(b) == (7, 7)
            assert dovecot.seen() == list(range(1, 8))

        # b stops cleanly and gives the lease up: the next node reads at once, nothing doubled
        assert await reader(a) is None
        dovecot.deliver(*mails(1, start=7))
        async with node(tmp_path, database_url, timers, "c") as c:
            await settle(c)  # its start sync: no waiting for b's lease
            assert await reader(c) == "c"
            assert imap(c).stored == 1 and await counts(c) == (8, 8)


async def test_two_readers_at_once_store_each_mail_once(
    tmp_path: Path, database_url: str, dovecot: DovecotServer
) -> None:
    timers = ManualScheduler(ManualClock())
    async with running_scenario(
        tmp_path / "a", database_url, timers.clock, timers, node_name="a", **settings()
    ) as (a, sc):
        async with node(tmp_path, database_url, timers, "b") as b:
            await settle(a, b)
            await connect_mailbox(sc, dovecot.port)
            await settle(a, b)
            dovecot.deliver(*mails(60))
            # nobody holds the mailbox (say both just started) and both sync at the same moment
            async with a.rt.db.write() as s:
                box = (await s.execute(select(Mailbox))).scalar_one()
                box.imap_reader, box.imap_lease_until = None, None
            imap(a).held.clear()
            await asyncio.gather(imap(a).sync_all(), imap(b).sync_all())
            await settle(a, b)
            assert sorted((imap(a).stored, imap(b).stored)) == [0, 60]
            assert await reader(a) in ("a", "b")
            assert await counts(a) == (60, 60)
            assert dovecot.seen() == list(range(1, 61))
