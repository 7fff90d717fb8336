"""Engine and sessions: SQLite in WAL mode with one writer at a time, or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tresen.aio import spawn
from tresen.storage.checkpoint import WAL_SIZE_LIMIT, WalCheckpointer
from tresen.storage.urls import PGBOUNCER_CONNECT_ARGS, normalize_url, pgbouncer_option

T = TypeVar("T")
GroupWork = Callable[[Connection], Any]
MAX_GROUP = 256
MAX_READS = 64
GATHER_TURNS = 3
"""A group commit waits up to this many turns of the loop while writes keep joining it. Sockets
opened in a storm reach their write a turn or two apart: committed at once, a group held about
two writes and its BEGIN IMMEDIATE and COMMIT were a quarter of the storm's CPU; gathered, it
holds eight or so (bench.floor's connect phase, 3,000 new visitors: CPU per group commit and
server CPU down; sends at saturation unchanged: their groups were full already). A lone write
waits one turn."""
OnCommit = Callable[[list[Any]], None]
"""Called with the events recorded on a unit of work (``session.info["events"]``) right after it
committed; never for a rolled-back one. The app sets it to the event dispatcher."""
BeforeCommit = Callable[[Connection, list[Any]], None]
"""Called (sync, on the transaction's connection) with the events recorded on a unit of work
just before it commits: what it writes commits or rolls back with the change."""


def _settle(
    batch: list[tuple[GroupWork, asyncio.Future[Any]]], outcomes: list[tuple[bool, Any]]
) -> None:
    """Each queued caller gets its work's result or error (unless it stopped waiting)."""
    for (_, fut), (ok, value) in zip(batch, outcomes, strict=True):
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


class Database:
    """Owns the engine. ``read()`` and ``write()`` hand out sessions; ``write()`` commits, then
    hands the events recorded on it to ``on_commit``."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.on_commit: OnCommit | None = None
        # Runs inside the transaction, just before it commits, with the events recorded on it:
        # rows that must commit with the change (the webhook outbox) are written here.
        self.before_commit: BeforeCommit | None = None
        self.url, behind_pgbouncer = pgbouncer_option(normalize_url(url))
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        if behind_pgbouncer:
            kwargs["connect_args"] = PGBOUNCER_CONNECT_ARGS
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # SQLite's WAL is checkpointed by a thread of its own, not in a COMMIT on the loop.
        self.checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            path = make_url(self.url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                self.checkpointer = WalCheckpointer(path)
            _configure_sqlite_sync(self.engine.sync_engine, self.checkpointer)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        write_engine = self._write_engine = self.engine.execution_options(tresen_write=True)
        self._write_sessions = async_sessionmaker(write_engine, expire_on_commit=False)
        # SQLite allows one writer; queueing writers here is cheaper than busy-waiting on locks.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Group commit (SQLite): concurrent small writes share one transaction on a sync
        # connection in one thread, so a batch costs one thread hop instead of one per statement.
        # The batch runs on the event loop's own thread by default: a batch is a few
        # milliseconds of SQLite work at most (MAX_GROUP sends), while a hop to a thread and back
        # waits for the OS to schedule both, which on a busy machine costs more than the work
        # (bench.floor, issue #17). Nothing else in this process writes meanwhile (the write
        # lock), and WAL readers never block a writer, so the loop does not wait on a lock.
        self.group_in_thread = False
        self._sync_engine: Engine | None = None
        self._group_conn: Connection | None = None
        self._read_conn: Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._group: list[tuple[GroupWork, asyncio.Future[Any]]] = []
        self._group_task: asyncio.Task[None] | None = None
        self._read_engine: Engine | None = None
        self._reads: list[tuple[GroupWork, asyncio.Future[Any]]] = []
        self._reads_task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on error. Events
        recorded on the session go to ``on_commit`` after the commit, and only then."""
        if self._write_lock is None:
            async with self._write_sessions() as session:
                async with session.begin():
                    yield session
                    await self._before_commit(session)
                self._committed(session.info.pop("events", None))
            return
        async with self._write_sessions() as session:
            async with self._write_lock, session.begin():
                yield session
                await self._before_commit(session)
            self._committed(session.info.pop("events", None))

    async def _before_commit(self, session: AsyncSession) -> None:
        events, hook = session.info.get("events"), self.before_commit
        if events and hook is not None:
            await session.run_sync(lambda sync: hook(sync.connection(), list(events)))

    def _committed(self, events: list[Any] | None) -> None:
        if events and self.on_commit is not None:
            self.on_commit(events)

    async def write_sync(self, work: Callable[[Connection], T]) -> T:
        """PostgreSQL's lean write: ``work`` (sync, Core statements, as for ``write_grouped``)
        in a transaction of its own, run in one go on the async driver (one hop into
        SQLAlchemy's sync layer, not one per statement). Events recorded on the connection
        (``record(conn, ...)``) get ``before_commit`` inside it and ``on_commit`` after it."""
        async with self._write_engine.connect() as aconn:
            result, events = await aconn.run_sync(self._run_one, work)
        self._committed(events)
        return result

    def _run_one(self, conn: Connection, work: Callable[[Connection], T]) -> tuple[T, list[Any]]:
        events: list[Any] = []
        conn.info["events"] = events  # the pooled connection's info: cleared again below
        try:
            with conn.begin():
                result = work(conn)
                if events and self.before_commit is not None:
                    self.before_commit(conn, list(events))
        finally:
            conn.info.pop("events", None)
        return result, events

    async def write_grouped(self, work: Callable[[Connection], T]) -> T:
        """SQLite only: run ``work`` (sync, Core statements) in a transaction shared with the
        writes queued meanwhile, each inside its own SAVEPOINT. Returns once that transaction
        committed; an error in ``work`` rolls back only its own savepoint and is raised here."""
        assert self._write_lock is not None, "group commit is for SQLite"
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._group.append((work, fut))
        if self._group_task is None:
            self._group_task = asyncio.create_task(self._flush_groups())
        return await fut

    async def _flush_groups(self) -> None:
        assert self._write_lock is not None
        loop = asyncio.get_running_loop()
        try:
            for _ in range(GATHER_TURNS):  # while the group still grows, let it
                queued = len(self._group)
                await asyncio.sleep(0)
                if len(self._group) == queued:
                    break
            while self._group:
                batch, self._group = self._group[:MAX_GROUP], self._group[MAX_GROUP:]
                if self.checkpointer is not None and self.checkpointer.on_restart_due is None:
                    self._hold_writes_for_restarts(loop, self.checkpointer)
                events: list[Any] = []
                works = [w for w, _ in batch]
                try:
                    async with self._write_lock:
                        if self.group_in_thread:
                            outcomes, events = await loop.run_in_executor(
                                self._group_executor(), self._run_group, works
                            )
                        else:
                            self._group_engine()
                            outcomes, events = self._run_group(works)
                except Exception as exc:  # the commit failed: nobody's write happened
                    outcomes = [(False, exc)] * len(batch)
                self._committed(events)  # before the writers resume: frames before acks
                _settle(batch, outcomes)
        finally:
            self._group_task = None

    def _hold_writes_for_restarts(
        self, loop: asyncio.AbstractEventLoop, checkpointer: WalCheckpointer
    ) -> None:
        """The checkpointer may ask (from its thread) for a moment without writes, in which its
        ``catch_up()`` lets the WAL restart (``storage/checkpoint.py``)."""

        async def restart() -> None:
            assert self._write_lock is not None
            async with self._write_lock:  # writes queue meanwhile; the loop runs on
                await asyncio.to_thread(checkpointer.catch_up)

        def ask() -> None:  # from the checkpointer's thread
            loop.call_soon_threadsafe(lambda: spawn(restart(), name="wal-restart"))

        checkpointer.on_restart_due = ask

    async def read_grouped(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (sync, Core statements, no writes) in a read transaction shared with the
        reads queued meanwhile: a storm of socket opens and resumes costs one connection and one
        transaction per batch instead of a session and a thread hop per statement. On SQLite
        the batch runs on the loop's own thread (reads of a few rows by key: less than the hop
        to a thread and back costs); on PostgreSQL on one pooled connection. An error in
        ``work`` is raised here and leaves the batch's other reads alone."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._reads.append((work, fut))
        if self._reads_task is None:
            self._reads_task = asyncio.create_task(self._flush_reads())
        return await fut

    async def _flush_reads(self) -> None:
        try:
            while self._reads:
                batch, self._reads = self._reads[:MAX_READS], self._reads[MAX_READS:]
                works = [w for w, _ in batch]
                try:
                    if self.is_sqlite:
                        outcomes = self._run_reads_on(self._read_connection(), works)
                    else:
                        async with self.engine.connect() as conn:
                            outcomes = await conn.run_sync(self._run_reads_on, works)
                except Exception as exc:  # no connection, or the transaction failed
                    outcomes = [(False, exc)] * len(batch)
                _settle(batch, outcomes)
                if self._reads:
                    await asyncio.sleep(0)  # a large storm: let the loop breathe between batches
        finally:
            self._reads_task = None

    def _read_connection(self) -> Connection:
        """SQLite's grouped reads: one connection kept open (a pool checkout and its reset on
        return cost more than a batch of small reads)."""
        conn = self._read_conn
        if conn is None or conn.closed or conn.invalidated:
            if self._read_engine is None:
                self._read_engine = create_engine(self.url.replace("+aiosqlite", "", 1))
                _configure_sqlite_sync(self._read_engine, self.checkpointer)
            conn = self._read_conn = self._read_engine.connect()
        return conn

    def _run_reads_on(self, conn: Connection, works: list[GroupWork]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        try:
            for work in works:
                try:
                    outcomes.append((True, work(conn)))
                except DBAPIError as exc:  # PostgreSQL: the transaction is void; start anew
                    conn.rollback()
                    outcomes.append((False, exc))
                except Exception as exc:
                    outcomes.append((False, exc))
        finally:
            conn.rollback()  # nothing was written: ending the read is all there is to do
        return outcomes

    def _group_executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="tresen-group-commit")
            self._group_engine()
        return self._executor

    def _group_engine(self) -> None:
        if self._sync_engine is None:
            engine = create_engine(self.url.replace("+aiosqlite", "", 1))
            _configure_sqlite_sync(engine, self.checkpointer)
            self._sync_engine = engine.execution_options(tresen_write=True)

    def _run_group(self, works: list[GroupWork]) -> tuple[list[tuple[bool, Any]], list[Any]]:
        """Outcomes per work, and the events of the works whose savepoint held."""
        assert self._sync_engine is not None
        outcomes: list[tuple[bool, Any]] = []
        events: list[Any] = []
        # One connection kept open for the group commits (a pool checkout per group cost as
        # much as its BEGIN); a group that failed as a whole starts the next on a fresh one.
        conn = self._group_conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._group_conn = self._sync_engine.connect()
        ok = False
        try:
            # Savepoints straight on the driver's cursor: SQLAlchemy's nested transactions cost
            # more than the statements of a send (profiled under bench.floor).
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                with conn.begin():
                    for work in works:
                        pending = conn.info["events"] = []
                        cursor.execute("SAVEPOINT grouped")
                        try:
                            outcomes.append((True, work(conn)))
                            if pending and self.before_commit is not None:
                                self.before_commit(conn, list(pending))
                            cursor.execute("RELEASE grouped")
                            events.extend(pending)
                        except Exception as exc:
                            cursor.execute("ROLLBACK TO grouped")
                            cursor.execute("RELEASE grouped")
                            outcomes.append((False, exc))
            finally:
                cursor.close()
                conn.info.pop("events", None)
            ok = True
        finally:
            if not ok:
                self._group_conn = None
                conn.close()
        return outcomes, events

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        if self.checkpointer is not None:  # a last checkpoint, then the serving connections go
            await asyncio.to_thread(self.checkpointer.stop)
        await self.engine.dispose()
        if self._read_conn is not None:
            self._read_conn.close()
            self._read_conn = None
        if self._read_engine is not None:
            self._read_engine.dispose()
            self._read_engine = None
        if self._executor is not None:
            if self._sync_engine is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._close_group_engine
                )
            self._executor.shutdown(wait=True)
            self._executor = None
        else:
            self._close_group_engine()

    def _close_group_engine(self) -> None:
        if self._group_conn is not None:
            self._group_conn.close()
            self._group_conn = None
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None


def _configure_sqlite_sync(sync_engine: Engine, checkpointer: WalCheckpointer | None) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions are not reliable).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if checkpointer is not None and checkpointer.start():
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # not in a COMMIT: in its own thread
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")  # when it restarts
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front, so a read never has to upgrade and fail.
        immediate = conn.get_execution_options().get("tresen_write", False)
        # On the driver's cursor: through ``exec_driver_sql`` a BEGIN cost more than the
        # group commit's statements (bench.floor's connect phase).
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        finally:
            cursor.close()
