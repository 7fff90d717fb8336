"""One contract for both databases (SQLite and PostgreSQL): the message log's guarantees."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update

from tests.support.actors import ORIGIN, seed
from tests.support.server import test_settings as settings_for
from tresen.agents.queries import agent_by_username
from tresen.conversations.actions import (
    Sent,
    check_mark_read,
    check_send_message,
    check_set_status,
)
from tresen.conversations.queries import access_conversation_by_id, messages_page
from tresen.errors import Forbidden, Invalid, NotFound
from tresen.principal import Principal
from tresen.realtime.topics import visitor_topic
from tresen.runtime import Runtime, build_runtime
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Conversation, Message
from tresen.visitors.actions import check_open_visitor_session
from tresen.wiring import wire_delivery


@dataclass
class World:
    rt: Runtime
    site_key: str
    agent: Principal

    async def visitor(self) -> Principal:
        vs = await check_open_visitor_session(self.rt, self.site_key, ORIGIN, None)
        return Principal("visitor", vs.visitor.id, site_id=vs.site_id)

    async def conversation(self, visitor: Principal) -> int:
        sent = await check_send_message(self.rt, visitor, body="Hallo", client_msg_id="open")
        return sent.conversation.id

    async def stored(self, conversation_id: int) -> list[tuple[int, str | None]]:
        async with self.rt.db.read() as s:
            rows = await s.execute(
                select(Message.seq, Message.client_msg_id)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
            return [(seq, cmid) for seq, cmid in rows]

    async def last_seq(self, conversation_id: int) -> int:
        async with self.rt.db.read() as s:
            conv = await s.get(Conversation, conversation_id)
            assert conv is not None
            return conv.last_seq


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    await upgrade_async(database_url)
    rt = build_runtime(settings_for(tmp_path, database_url))
    wire_delivery(rt)  # the socket fan-out listeners, as the app wires them
    await rt.bus.start()
    key, _secret = await seed(rt)
    async with rt.db.read() as s:
        anna = await agent_by_username(s, "anna")
    assert anna is not None
    yield World(rt, key, Principal("agent", anna.id, name="Anna", role="admin"))
    await rt.close()


async def test_concurrent_sends_get_gapless_unique_seqs(world: World) -> None:
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    n = 80

    async def send(i: int) -> Sent:
        who = visitor if i % 2 else world.agent
        return await check_send_message(
            world.rt, who, body=f"m{i}", client_msg_id=f"c{i}", conversation_id=conv
        )

    results = await asyncio.gather(*(send(i) for i in range(n)))
    seqs = sorted(r.message.seq for r in results)
    assert seqs == list(range(2, n + 2))
    assert not any(r.duplicate for r in results)
    stored = await world.stored(conv)
    assert [seq for seq, _ in stored] == list(range(1, n + 2))
    by_cmid = {r.message.client_msg_id: r.message.seq for r in results}
    assert dict((cmid, seq) for seq, cmid in stored[1:]) == by_cmid
    assert await world.last_seq(conv) == n + 1


async def test_concurrent_new_conversations_number_their_own_seqs(world: World) -> None:
    visitors = [await world.visitor() for _ in range(10)]
    results = await asyncio.gather(
        *(check_send_message(world.rt, v, body="hi", client_msg_id="first") for v in visitors)
    )
    assert len({r.conversation.id for r in results}) == 10
    assert all(r.message.seq == 1 and r.created and not r.duplicate for r in results)


async def test_resend_is_stored_once_and_acked_as_duplicate(world: World) -> None:
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    kw = {"body": "Wo ist mein Paket?", "client_msg_id": "resend-1", "conversation_id": conv}
    first = await check_send_message(world.rt, visitor, **kw)  # type: ignore[arg-type]
    again = await check_send_message(world.rt, visitor, **kw)  # type: ignore[arg-type]
    assert not first.duplicate and again.duplicate
    assert (again.message.seq, again.message.id) == (first.message.seq, first.message.id)
    assert await world.stored(conv) == [(1, "open"), (2, "resend-1")]


async def test_concurrent_resends_are_stored_once_without_a_seq_gap(world: World) -> None:
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    results = await asyncio.gather(
        *(
            check_send_message(
                world.rt, visitor, body="twice", client_msg_id="same", conversation_id=conv
            )
            for _ in range(8)
        )
    )
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert {(r.message.seq, r.message.id) for r in results} == {(2, results[0].message.id)}
    assert await world.stored(conv) == [(1, "open"), (2, "same")]
    after = await check_send_message(
        world.rt, visitor, body="next", client_msg_id="next", conversation_id=conv
    )
    assert after.message.seq == 3  # the losers' counter increments were rolled back


async def test_concurrent_resends_of_a_first_message_open_one_conversation(world: World) -> None:
    visitor = await world.visitor()
    results = await asyncio.gather(
        *(
            check_send_message(world.rt, visitor, body="Hallo?", client_msg_id="first")
            for _ in range(6)
        )
    )
    assert len({r.conversation.id for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False] + [True] * 5
    async with world.rt.db.read() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.visitor_id == visitor.id)
        )
    assert count == 1


async def test_a_client_msg_id_belongs_to_its_author(world: World) -> None:
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    with pytest.raises(Invalid) as err:
        await check_send_message(
            world.rt, world.agent, body="mine now", client_msg_id="open", conversation_id=conv
        )
    assert err.value.code == "duplicate_id"
    assert await world.stored(conv) == [(1, "open")]


async def test_a_visitor_cannot_touch_another_visitors_conversation(world: World) -> None:
    owner, stranger = await world.visitor(), await world.visitor()
    conv = await world.conversation(owner)
    with pytest.raises(NotFound):
        await check_send_message(
            world.rt, stranger, body="hijack", client_msg_id="x", conversation_id=conv
        )
    with pytest.raises(NotFound):
        await check_send_message(
            world.rt, stranger, body="hijack", client_msg_id="open", conversation_id=conv
        )
    with pytest.raises(NotFound):
        await check_mark_read(world.rt, stranger, conv, 1)
    async with world.rt.db.read() as s:
        with pytest.raises(NotFound):
            await messages_page(s, stranger, conv, after_seq=0)
        with pytest.raises(NotFound):
            await access_conversation_by_id(s, stranger, conv)
        # "not yours" looks exactly like "does not exist"
        with pytest.raises(NotFound) as absent:
            await access_conversation_by_id(s, stranger, conv + 1000)
    assert absent.value.code == "no_such_conversation"
    assert await world.stored(conv) == [(1, "open")]
    # The stranger's own first message with the same client_msg_id opens their own conversation.
    own = await check_send_message(world.rt, stranger, body="mine", client_msg_id="open")
    assert own.conversation.id != conv and not own.duplicate


async def test_internal_notes_stay_out_of_visitor_history_and_topic(world: World) -> None:
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    heard: list[str] = []
    await world.rt.bus.subscribe(visitor_topic(visitor.id), lambda _t, p: heard.append(p))
    for i, internal in enumerate([True, False, True, False]):
        await check_send_message(
            world.rt,
            world.agent,
            body=("NOTE" if internal else "reply") + str(i),
            client_msg_id=f"a{i}",
            conversation_id=conv,
            internal=internal,
        )
    with pytest.raises(Forbidden):
        await check_send_message(
            world.rt, visitor, body="x", client_msg_id="v", conversation_id=conv, internal=True
        )
    async with world.rt.db.read() as s:
        seen_by_visitor = await messages_page(s, visitor, conv, after_seq=0)
        seen_by_agent = await messages_page(s, world.agent, conv, after_seq=0)
        newest_for_visitor = await messages_page(s, visitor, conv, limit=2)
    assert [(m.seq, m.body) for m in seen_by_visitor] == [
        (1, "Hallo"),
        (3, "reply1"),
        (5, "reply3"),
    ]
    assert [m.seq for m in seen_by_agent] == [1, 2, 3, 4, 5]
    assert [m.seq for m in newest_for_visitor] == [3, 5]
    assert not any("NOTE" in p for p in heard)
    assert sum('"type":"message"' in p for p in heard) == 2


async def test_a_message_into_an_open_conversation_is_one_statement_on_postgresql(
    world: World,
) -> None:
    """The seq bump and the INSERT are one statement on PostgreSQL; no other read or write for
    a plain send."""
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE of each group commit
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        for i in range(3):
            sent = await check_send_message(
                world.rt, visitor, body=f"m{i}", client_msg_id=f"m{i}", conversation_id=conv
            )
            assert sent.message.seq == i + 2
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    # SQLite's group commit runs its two statements on the driver (storage/prepared.py):
    # nothing goes through SQLAlchemy's execution at all
    per_send = 1 if world.rt.db.url.startswith("postgresql") else 0
    assert len(statements) == 3 * per_send, statements
    assert await world.stored(conv) == [(1, "open"), (2, "m0"), (3, "m1"), (4, "m2")]


async def test_a_refused_reply_leaves_no_message_and_no_seq(world: World) -> None:
    """A reply refused after the row was bumped (and on PostgreSQL inserted) rolls it all back."""
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    former = Principal("agent", world.agent.id, name="Anna", role="agent")
    async with world.rt.db.write() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.id == conv)
            .values(meta={"former_agents": [former.id]})
        )
    with pytest.raises(Forbidden):
        await check_send_message(
            world.rt, former, body="still mine?", client_msg_id="late", conversation_id=conv
        )
    assert await world.stored(conv) == [(1, "open")]
    assert await world.last_seq(conv) == 1
    note = await check_send_message(
        world.rt, former, body="a note", client_msg_id="note", conversation_id=conv, internal=True
    )
    assert note.message.seq == 2


async def test_a_visitor_writing_into_a_resolved_conversation_reopens_it(world: World) -> None:
    visitor = await world.visitor()
    conv = await world.conversation(visitor)
    await check_set_status(world.rt, world.agent, conv, "resolved")
    sent = await check_send_message(
        world.rt, visitor, body="one more thing", client_msg_id="again", conversation_id=conv
    )
    assert sent.reopened and sent.message.seq == 2
    async with world.rt.db.read() as s:
        row = await s.get(Conversation, conv)
        assert row is not None and row.status == "open" and row.queued_at is not None
