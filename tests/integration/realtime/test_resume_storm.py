"""A reconnect storm: many visitors come back at once, each resuming its conversation from where
it stood. Socket opens and resumes go through grouped reads (``Database.read_grouped``); every
visitor still gets exactly the messages it missed, once, in order, never an internal note, and
never a conversation that is not its own."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from tests.support.actors import Visitor, next_frame, raw_socket, running_scenario

from tresen.storage.db import Database

VISITORS = 24


async def _open_chat(v: Visitor, i: int) -> tuple[int, int]:
    """The visitor's first message; returns (conversation id, the seq it has seen)."""
    ws = await raw_socket(v.ws_url())
    try:
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "resume", "conversations": {}}))
        await next_frame(ws, "resumed")
        await ws.send(json.dumps({"type": "send", "client_msg_id": f"m{i}", "body": f"hi {i}"}))
        ack = await next_frame(ws, "ack")
        return int(ack["conversation_id"]), int(ack["seq"])
    finally:
        await ws.close()


async def _come_back(v: Visitor, resume: dict[str, int]) -> list[dict[str, Any]]:
    """Reconnect, resume, and return every frame up to and including ``resumed``."""
    ws = await raw_socket(v.ws_url())
    try:
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "resume", "conversations": resume}))
        frames = []
        while True:
            frame = await next_frame(ws)
            frames.append(frame)
            if frame["type"] == "resumed":
                return frames
    finally:
        await ws.close()


def _count_grouped_reads(db: Database) -> list[int]:
    """Wraps the database's grouped-read batches: the size of each batch run, without the
    reads that come on a timer, whenever it falls (the lifecycle pass every second; the
    webhook worker's event types once their few seconds are up: on a loaded machine the storm
    outlasts them)."""
    sizes: list[int] = []
    run = db._run_reads_on
    timed = {"tresen.lifecycle.timers", "tresen.webhooks.worker"}

    def counting(conn: Any, works: list[Any]) -> Any:
        ours = [w for w in works if getattr(w, "__module__", "") not in timed]
        if ours:
            sizes.append(len(ours))
        return run(conn, works)

    db._run_reads_on = counting  # type: ignore[method-assign]
    return sizes


async def _storm(tmp_path: Path, database_url: str) -> None:
    async with running_scenario(tmp_path, database_url) as (srv, sc):
        visitors = [await sc.visitor() for _ in range(VISITORS)]
        chats = await asyncio.gather(*(_open_chat(v, i) for i, v in enumerate(visitors)))
        # While they are away: two replies each, and an internal note in every other chat.
        expected: dict[int, list[str]] = {}
        for i, (conv, _) in enumerate(chats):
            expected[conv] = []
            for n in range(2):
                body = f"reply {n} to {i}"
                r = await sc.anna.post(f"/api/conversations/{conv}/messages", json={"body": body})
                r.raise_for_status()
                expected[conv].append(body)
                if n == 0 and i % 2 == 0:
                    r = await sc.anna.post(
                        f"/api/conversations/{conv}/messages",
                        json={"body": f"note on {i}", "internal": True},
                    )
                    r.raise_for_status()
        sizes = _count_grouped_reads(srv.rt.db)
        # Everyone comes back at once; one of them also names a conversation not its own.
        stranger = chats[1][0]
        resumes = [{str(conv): seen} for conv, seen in chats]
        resumes[0][str(stranger)] = 0
        results = await asyncio.gather(
            *(_come_back(v, r) for v, r in zip(visitors, resumes, strict=True))
        )
        for i, ((conv, seen), frames) in enumerate(zip(chats, results, strict=True)):
            msgs = [f for f in frames if f["type"] == "message"]
            assert [m["conversation_id"] for m in msgs] == [conv, conv], (i, frames)
            assert [m["body"] for m in msgs] == expected[conv]
            assert [m["seq"] for m in msgs] == sorted({m["seq"] for m in msgs})
            assert all(m["seq"] > seen and not m["internal"] for m in msgs)
            last_seq = seen + 2 + (1 if i % 2 == 0 else 0)  # the note moves the position too
            assert frames[-1]["conversations"] == {str(conv): last_seq}
        errors = [f for f in results[0] if f["type"] == "error"]
        assert [e["code"] for e in errors] == ["no_such_conversation"]
        assert not any(f["type"] == "error" for frames in results[1:] for f in frames)
        # Every open and every resume was a grouped read (one work each, plus the stranger's).
        assert sum(sizes) == 2 * VISITORS + 1


async def test_reconnect_storm_each_visitor_gets_what_it_missed_once(
    tmp_path: Path, database_url: str
) -> None:
    await _storm(tmp_path, database_url)


async def test_grouped_reads_share_a_batch_and_keep_errors_apart(
    tmp_path: Path, database_url: str
) -> None:
    """Reads queued in one turn of the loop run as one batch; a work that fails (an error of
    ours, or a failed statement, which on PostgreSQL voids the transaction) fails alone."""
    async with running_scenario(tmp_path, database_url) as (srv, _):
        db: Database = srv.rt.db
        sizes = _count_grouped_reads(db)

        def ok(n: int) -> Any:
            return lambda c: c.exec_driver_sql(f"SELECT {n}").scalar_one()

        def mine(c: Any) -> Any:
            raise LookupError("not yours")

        def broken(c: Any) -> Any:
            return c.exec_driver_sql("SELECT * FROM no_such_table").all()

        works = [ok(1), mine, ok(3), broken, ok(5)]
        outcomes = await asyncio.gather(
            *(db.read_grouped(w) for w in works), return_exceptions=True
        )
        assert [outcomes[0], outcomes[2], outcomes[4]] == [1, 3, 5]
        assert isinstance(outcomes[1], LookupError)
        assert isinstance(outcomes[3], DBAPIError)
        assert sizes == [5]
