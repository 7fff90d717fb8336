"""The copy of the active webhook subscriptions a node keeps (``WebhookOutbox.targets``): read
once, kept until a change is announced or it is too old, and never kept when a change was
announced while it was being read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, event, insert

from tresen.clock import ManualClock
from tresen.storage.models import Base, WebhookSubscription
from tresen.webhooks.outbox import TARGETS_SECONDS, WebhookOutbox


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection
    engine.dispose()


def add_subscription(conn: Connection, clock: ManualClock) -> int:
    now = clock.now()
    row = {
        "name": "CRM",
        "url": "https://crm.example/hook",
        "event_types": ["message.created"],
        "secret_enc": "x",
        "active": True,
        "allow_private": False,
        "created_at": now,
        "updated_at": now,
    }
    return int(
        conn.execute(
            insert(WebhookSubscription).returning(WebhookSubscription.id), row
        ).scalar_one()
    )


def test_kept_until_a_change_is_announced_or_it_is_too_old(conn: Connection) -> None:
    clock = ManualClock()
    outbox = WebhookOutbox(clock, retry_hours=24)
    assert outbox.targets(conn) == [] and outbox.reads == 1
    sub_id = add_subscription(conn, clock)
    assert outbox.targets(conn) == []  # not announced: the copy stands
    assert outbox.reads == 1
    outbox.forget()
    assert [t.id for t in outbox.targets(conn)] == [sub_id] and outbox.reads == 2
    clock.advance(TARGETS_SECONDS + 1)
    outbox.targets(conn)
    assert outbox.reads == 3  # too old: read again


def test_a_change_announced_while_reading_is_not_lost(conn: Connection) -> None:
    clock = ManualClock()
    outbox = WebhookOutbox(clock, retry_hours=24)

    def announce(*_: Any) -> None:
        outbox.forget()  # as if another node's change arrived during the read

    event.listen(conn, "after_execute", announce)
    assert outbox.targets(conn) == []
    event.remove(conn, "after_execute", announce)
    assert outbox.targets_cached() is None  # the next write reads them again
    outbox.targets(conn)
    assert outbox.targets_cached() == []
