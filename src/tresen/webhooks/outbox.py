"""Writing webhook deliveries in the transaction of the change they report.

``Database.before_commit`` calls ``WebhookOutbox.stage`` with the events recorded on a unit of
work, on its own connection, just before the commit: one ``webhook_deliveries`` row per event
and matching active subscription, with the exact body to send. The rows commit with the change
or not at all, so a crash after the commit still delivers (the worker's start sweep) and a
rolled-back change never does. Sync and Core only: it also runs in SQLite's grouped writes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from tresen.clock import Clock
from tresen.events import Event
from tresen.storage.models import Visitor, WebhookDelivery, WebhookSubscription
from tresen.webhooks.catalogue import event_data, kind_of, site_of


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

    def stage(self, conn: Connection, events: list[Any], *, durable: bool = True) -> None:
        """The ``before_commit`` hook; ``durable=False`` stages facts emitted from memory."""
        kinds = [(e, k) for e in events if (k := kind_of(e)) is not None and k.durable == durable]
        if not kinds:
            return
        targets = _active_targets(conn)
        if not targets:
            return
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        for event, kind in kinds:
            site_id = site_of(event) or _visitor_site(conn, event)
            matching = [
                t
                for t in targets
                if kind.name in t.event_types and (t.site_id is None or t.site_id == site_id)
            ]
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
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "give_up_at": now + self.window,
                        "created_at": now,
                    }
                )
        if rows:
            conn.execute(insert(WebhookDelivery), rows)
            self.staged += len(rows)


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
