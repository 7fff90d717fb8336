"""SQLite's full-text index is filled in batches (no trigger per send): what a search finds, and
that deleting or changing messages before or after their batch keeps the index sound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, text, update
from tests.integration.inbox.helpers import get, visitor_writes
from tests.support.actors import running_scenario

from tresen.clock import ManualClock
from tresen.conversations.search_index import INDEX_SECONDS, catch_up
from tresen.scheduler import ManualScheduler
from tresen.storage.models import Message


async def _position(rt: Any) -> int:
    async with rt.db.read() as s:
        found = await s.execute(text("SELECT last_message_id FROM message_search_position"))
        return int(found.scalar_one())


async def _last_id(rt: Any) -> int:
    async with rt.db.read() as s:
        return int((await s.execute(text("SELECT MAX(id) FROM messages"))).scalar_one())


async def _index_is_sound(rt: Any) -> None:
    async with rt.db.write() as s:  # raises if the index and the messages disagree
        await s.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')"))


async def _found(sc: Any, query: str) -> list[int]:
    found = await get(sc.anna, "/api/console/search", q=query)
    return [h["message_id"] for h in found["results"]]


async def test_messages_are_indexed_in_batches_and_a_search_sees_them_all(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    timers = ManualScheduler(clock)
    async with running_scenario(tmp_path, clock=clock, scheduler=timers) as (srv, sc):
        rt = srv.rt
        start = await _position(rt)
        ws, _ = await visitor_writes(sc, "parcel one", "parcel two")
        await ws.close()
        assert await _position(rt) == start  # nothing indexed in the send's transaction

        timers.advance(INDEX_SECONDS)  # the periodic batch
        while await _position(rt) != await _last_id(rt):
            await catch_up(rt)  # the pass runs in the background; waiting on it is the same
        await _index_is_sound(rt)

        ws, _ = await visitor_writes(sc, "parcel three")
        await ws.close()
        # not indexed yet, and still found: a search indexes what is pending first
        assert len(await _found(sc, "parcel")) == 3
        assert await _position(rt) == await _last_id(rt)
        await _index_is_sound(rt)


async def test_deleting_or_changing_messages_before_their_batch_keeps_the_index_sound(
    tmp_path: Path,
) -> None:
    async with running_scenario(tmp_path) as (srv, sc):
        rt = srv.rt
        ws, _ = await visitor_writes(sc, "lamp indexed", "lamp edited later")
        await ws.close()
        await catch_up(rt)
        indexed = await _position(rt)
        ws, _ = await visitor_writes(sc, "lamp gone early", "lamp edited early")
        await ws.close()
        assert await _last_id(rt) > indexed

        async with rt.db.write() as s:  # one of each, indexed and not yet indexed
            await s.execute(delete(Message).where(Message.body == "lamp gone early"))
            await s.execute(
                update(Message).where(Message.body == "lamp edited early").values(body="sofa")
            )
            await s.execute(
                update(Message).where(Message.body == "lamp edited later").values(body="chair")
            )
        await _index_is_sound(rt)
        assert len(await _found(sc, "lamp")) == 1
        assert len(await _found(sc, "sofa")) == 1
        assert len(await _found(sc, "chair")) == 1
        await _index_is_sound(rt)
