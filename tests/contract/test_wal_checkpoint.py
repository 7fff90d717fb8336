"""SQLite's WAL is checkpointed by the checkpointer's thread, never in a COMMIT of a send: the WAL
stays bounded under bursts of sends, shrinks to nothing once idle, and readers keep working while
a checkpoint runs (the rounds are driven here by ``tick()``, not by the thread's timer)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.support.actors import ORIGIN, seed
from tests.support.server import test_settings
from tresen.conversations.actions import check_send_message
from tresen.principal import Principal
from tresen.runtime import Runtime, build_runtime
from tresen.storage.checkpoint import Checkpoint, WalCheckpointer
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Message
from tresen.visitors.actions import check_open_visitor_session

BURST = 400
EARLY = 14  # bursts before the first round: well past 1,000 pages of WAL


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = test_settings(tmp_path)
    await upgrade_async(settings.database_url)
    rt = build_runtime(settings)
    assert rt.db.checkpointer is not None
    rt.db.checkpointer.interval = 10**6  # the thread never ticks by itself in these tests
    await rt.bus.start()
    yield rt
    await rt.close()


def wal_bytes(rt: Runtime) -> int:
    cp = rt.db.checkpointer
    assert cp is not None
    wal = Path(cp.path + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def burst(rt: Runtime, visitor: Principal, conv: int | None, round_: int) -> int:
    sent = await asyncio.gather(
        *(
            check_send_message(
                rt,
                visitor,
                body=f"m{round_}-{i} " + "x" * 1000,
                client_msg_id=f"c{round_}-{i}",
                conversation_id=conv,
            )
            for i in range(BURST)
        )
    )
    return sent[0].conversation.id


async def visitor_of(rt: Runtime) -> tuple[Principal, int]:
    key, _secret = await seed(rt)
    vs = await check_open_visitor_session(rt, key, ORIGIN, None)
    who = Principal("visitor", vs.visitor.id, site_id=vs.site_id)
    sent = await check_send_message(rt, who, body="Hallo", client_msg_id="open")
    return who, sent.conversation.id


async def stored(rt: Runtime) -> int:
    async with rt.db.read() as s:
        return (await s.execute(select(func.count()).select_from(Message))).scalar_one()


async def test_sends_do_not_checkpoint_the_checkpointer_bounds_the_wal(rt: Runtime) -> None:
    cp = rt.db.checkpointer
    assert cp is not None
    visitor, conv = await visitor_of(rt)

    # The serving connections never checkpoint in a COMMIT: without a round of the checkpointer
    # the WAL only grows, past SQLite's automatic checkpoint's 1,000 pages.
    autocheckpoint = await rt.db.read_grouped(
        lambda c: c.execute(text("PRAGMA wal_autocheckpoint")).scalar()
    )
    assert autocheckpoint == 0
    sizes = []
    for r in range(EARLY):
        await burst(rt, visitor, conv, r)
        sizes.append(wal_bytes(rt))
    assert sizes == sorted(set(sizes))
    assert sizes[-1] > 1000 * 4096

    # A round copies it all (nobody reads an old snapshot), and the next sends write the WAL
    # from its start again: bursts with a round after each leave it no larger than it was.
    first = cp.tick()
    assert (first.mode, first.busy) == ("PASSIVE", False)
    assert first.copied == first.wal_pages > 0
    high = wal_bytes(rt)
    for r in range(EARLY, EARLY + 6):
        await burst(rt, visitor, conv, r)
        done = cp.tick()
        assert not done.busy and done.copied == done.wal_pages
        assert wal_bytes(rt) <= high
    assert done.wal_pages < first.wal_pages / 4  # one burst's pages, not all of them

    # Idle (nothing committed since the last round): the WAL file is truncated.
    idle = cp.tick()
    assert (idle.mode, idle.busy, idle.wal_pages) == ("TRUNCATE", False, 0)
    assert wal_bytes(rt) == 0
    assert await stored(rt) == 1 + (EARLY + 6) * BURST

    # Stopping checkpoints what is left.
    await burst(rt, visitor, conv, EARLY + 6)
    assert wal_bytes(rt) > 0
    await asyncio.to_thread(cp.stop)
    assert wal_bytes(rt) == 0
    assert await stored(rt) == 1 + (EARLY + 7) * BURST


async def test_reads_work_during_a_checkpoint(rt: Runtime) -> None:
    cp = rt.db.checkpointer
    assert cp is not None
    visitor, conv = await visitor_of(rt)
    await burst(rt, visitor, conv, 0)

    # A reader on an older snapshot: the checkpoint copies what it can and does not wait.
    reader = sqlite3.connect(cp.path, isolation_level=None)
    reader.execute("BEGIN")
    (before,) = reader.execute("SELECT count(*) FROM messages").fetchone()
    await burst(rt, visitor, conv, 1)
    done = cp.tick()
    assert done.mode == "PASSIVE" and done.copied < done.wal_pages  # the reader's pages stay
    assert cp.tick().mode == "PASSIVE"  # still pinned: no truncation, not even when idle
    (still,) = reader.execute("SELECT count(*) FROM messages").fetchone()
    assert still == before == 1 + BURST

    # Reads through the app's paths while a round runs in its thread.
    round_ = asyncio.create_task(asyncio.to_thread(cp.tick))
    counts = await asyncio.gather(
        stored(rt),
        rt.db.read_grouped(lambda c: c.execute(text("SELECT count(*) FROM messages")).scalar()),
    )
    await round_
    assert counts == [1 + 2 * BURST] * 2

    reader.execute("COMMIT")
    reader.close()
    # The reader is gone and nothing was committed since: the next round copies it all and
    # truncates the WAL.
    assert cp.tick() == Checkpoint("TRUNCATE", busy=False, wal_pages=0, copied=0)
    assert wal_bytes(rt) == 0


def test_a_stopped_checkpointer_leaves_new_connections_to_sqlite(tmp_path: Path) -> None:
    cp = WalCheckpointer(str(tmp_path / "x.db"))
    assert cp.start()
    cp.stop()
    assert not cp.start()


def test_a_wal_past_its_restart_size_asks_once_for_a_quiet_moment(tmp_path: Path) -> None:
    """Under sustained writes a passive round never sees the WAL fully copied when the next
    write begins, so the WAL never restarts; past ``restart_pages`` the checkpointer asks its
    owner once for a moment without writes, and after ``catch_up()`` the next write starts the
    WAL from its first frame, shrinking the file to ``journal_size_limit``."""
    path = str(tmp_path / "w.db")
    writer = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "wal_autocheckpoint=0", "journal_size_limit=65536"):
        writer.execute(f"PRAGMA {pragma}")
    writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT)")
    cp = WalCheckpointer(path, restart_pages=200)
    asked: list[int] = []
    cp.on_restart_due = lambda: asked.append(1)

    def rows(n: int) -> None:  # one transaction: a page a row
        with writer:
            writer.execute("BEGIN")
            writer.executemany("INSERT INTO t (b) VALUES (?)", [("x" * 3000,) for _ in range(n)])

    rows(100)  # about 100 pages: below the restart size, nobody is asked
    assert cp.tick().wal_pages < 200 and asked == []
    rows(300)
    wal = Path(path + "-wal")
    grown = wal.stat().st_size
    assert grown > 200 * 4096
    done = cp.tick()
    assert done.copied == done.wal_pages > 200 and asked == [1]
    rows(1)  # this is what sustained load does: a write before the owner's quiet moment
    cp.tick()
    assert asked == [1]  # asked once until the catch-up came

    caught = cp.catch_up()  # the owner holds its writes back meanwhile
    assert caught.copied == caught.wal_pages
    rows(1)  # the first write after it restarts the WAL and cuts the file to the size limit
    assert wal.stat().st_size <= 65536 < grown
    again = cp.tick()
    assert again.wal_pages < 10
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (402,)
    writer.close()
    cp.stop()
    # A catch-up that comes after the stop (the owner's task was late) leaves things be.
    assert cp.catch_up() == Checkpoint("PASSIVE", busy=False, wal_pages=0, copied=0)
    assert not wal.exists() or wal.stat().st_size == 0


async def test_the_database_holds_its_writes_while_the_wal_catches_up(rt: Runtime) -> None:
    cp = rt.db.checkpointer
    assert cp is not None
    cp.restart_pages = 100
    visitor, conv = await visitor_of(rt)
    await burst(rt, visitor, conv, 0)
    release, entered = threading.Event(), threading.Event()
    catch_up = cp.catch_up

    def held_catch_up() -> Checkpoint:
        entered.set()
        release.wait()
        return catch_up()

    cp.catch_up = held_catch_up  # type: ignore[method-assign]
    done = await asyncio.to_thread(cp.tick)  # the checkpointer's thread asks the loop
    assert done.copied == done.wal_pages > 100
    assert await asyncio.to_thread(entered.wait, 60)  # the catch-up runs, holding writes back
    send = asyncio.create_task(
        check_send_message(rt, visitor, body="held", client_msg_id="held", conversation_id=conv)
    )
    reads = await stored(rt)  # reads go on meanwhile (a hop to the driver's thread and back)
    assert reads == 1 + BURST
    assert not send.done()  # queued behind the catch-up, not written beside it
    release.set()
    sent = await send
    assert sent.message.body == "held"
    assert cp.tick().wal_pages < 50  # the held send started the WAL afresh
    assert await stored(rt) == 2 + BURST
