"""SQLite's WAL checkpoints, off the event loop.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages: with
the group commit on the loop's thread, that COMMIT copied the WAL into the database file while
every socket waited (stalls of up to ~190 ms under load, issue #17). The serving connections
turn it off (``PRAGMA wal_autocheckpoint=0``) and a thread with its own connection checkpoints
instead: ``PASSIVE`` every ``interval`` seconds (sooner while the WAL is past ``threshold``
pages), which neither takes the write lock nor waits for readers; and ``TRUNCATE`` only once
the database has been idle and the WAL fully copied, with no busy wait, so the WAL file shrinks
back to nothing without ever holding a writer up. ``stop()`` ends with a last checkpoint.

A passive checkpoint never catches up with a writer that commits faster than it copies (and
fsyncs): the WAL only restarts from its first frame when a write begins with every frame
copied, so under sustained load it grew without end (900 MB in a 30 s ``bench.floor`` run; a
bare loop of inserts, 3.8 GB in 8 s). Once the WAL is past ``restart_pages`` and a round has
copied all it saw, the checkpointer asks its owner (``on_restart_due``) for a quiet moment: the
database holds its writes back (its async write lock; the loop keeps running) while
``catch_up()`` copies the few frames written meanwhile, so the next write starts the WAL
afresh, and ``journal_size_limit`` shrinks the file back to ``WAL_SIZE_LIMIT`` then.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

THRESHOLD_PAGES = 1000  # SQLite's own autocheckpoint default
INTERVAL = 1.0  # seconds between passive checkpoints
SOON = 0.05  # seconds to the next one while the WAL is still past the threshold
RESTART_PAGES = 16_384  # 64 MiB of 4 KiB pages: past it, writes pause once for the WAL to restart
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # ``journal_size_limit`` of the serving connections (bytes)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One checkpoint's outcome, as SQLite reports it."""

    mode: str
    busy: bool  # could not finish (a reader on an older snapshot, or a writer, for TRUNCATE)
    wal_pages: int  # frames in the WAL (-1: not in WAL mode)
    copied: int  # frames copied into the database file


class WalCheckpointer:
    """Checkpoints one SQLite file's WAL from a thread of its own. The WAL is only truncated
    after a round in which no other connection committed (SQLite's ``data_version``).
    ``tick()`` is one round, for tests to call."""

    def __init__(
        self,
        path: str,
        *,
        interval: float = INTERVAL,
        threshold: int = THRESHOLD_PAGES,
        restart_pages: int = RESTART_PAGES,
    ) -> None:
        self.path = path
        self.interval, self.threshold, self.restart_pages = interval, threshold, restart_pages
        # Called (from the checkpointer's thread) when the WAL should restart: the owner holds
        # its writes back and calls ``catch_up()`` meanwhile. Must not block.
        self.on_restart_due: Callable[[], None] | None = None
        self._restart_asked = False
        self._conn: sqlite3.Connection | None = None
        self._conn_lock = threading.Lock()  # the thread and a test's tick() share the connection
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._seen = -1  # the activity number at the last tick

    def start(self) -> bool:
        """Start the thread (once; later calls do nothing). False once stopped: a connection
        opened after ``stop()`` keeps SQLite's own automatic checkpoint."""
        with self._conn_lock:
            if self._stopping.is_set():
                return False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tresen-wal-checkpoint", daemon=True
                )
                self._thread.start()
            return True

    def stop(self) -> None:
        """Stop the thread and checkpoint what is left (blocking: call it off the loop)."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._conn_lock:
            if self._conn is not None:
                try:
                    self._checkpoint("TRUNCATE")
                except sqlite3.Error:
                    log.exception("final WAL checkpoint failed")
                self._conn.close()
                self._conn = None

    def tick(self) -> Checkpoint:
        """One round: a passive checkpoint; then, if nothing committed since the last round and
        the WAL is fully copied, a truncating one (which gives up at once if anyone is busy)."""
        with self._conn_lock:
            done = self._checkpoint("PASSIVE")
            seen, self._seen = self._seen, self._data_version()
            if seen == self._seen and not done.busy and done.copied == done.wal_pages > 0:
                return self._checkpoint("TRUNCATE")
        if not done.busy and done.copied == done.wal_pages > self.restart_pages:
            self._ask_for_restart()
        return done

    def catch_up(self) -> Checkpoint:
        """Copy what the last round left, while the owner holds its writes back (blocking: call
        it off the loop). With every frame copied, the next write restarts the WAL."""
        with self._conn_lock:
            try:
                if self._stopping.is_set():  # stop() checkpointed it all and closed up
                    return Checkpoint("PASSIVE", busy=False, wal_pages=0, copied=0)
                return self._checkpoint("PASSIVE")
            finally:
                self._restart_asked = False

    def _ask_for_restart(self) -> None:
        ask = self.on_restart_due
        if ask is None or self._restart_asked:
            return
        self._restart_asked = True
        try:
            ask()
        except Exception:  # the owner's loop is gone: nothing holds writes back any more
            self._restart_asked = False
            log.exception("could not ask for a WAL restart")

    def _run(self) -> None:
        wait = self.interval
        while not self._stopping.wait(wait):
            try:
                done = self.tick()
            except sqlite3.Error:
                log.exception("WAL checkpoint failed")
                wait = self.interval
                continue
            wait = SOON if done.wal_pages - done.copied > self.threshold else self.interval

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # No busy wait: a checkpoint that would have to wait gives up and is tried again.
            self._conn = sqlite3.connect(self.path, timeout=0, check_same_thread=False)
            self._conn.isolation_level = None
        return self._conn

    def _data_version(self) -> int:
        (version,) = self._connection().execute("PRAGMA data_version").fetchone()
        return int(version)

    def _checkpoint(self, mode: str) -> Checkpoint:
        row = self._connection().execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        busy, pages, copied = row
        return Checkpoint(mode, bool(busy), int(pages), int(copied))
