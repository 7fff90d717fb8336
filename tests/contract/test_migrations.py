"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Base


# SQLite cannot reflect the expression index on lower(visitors.email) (0008_email); the tables and
# columns are still compared.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_migrations_match_the_models(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = create_async_engine(database_url)

    def diff(conn: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))

    try:
        async with engine.connect() as conn:
            changes = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    tables = [
        c
        for c in changes
        if c[0] in ("add_table", "remove_table", "add_column") and not _full_text(c)
    ]
    assert tables == [], tables


def _full_text(change: tuple[Any, ...]) -> bool:
    """SQLite's FTS5 table over messages and its shadow tables (0016_inbox) are not models: the
    search query names them itself (conversations/search.py)."""
    return change[0] == "remove_table" and change[1].name.startswith("messages_fts")
