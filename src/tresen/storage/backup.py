"""Online backup of a SQLite database while the server runs (``tresen backup``).

SQLite's backup API copies the database page by page under its own locks: the copy is one
consistent snapshot, committed WAL frames included, and writers are only briefly held up between
steps. Copying the file with ``cp`` is not safe (the WAL and the main file would disagree).
PostgreSQL is backed up with ``pg_dump``; :func:`pg_dump_command` prints the line to run.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """The database is not a SQLite file (the message says what to do instead)."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases."""
    url = make_url(database_url)
    if not url.get_backend_name().startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:":
        raise BackupRefused("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def pg_dump_command(database_url: str) -> str:
    """The ``pg_dump`` line for a PostgreSQL URL (password left to PGPASSWORD or ~/.pgpass)."""
    url = make_url(database_url)
    parts = ["pg_dump", "--format=custom", "--file=tresen-$(date -u +%Y%m%dT%H%M%SZ).dump"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    parts.append(url.database or "tresen")
    return " ".join(parts)


def backup_sqlite(source: Path, target_dir: Path, *, now: datetime | None = None) -> Path:
    """Copy ``source`` into ``target_dir/<stem>-<UTC timestamp>.db``; returns the new file.

    Reads through a separate connection, so it works beside a running server. The copy is
    written to a ``.partial`` name and renamed once complete and checked."""
    if not source.is_file():
        raise BackupRefused(f"no database file at {source}")
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = target_dir / f"{source.stem}-{stamp}.db"
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(source, timeout=30)  # reads only; WAL needs a writable -shm
    try:
        dst = sqlite3.connect(partial)
        try:
            # Whole database in one step: a single read transaction, hence one snapshot even
            # while the server writes (step-wise copies restart when the source changes).
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            (result,) = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed its integrity check: {result}")
    partial.rename(target)
    return target
