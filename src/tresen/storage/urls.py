"""Database URLs: the async drivers picked for plain URLs, and PgBouncer's transaction mode."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PGBOUNCER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,  # asyncpg's own cache of prepared statements
    "prepared_statement_cache_size": 0,  # SQLAlchemy's asyncpg adapter's cache
    # The statements asyncpg still prepares get names no other client connection uses: a server
    # connection PgBouncer hands to another client may still hold them.
    "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4().hex}__",
}


def pgbouncer_option(url: str) -> tuple[str, bool]:
    """``?pgbouncer=true`` on a PostgreSQL URL: connections go through PgBouncer in transaction
    mode, so no prepared statement may outlive a transaction. Returns the URL without it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flags = [v for k, v in query if k == "pgbouncer"]
    if not flags:
        return url, False
    rest = urlencode([(k, v) for k, v in query if k != "pgbouncer"])
    return urlunsplit(parts._replace(query=rest)), flags[-1].lower() in ("1", "true", "yes", "on")


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async drivers."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and "+aiosqlite" not in url:
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url
