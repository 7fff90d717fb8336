"""The dispatcher: events after commit only, listeners isolated from each other and from the
sender, order per key, bounded queues, and listeners that run on every node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tresen.dispatcher import Dispatcher
from tresen.events import (
    ConversationState,
    MessageCreated,
    QueuePositionChanged,
    RulesChanged,
    decode,
    encode,
    record,
)
from tresen.realtime.memory_bus import MemoryBus
from tresen.storage.db import Database
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Site

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def state(conv_id: int = 1) -> ConversationState:
    return ConversationState(
        id=conv_id,
        site_id=1,
        visitor_id=7,
        status="open",
        channel="web",
        skill="Sales",
        department=None,
        assignee_id=3,
        offered_to=None,
        priority=0,
        queued_at=None,
        last_seq=4,
        visitor_read_seq=0,
        agent_read_seq=2,
        meta={"bot": False},
        created_at=NOW,
        updated_at=NOW,
    )


def message(conv_id: int = 1, seq: int = 1) -> MessageCreated:
    return MessageCreated(
        conversation=state(conv_id),
        message_id=seq * 10,
        seq=seq,
        author_kind="visitor",
        author_id=7,
        author_name=None,
        body=f"hello {seq}",
        internal=False,
        client_msg_id=f"c{seq}",
        created_at=NOW,
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade_async(url)
    database = Database(url)
    yield database
    await database.dispose()


async def test_events_of_a_committed_transaction_reach_listeners_after_the_commit(
    db: Database,
) -> None:
    events = Dispatcher()
    db.on_commit = events.emit
    seen: list[tuple[RulesChanged, int]] = []

    async def sites_visible() -> int:
        async with db.read() as s:
            return len((await s.execute(select(Site))).all())

    def listener(event: RulesChanged) -> None:
        seen.append((event, 0))

    events.on(RulesChanged, do=listener, mode="now")
    async with db.write() as s:
        s.add(Site(name="x", widget_key="k1", identity_secret="s", created_at=NOW))
        record(s, RulesChanged(1))
        assert seen == []  # recorded, not dispatched, while the transaction is open
    assert [e for e, _ in seen] == [RulesChanged(1)]
    assert await sites_visible() == 1


async def test_a_rolled_back_transaction_emits_nothing(db: Database) -> None:
    events = Dispatcher()
    db.on_commit = events.emit
    seen: list[object] = []
    events.on(RulesChanged, do=seen.append, mode="now")
    with pytest.raises(RuntimeError):
        async with db.write() as s:
            record(s, RulesChanged(1))
            raise RuntimeError("the action failed after recording")
    assert seen == []
    async with db.write() as s:  # the next transaction starts clean
        record(s, RulesChanged(2))
    assert seen == [RulesChanged(2)]


async def test_a_grouped_write_emits_only_the_events_of_the_works_that_held(
    db: Database,
) -> None:
    events = Dispatcher()
    db.on_commit = events.emit
    seen: list[object] = []
    events.on(RulesChanged, do=seen.append, mode="now")

    def good(n: int):  # type: ignore[no-untyped-def]
        def work(conn):  # type: ignore[no-untyped-def]
            conn.execute(text("SELECT 1"))
            record(conn, RulesChanged(n))
            return n

        return work

    def bad(conn):  # type: ignore[no-untyped-def]
        record(conn, RulesChanged(99))
        raise ValueError("this send's savepoint rolls back")

    results = await asyncio.gather(
        db.write_grouped(good(1)),
        db.write_grouped(bad),
        db.write_grouped(good(2)),
        return_exceptions=True,
    )
    assert results[0] == 1 and isinstance(results[1], ValueError) and results[2] == 2
    assert sorted(e.rule_id for e in seen) == [1, 2]  # type: ignore[attr-defined]


async def test_a_constraint_failure_in_a_grouped_write_rolls_back_only_its_own_work(
    db: Database,
) -> None:
    """A resend hits the UNIQUE constraint inside the shared transaction: its earlier statement
    is undone with it, the works around it commit."""
    async with db.write() as s:
        await s.execute(text("CREATE TABLE t (k TEXT UNIQUE)"))

    def insert(k: str, first: str):  # type: ignore[no-untyped-def]
        def work(conn):  # type: ignore[no-untyped-def]
            conn.execute(text("INSERT INTO t (k) VALUES (:f)"), {"f": first})
            conn.execute(text("INSERT INTO t (k) VALUES (:k)"), {"k": k})
            return k

        return work

    results = await asyncio.gather(
        db.write_grouped(insert("a", "first-of-a")),
        db.write_grouped(insert("a", "first-of-the-resend")),
        db.write_grouped(insert("b", "first-of-b")),
        return_exceptions=True,
    )
    assert results[0] == "a" and results[2] == "b"
    assert type(results[1]).__name__ == "IntegrityError"
    async with db.read() as s:
        rows = sorted((await s.execute(text("SELECT k FROM t"))).scalars())
    assert rows == ["a", "b", "first-of-a", "first-of-b"]


async def test_a_raising_or_hanging_listener_does_not_hold_up_the_others() -> None:
    events = Dispatcher(timeout=3600)
    inline: list[int] = []
    queued: list[int] = []
    release = asyncio.Event()

    def explode(event: MessageCreated) -> None:
        raise RuntimeError("a broken listener")

    async def hang(event: MessageCreated) -> None:
        await release.wait()

    async def record_it(event: MessageCreated) -> None:
        queued.append(event.seq)

    events.on(MessageCreated, do=explode, mode="now", name="explode")
    events.on(MessageCreated, do=hang, name="hang")
    events.on(MessageCreated, do=lambda e: inline.append(e.seq), mode="now")
    events.on(MessageCreated, do=record_it)
    events.emit([message(seq=1), message(seq=2)])  # returns at once: nothing awaited
    assert inline == [1, 2]
    for _ in range(5):
        await asyncio.sleep(0)
    assert queued == [1, 2]  # the hanging listener holds only its own queue
    stats = events.stats()
    assert stats["explode"].failed == 2 and stats["hang"].handled == 0
    release.set()
    await events.drain()
    assert stats["hang"].handled == 2


async def test_a_listener_over_its_time_is_abandoned_and_counted() -> None:
    events = Dispatcher(timeout=0.01)
    done: list[int] = []

    async def slow(event: MessageCreated) -> None:
        if event.seq == 1:
            await asyncio.Event().wait()  # never returns
        done.append(event.seq)

    events.on(MessageCreated, do=slow, name="slow")
    events.emit([message(seq=1), message(seq=2)])
    await events.drain()
    assert done == [2]  # the next event of the same conversation was not lost
    assert events.stats()["slow"].timed_out == 1


async def test_queued_listeners_keep_order_per_conversation_and_conversations_side_by_side() -> (
    None
):
    events = Dispatcher()
    log: list[tuple[int, int]] = []
    gate = asyncio.Event()

    async def work(event: MessageCreated) -> None:
        if event.conversation.id == 1 and event.seq == 1:
            await gate.wait()  # conversation 1 is slow
        log.append((event.conversation.id, event.seq))

    events.on(MessageCreated, do=work)
    events.emit([message(1, 1), message(1, 2), message(2, 1), message(2, 2)])
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == [(2, 1), (2, 2)]  # conversation 2 did not wait for conversation 1
    gate.set()
    await events.drain()
    assert log == [(2, 1), (2, 2), (1, 1), (1, 2)]


async def test_a_listener_that_falls_behind_drops_beyond_its_bound_and_counts() -> None:
    events = Dispatcher(queue_limit=3)
    gate = asyncio.Event()
    got: list[int] = []

    async def slow(event: MessageCreated) -> None:
        await gate.wait()
        got.append(event.seq)

    events.on(MessageCreated, do=slow, name="slow")
    events.emit([message(1, seq) for seq in range(1, 6)])
    assert events.stats()["slow"].dropped == 2
    gate.set()
    await events.drain()
    assert got == [1, 2, 3]


async def test_a_filter_keeps_unwanted_events_out_of_the_queue() -> None:
    events = Dispatcher()
    got: list[int] = []

    async def on_even(event: MessageCreated) -> None:
        got.append(event.seq)

    events.on(MessageCreated, do=on_even, when=lambda e: e.seq % 2 == 0)
    events.emit([message(seq=s) for s in range(1, 7)])
    await events.drain()
    assert got == [2, 4, 6]


async def test_everywhere_listeners_run_on_every_node_through_the_bus() -> None:
    bus = MemoryBus()  # one bus shared by two dispatchers stands for two nodes
    node_a, node_b = Dispatcher(bus), Dispatcher(bus)
    heard_a: list[object] = []
    heard_b: list[object] = []
    local_a: list[object] = []
    node_a.on(QueuePositionChanged, do=heard_a.append, mode="now", everywhere=True)
    node_b.on(QueuePositionChanged, do=heard_b.append, mode="now", everywhere=True)
    node_a.on(QueuePositionChanged, do=local_a.append, mode="now")
    await node_a.start()
    await node_b.start()
    event = QueuePositionChanged(conversation_id=5, visitor_id=7, position=2, wait_seconds=None)
    node_a.emit([event])
    assert heard_a == [event] and heard_b == [event]  # decoded on both
    assert local_a == [event]  # a local listener only where it was emitted
    await node_a.stop()
    await node_b.stop()


def test_every_event_survives_the_json_form_of_the_bus() -> None:
    original = message()
    back = decode(encode(original))
    assert back == original and type(back) is MessageCreated
    assert back.conversation.created_at == NOW
    assert decode(encode(RulesChanged(None))) == RulesChanged(None)
