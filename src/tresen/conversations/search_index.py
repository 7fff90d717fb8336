"""SQLite's full-text index of messages (``messages_fts``), filled in batches.

A trigger per inserted message (as migration 0016 had it) made FTS5 write an index segment in
every send's transaction and, now and then, merge segments there: about a sixth of the CPU a
persisted message cost, and merges of tens of milliseconds in the send path (bench/README.md,
issue #17). Here the messages after ``message_search_position`` are added in one statement per
batch: every ``INDEX_SECONDS``, and before every search (``catch_up``), so a search still finds
every message committed before it. A batch is a work of the group commit (the loop's thread,
the write lock), so it never races a send or another batch. Deleting a message or changing its
body goes through the triggers of migration 0028 for indexed messages; a message not indexed yet
is simply read as it is when its batch comes. PostgreSQL indexes with a generated tsvector
column (GIN): nothing to do there.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, text

from tresen.aio import spawn
from tresen.runtime import Runtime
from tresen.scheduler import Repeating

log = logging.getLogger(__name__)
INDEX_SECONDS = 1.0
BATCH = 2000
_POSITION = text("SELECT last_message_id FROM message_search_position WHERE id = 1")
_NEXT = text(
    "SELECT COUNT(*), MAX(id) FROM (SELECT id FROM messages WHERE id > :after ORDER BY id LIMIT :n)"
)
_ADD = text(
    "INSERT INTO messages_fts(rowid, body) "
    "SELECT id, body FROM messages WHERE id > :after AND id <= :upto ORDER BY id"
)
_MOVE = text("UPDATE message_search_position SET last_message_id = :upto WHERE id = 1")


def index_batch(conn: Connection) -> int:
    """Add the next messages after the position (at most ``BATCH``) to the index and move the
    position past them, in the caller's transaction; how many were added."""
    after = conn.execute(_POSITION).scalar()
    if after is None:
        return 0
    count, upto = conn.execute(_NEXT, {"after": after, "n": BATCH}).one()
    if not count:
        return 0
    conn.execute(_ADD, {"after": after, "upto": upto})
    conn.execute(_MOVE, {"upto": upto})
    return int(count)


async def catch_up(rt: Runtime) -> int:
    """Index every message committed so far (SQLite; nothing on PostgreSQL)."""
    if not rt.db.is_sqlite:
        return 0
    done = 0
    while True:
        added = await rt.db.write_grouped(index_batch)
        done += added
        if added < BATCH:
            return done


class SearchIndexer:
    """Keeps the index a few seconds behind at most, in the background."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._loop: Repeating | None = None
        self._running = False

    def start(self) -> None:
        if self.rt.db.is_sqlite:
            self._loop = Repeating(self.rt.scheduler, self.rt.clock, INDEX_SECONDS, self._due)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()

    def _due(self) -> None:
        if not self._running:
            self._running = True
            spawn(self._pass(), name="search-index")

    async def _pass(self) -> None:
        try:
            await catch_up(self.rt)
        except Exception:
            log.exception("could not index new messages for search")
        finally:
            self._running = False
