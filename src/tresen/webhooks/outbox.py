"""Writing webhook deliveries in the transaction of the change they report.

``Database.before_commit`` calls ``WebhookOutbox.stage`` with the events recorded on a unit of
work, on its own connection, just before the commit: one ``webhook_deliveries`` row per event
and matching active subscription, with the exact body to send. The rows commit with the change
or not at all, so a crash after the commit still delivers (the worker's start sweep) and a
rolled-back change never does. Sync and Core only: it also runs in SQLite's grouped writes.

The active subscriptions are not read in every transaction: each node keeps them in memory
(``WebhookOutbox.targets``) and reads them again after a ``WebhookSubscriptionsChanged`` (this
node right after the commit, the others when it reaches them on the bus: ``wiring.wire_webhooks``)
and at least every ``TARGETS_SECONDS`` (in case a bus message was lost). A delivery row is
written only if its subscription exists and is active at that moment (``INSERT .. SELECT ..
WHERE EXISTS``), so a stale copy never writes a row for a subscription deleted or switched off
meanwhile.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, exists, insert, literal, select

from tresen.clock import Clock
from tresen.events import Event
from tresen.storage.models import Visitor, WebhookDelivery, WebhookSubscription
from tresen.webhooks.catalogue import event_data, kind_of, site_of

TARGETS_SECONDS = 30.0
"""The longest a node keeps its copy of the active subscriptions."""


@dataclass(frozen=True, slots=True)
class Target:
    id: int
    site_id: int | None
    event_types: frozenset[str]


class WebhookOutbox:
    def __init__(self, clock: Clock, retry_hours: float) -> None:
        self.clock = clock
        self.window = timedelta(hours=retry_hours)
        self.staged = 0  # rows written by this process (bench, tests)
        self.unsent = False  # rows staged since the worker last looked (``take_unsent``)
        self.reads = 0  # times the subscriptions were read from the database (tests)
        self.changes = 0  # changes announced to this node (tests)
        self._targets: list[Target] | None = None
        self._targets_until = float("-inf")
        self._generation = 0  # bumped by ``forget``: a read begun before it is not kept

    def forget(self, *_: object) -> None:
        """The subscriptions changed: read them again before the next deliveries are written."""
        self._generation += 1
        self.changes += 1
        self._targets = None

    def targets_cached(self) -> list[Target] | None:
        """The copy in memory (``None``: read at the next write)."""
        return self._targets

    def take_unsent(self) -> bool:
        """Whether rows were staged since the last call (the worker sweeps only then)."""
        unsent, self.unsent = self.unsent, False
        return unsent

    def targets(self, conn: Connection) -> list[Target]:
        """The active subscriptions: from memory, read on ``conn`` when unknown or too old."""
        now = self.clock.monotonic()
        if self._targets is not None and now < self._targets_until:
            return self._targets
        generation = self._generation
        targets = _active_targets(conn)
        self.reads += 1
        if generation == self._generation:  # no change was announced while it was read
            self._targets, self._targets_until = targets, now + TARGETS_SECONDS
        return targets

    def stage(self, conn: Connection, events: list[Any], *, durable: bool = True) -> None:
        """The ``before_commit`` hook; ``durable=False`` stages facts emitted from memory."""
        kinds = [(e, k) for e in events if (k := kind_of(e)) is not None and k.durable == durable]
        if not kinds:
            return
        targets = self.targets(conn)
        if not targets:
            return
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        for event, kind in kinds:
            wanted = [t for t in targets if kind.name in t.event_types]
            if not wanted:
                continue
            site_id = site_of(event) or _visitor_site(conn, event)
            matching = [t for t in wanted if t.site_id is None or t.site_id == site_id]
            if not matching:
                continue
            event_id, data = str(uuid.uuid4()), event_data(event)
            for target in matching:
                delivery_id = str(uuid.uuid4())
                body = {
                    "id": delivery_id,
                    "event_id": event_id,
                    "type": kind.name,
                    "created_at": now.isoformat(),
                    "site_id": site_id,
                    "data": data,
                }
                rows.append(
                    {
                        "subscription_id": target.id,
                        "delivery_id": delivery_id,
                        "event_type": kind.name,
                        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                        "next_attempt_at": now,
                        "give_up_at": now + self.window,
                        "created_at": now,
                    }
                )
        if rows:
            conn.execute(_INSERT_IF_ACTIVE, rows)
            self.staged += len(rows)
            self.unsent = True


def _active_targets(conn: Connection) -> list[Target]:
    rows = conn.execute(
        select(
            WebhookSubscription.id, WebhookSubscription.site_id, WebhookSubscription.event_types
        ).where(WebhookSubscription.active.is_(True))
    ).all()
    return [Target(r.id, r.site_id, frozenset(r.event_types or ())) for r in rows]


def _visitor_site(conn: Connection, event: Event) -> int | None:
    visitor_id = getattr(event, "visitor_id", None)
    if not isinstance(visitor_id, int):
        return None
    return conn.execute(select(Visitor.site_id).where(Visitor.id == visitor_id)).scalar()


_subs = cast(Table, WebhookSubscription.__table__).c
_rows = cast(Table, WebhookDelivery.__table__)


def _param(name: str) -> Any:
    return bindparam(name, type_=_rows.c[name].type)


# One row per matching subscription, written only if that subscription is (still) active.
_INSERT_IF_ACTIVE = insert(_rows).from_select(
    (
        "subscription_id",
        "delivery_id",
        "event_type",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "give_up_at",
        "created_at",
    ),
    select(
        _param("subscription_id"),
        _param("delivery_id"),
        _param("event_type"),
        _param("body"),
        literal("pending", _rows.c.status.type),
        literal(0, _rows.c.attempts.type),
        _param("next_attempt_at"),
        _param("give_up_at"),
        _param("created_at"),
    ).where(exists().where(_subs.id == _param("subscription_id"), _subs.active.is_(True))),
)
