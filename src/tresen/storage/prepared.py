"""A Core statement compiled once and run straight on the DBAPI connection (SQLite's hot path).

SQLAlchemy's execution layer (cache key, execution context, result metadata) costs more than the
SQLite work of a small statement, measured under ``bench.floor`` (issue #17). ``Prepared``
compiles the statement once for the dialect, keeps the column types' own bind and result
processors (so values are stored and read back exactly as the ORM and Core do: timestamps,
JSON, booleans), and runs it on the driver's connection. Errors of the driver are raised as
SQLAlchemy's (``IntegrityError`` for a UNIQUE violation), like a Core execution would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, bindparam, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable


class Prepared:
    def __init__(
        self, statement: Executable, dialect: Dialect, columns: Sequence[ColumnElement[Any]] = ()
    ) -> None:
        """``columns``: what the statement returns (``RETURNING`` or the SELECT list), in order."""
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        assert compiled.positiontup is not None, "a positional paramstyle (SQLite's qmark)"
        self.sql: str = compiled.string
        self._compiled = compiled
        self._binds: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup
        ]
        self.names = [str(c.key) for c in columns]
        self._results = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]

    def _params(self, params: Mapping[str, Any]) -> list[Any]:
        values = self._compiled.construct_params(params)  # fills in literals (``last_seq + 1``)
        out = []
        for name, process in self._binds:
            value = values[name]
            out.append(process(value) if process is not None and value is not None else value)
        return out

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Runs on ``conn``'s driver connection (inside its transaction); the rows as dicts."""
        args = self._params(params)
        driver = conn.connection.driver_connection
        try:
            found = driver.execute(self.sql, args).fetchall()  # type: ignore[union-attr]
        except driver.IntegrityError as error:  # type: ignore[union-attr]
            raise exc.IntegrityError(self.sql, args, error) from error
        except driver.Error as error:  # type: ignore[union-attr]
            raise exc.DBAPIError.instance(self.sql, args, error, driver.Error) from error  # type: ignore[union-attr]
        names, results = self.names, self._results
        return [
            {
                name: process(value) if process is not None else value
                for name, process, value in zip(names, results, row, strict=True)
            }
            for row in found
        ]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None


class OnDialect:
    """A statement ``Prepared`` on first use for the connection's dialect (kept for the last
    dialect seen: one per process in production; tests with several engines recompile).
    ``rows``/``first`` run it prepared on SQLite and as a Core execution elsewhere."""

    def __init__(self, statement: Executable, columns: Sequence[ColumnElement[Any]] = ()) -> None:
        self._statement = statement
        self._columns = tuple(columns)
        self._dialect: Dialect | None = None
        self._prepared: Prepared | None = None

    def _on(self, conn: Connection) -> Prepared:
        dialect = conn.dialect
        prepared = self._prepared
        if prepared is None or self._dialect is not dialect:
            prepared = self._prepared = Prepared(self._statement, dialect, self._columns)
            self._dialect = dialect
        return prepared

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        if conn.dialect.name == "sqlite":
            return self._on(conn).rows(conn, params)
        return [dict(row) for row in conn.execute(self._statement, params).mappings()]  # type: ignore[call-overload]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None


def binds(names: Sequence[str]) -> dict[str, BindParameter[Any]]:
    """``insert(table).values(binds(names))``: a parameter per column, named like it (the
    column gives its type), so a prepared INSERT has a fixed column list."""
    return {name: bindparam(name) for name in names}
