"""Leases. Claiming outbox rows: the one mechanism behind every durable queue, worked by
``leased_queue.py`` (channel deliveries in ``channels/outbox.py``, webhooks in
``webhooks/worker.py``, summary mails in ``digest/worker.py``).

A row is ``pending`` with a ``next_attempt_at``, or ``sending`` with a ``lease_until``. A
worker claims it with ``UPDATE .. WHERE id = :id AND <claimable>``: only one worker of any node
wins (the row lock on PostgreSQL, the single writer on SQLite); one that dies leaves the lease
to run out, and the row becomes claimable again.

``backoff_seconds``/``settle_failure``: a failed attempt waits, doubling, or gives up.

``hold``/``let_go``: one holder of one row for a while (the node that reads a mailbox over
IMAP, ``channels/imap.py``), renewed while it works, taken over when it runs out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select, update

from tresen.storage.db import Database

M = TypeVar("M")

MAX_BACKOFF_SECONDS = 3600.0


def backoff_seconds(base: float, attempts: int) -> float:
    """Wait after attempt ``attempts`` failed: base, 2 base, 4 base, ... at most an hour."""
    return float(min(base * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS))


def settle_failure(
    row: Any, error: str, *, give_up: bool, retry_seconds: float, now: datetime
) -> None:
    """A claimed row's attempt failed: let the lease go, keep the error, and either give up
    (``failed``) or wait the backoff for the next attempt (``pending``)."""
    row.last_error, row.lease_until = error[:2000], None
    row.status = "failed" if give_up else "pending"
    if not give_up:
        row.next_attempt_at = now + timedelta(seconds=backoff_seconds(retry_seconds, row.attempts))


def claimable(model: Any, now: datetime) -> ColumnElement[bool]:
    """Due and waiting, or claimed by a worker whose lease ran out."""
    return or_(
        and_(model.status == "pending", model.next_attempt_at <= now),
        and_(model.status == "sending", model.lease_until < now),
    )


async def due_ids(db: Database, model: Any, now: datetime, limit: int) -> list[int]:
    """Ids of claimable rows, oldest first."""
    async with db.read() as s:
        query = select(model.id).where(claimable(model, now)).order_by(model.id).limit(limit)
        return list((await s.execute(query)).scalars())


async def claim(
    db: Database, model: type[M], ids: list[int], now: datetime, lease_seconds: float
) -> list[M]:
    """Claim the rows of ``ids`` that are still claimable (one transaction): each becomes
    ``sending`` with its attempt counted and a lease. Returns the rows this worker won."""
    won: list[M] = []
    if not ids:
        return won
    table: Any = model
    async with db.write() as s:
        for item_id in ids:
            result = await s.execute(
                update(table)
                .where(table.id == item_id, claimable(table, now))
                .values(
                    status="sending",
                    attempts=table.attempts + 1,
                    lease_until=now + timedelta(seconds=lease_seconds),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                row = await s.get(model, item_id)
                if row is not None:
                    won.append(row)
    return won


async def hold(
    db: Database,
    model: Any,
    where: ColumnElement[bool],
    holder: str,
    now: datetime,
    lease_seconds: float,
    *,
    holder_column: str,
    until_column: str,
) -> bool:
    """Take or renew a lease on the one row ``where`` names (a mailbox's reader): won when
    nobody holds it, ``holder`` already does, or the holder's lease ran out (it died). One
    ``UPDATE``, so of two nodes trying at once only one wins."""
    table: Any = model
    held_by, until = getattr(table, holder_column), getattr(table, until_column)
    async with db.write() as s:
        result = await s.execute(
            update(table)
            .where(where, or_(held_by.is_(None), held_by == holder, until.is_(None), until < now))
            .values({holder_column: holder, until_column: now + timedelta(seconds=lease_seconds)})
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def let_go(
    db: Database,
    model: Any,
    where: ColumnElement[bool],
    holder: str,
    *,
    holder_column: str,
    until_column: str,
) -> None:
    """Give a lease up (a clean stop): another node may take it at once."""
    table: Any = model
    async with db.write() as s:
        await s.execute(
            update(table)
            .where(where, getattr(table, holder_column) == holder)
            .values({holder_column: None, until_column: None})
            .execution_options(synchronize_session=False)
        )
