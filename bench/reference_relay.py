"""The floor: a minimal persisted chat relay in pure Python, to measure Tresen against.

The ``websockets`` library's asyncio server and the standard library's ``sqlite3`` (WAL,
``synchronous=NORMAL``), one process, one event loop, no framework. It does the persisted work of
a chat message and nothing else:

- ``/ws/visitor``: a new visitor row is inserted when the socket opens (what Tresen's
  ``POST /api/visitor/session`` does over HTTP), then ``welcome``;
- ``/ws/agent``: an agent socket (no login: the floor has no accounts), then ``welcome``;
- ``{"type": "send", "client_msg_id", "body", "conversation_id"?}``: a visitor without a
  conversation opens one; the sender must be the conversation's visitor (or an agent). The message
  is stored in one transaction with the next per-conversation ``seq`` (``UPDATE .. RETURNING``)
  and a UNIQUE ``(conversation_id, client_msg_id)`` (a resend is answered with the stored
  message, ``duplicate``); then ``ack`` to the sender and the ``message`` frame to every agent
  socket and the conversation's visitor, in Tresen's frame shapes (``realtime/protocol.py``), so
  ``bench/_clients.py`` drives both.

Run: ``python -m bench.reference_relay --port 8765 --db /tmp/floor.db``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

SCHEMA = """
CREATE TABLE IF NOT EXISTS visitors (
    id INTEGER PRIMARY KEY, anon_id TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, visitor_id INTEGER NOT NULL REFERENCES visitors(id),
    last_seq INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL, author_kind TEXT NOT NULL, author_id INTEGER NOT NULL,
    body TEXT NOT NULL, client_msg_id TEXT, created_at TEXT NOT NULL,
    UNIQUE (conversation_id, seq), UNIQUE (conversation_id, client_msg_id));
"""
MAX_BODY = 4000


class Relay:
    def __init__(self, db_path: str) -> None:
        self.db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(SCHEMA)
        self.agents: set[ServerConnection] = set()
        self.visitors: dict[int, ServerConnection] = {}

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path.split("?", 1)[0] if ws.request else ""
        if path == "/ws/visitor":
            now = _now()
            with self.db:
                vid = self.db.execute(
                    "INSERT INTO visitors (anon_id, created_at) VALUES (?, ?) RETURNING id",
                    (secrets.token_urlsafe(12), now),
                ).fetchone()[0]
            who = ("visitor", vid)
            self.visitors[vid] = ws
        elif path == "/ws/agent":
            who = ("agent", 1)
            self.agents.add(ws)
        else:
            await ws.close(4404, "not found")
            return
        await ws.send(
            _dump({"type": "welcome", "node": "floor", "principal": {"kind": who[0], "id": who[1]}})
        )
        try:
            async for raw in ws:
                await self.on_frame(ws, who, raw)
        finally:
            if who[0] == "visitor":
                self.visitors.pop(who[1], None)
            else:
                self.agents.discard(ws)

    async def on_frame(self, ws: ServerConnection, who: tuple[str, int], raw: str | bytes) -> None:
        try:
            data = json.loads(raw)
            if data.get("type") != "send":
                raise ValueError("unknown frame type")
            cmid, body, cid = data["client_msg_id"], data["body"], data.get("conversation_id")
            if not isinstance(cmid, str) or not isinstance(body, str) or len(body) > MAX_BODY:
                raise ValueError("bad send frame")
            ack, frame, visitor_id = self.store(who, cmid, body, cid)
        except (ValueError, KeyError, TypeError, sqlite3.Error, PermissionError) as exc:
            await ws.send(_dump({"type": "error", "code": "invalid_frame", "message": str(exc)}))
            return
        await ws.send(ack)
        if frame is not None:
            targets = [*self.agents]
            if (peer := self.visitors.get(visitor_id)) is not None:
                targets.append(peer)
            broadcast(targets, frame)

    def store(
        self, who: tuple[str, int], cmid: str, body: str, cid: int | None
    ) -> tuple[str, str | None, int]:
        """One transaction: the ack, the message frame (None for a resend), the visitor."""
        kind, author = who
        now = _now()
        with self.db:
            if cid is None:
                if kind != "visitor":
                    raise ValueError("agents answer in a conversation")
                cid = self.db.execute(
                    "INSERT INTO conversations (visitor_id, created_at, updated_at) "
                    "VALUES (?, ?, ?) RETURNING id",
                    (author, now, now),
                ).fetchone()[0]
            row = self.db.execute(
                "SELECT visitor_id FROM conversations WHERE id = ?", (cid,)
            ).fetchone()
            if row is None or (kind == "visitor" and row[0] != author):
                raise PermissionError("no such conversation")
            old = self.db.execute(
                "SELECT id, seq, author_kind, author_id FROM messages "
                "WHERE conversation_id = ? AND client_msg_id = ?",
                (cid, cmid),
            ).fetchone()
            if old is not None:
                if (old[2], old[3]) != who:
                    raise PermissionError("client_msg_id already used by someone else")
                return _ack(cmid, cid, old[1], old[0], True), None, row[0]
            seq = self.db.execute(
                "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? "
                "WHERE id = ? RETURNING last_seq",
                (now, cid),
            ).fetchone()[0]
            mid = self.db.execute(
                "INSERT INTO messages (conversation_id, seq, author_kind, author_id, body, "
                "client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (cid, seq, kind, author, body, cmid, now),
            ).fetchone()[0]
        frame = _dump(
            {
                "type": "message",
                "conversation_id": cid,
                "seq": seq,
                "id": mid,
                "author": {"kind": kind, "id": author, "name": None},
                "body": body,
                "internal": False,
                "client_msg_id": cmid,
                "created_at": now,
            }
        )
        return _ack(cmid, cid, seq, mid, False), frame, row[0]


def _ack(cmid: str, cid: int, seq: int, mid: int, duplicate: bool) -> str:
    return _dump(
        {
            "type": "ack",
            "client_msg_id": cmid,
            "conversation_id": cid,
            "seq": seq,
            "id": mid,
            "duplicate": duplicate,
        }
    )


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def main_async(host: str, port: int, db_path: str) -> None:
    relay = Relay(db_path)
    async with serve(
        relay.handler,
        host,
        port,
        ping_interval=None,
        compression=None,
        max_size=64 * 1024,
        max_queue=None,
    ) as server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench.reference_relay", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--db", required=True, help="SQLite database file (created)")
    a = p.parse_args(argv)
    try:  # as uvicorn does for Tresen (``loop="auto"``)
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(a.host, a.port, a.db))


if __name__ == "__main__":
    main()
