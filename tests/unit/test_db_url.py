"""The database URL's ``pgbouncer`` option: taken off the URL, it turns the driver's prepared
statement caches off (PgBouncer in transaction mode)."""

from __future__ import annotations

from tresen.storage.db import Database
from tresen.storage.urls import PGBOUNCER_CONNECT_ARGS, pgbouncer_option


def test_the_option_is_read_and_removed() -> None:
    url = "postgresql+asyncpg://u:p%40x@pgb:6432/tresen?pgbouncer=true&ssl=require"
    assert pgbouncer_option(url) == (
        "postgresql+asyncpg://u:p%40x@pgb:6432/tresen?ssl=require",
        True,
    )
    assert pgbouncer_option("postgresql+asyncpg://h/db?pgbouncer=0") == (
        "postgresql+asyncpg://h/db",
        False,
    )
    plain = "postgresql+asyncpg://h/db?ssl=require"
    assert pgbouncer_option(plain) == (plain, False)


async def test_the_engine_gets_the_driver_settings() -> None:
    db = Database("postgresql://tresen@127.0.0.1:6432/tresen?pgbouncer=true")
    try:
        assert db.url == "postgresql+asyncpg://tresen@127.0.0.1:6432/tresen"
        assert PGBOUNCER_CONNECT_ARGS["statement_cache_size"] == 0
        assert PGBOUNCER_CONNECT_ARGS["prepared_statement_cache_size"] == 0
        names = {PGBOUNCER_CONNECT_ARGS["prepared_statement_name_func"]() for _ in range(3)}
        assert len(names) == 3  # never the same name twice
    finally:
        await db.dispose()
