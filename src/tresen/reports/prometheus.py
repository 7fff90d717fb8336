"""Prometheus ``/metrics``, behind a bearer token (``TRESEN_METRICS_TOKEN``; unset: off).

Counters are fed by listeners on the event spine; gauges that describe the present (queue
length and oldest wait per skill, sockets, bus and database health) are read at scrape time.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select

from tresen.errors import NotFound, Unauthorized
from tresen.events import Event, MessageCreated, OfferAccepted, OfferDismissed, OfferShown
from tresen.runtime import Runtime
from tresen.storage.models import Conversation

router = APIRouter(tags=["metrics"])
OUTCOMES = {OfferShown: "shown", OfferAccepted: "accepted", OfferDismissed: "dismissed"}


class Telemetry:
    """One registry per app (several apps may live in one test process)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._routing_max = 0.0
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.messages = Counter("tresen_messages", "Messages stored", ["author"], registry=r)
        self._messages_by_author: dict[str, Any] = {}
        self.delivery = Histogram(
            "tresen_delivery_seconds",
            "From a message's creation to its frames handed to the bus (after the commit)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.offers = Counter("tresen_offers", "Invitations by outcome", ["outcome"], registry=r)
        self.sockets = Gauge("tresen_sockets", "Open WebSockets", ["kind"], registry=r)
        self.queue = Gauge("tresen_queue_length", "Chats waiting", ["skill"], registry=r)
        self.oldest = Gauge(
            "tresen_queue_oldest_wait_seconds", "Longest current wait", ["skill"], registry=r
        )
        self.up = Gauge("tresen_up", "Backend reachable (1) or not (0)", ["backend"], registry=r)
        self.routing_lock = Histogram(
            "tresen_routing_lock_seconds",
            "How long each routing pass held the write transaction (SQLite: the write lock)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.routing_lock_max = Gauge(
            "tresen_routing_lock_max_seconds",
            "The longest write-transaction hold of a routing pass since the server started",
            registry=r,
        )
        self.listener = Gauge(
            "tresen_listener_events",
            "Events per listener by outcome",
            ["listener", "outcome"],
            registry=r,
        )

    def on_message(self, event: MessageCreated) -> None:
        by_author = self._messages_by_author.get(event.author_kind)
        if by_author is None:  # a labelled child looked up once per author kind, not per message
            by_author = self._messages_by_author[event.author_kind] = self.messages.labels(
                event.author_kind
            )
        by_author.inc()
        lag = (self.rt.clock.now() - event.created_at).total_seconds()
        self.delivery.observe(max(0.0, lag))

    def on_offer(self, event: Event) -> None:
        self.offers.labels(OUTCOMES.get(type(event), "ignored")).inc()

    async def scrape(self, gateway: Any) -> bytes:
        kinds: dict[str, int] = {"visitor": 0, "agent": 0}
        for conn in gateway.connections:
            kinds[conn.who.kind] = kinds.get(conn.who.kind, 0) + 1
        for kind, n in kinds.items():
            self.sockets.labels(kind).set(n)
        await self._queue()
        self._routing()
        self.up.labels("database").set(int(await self.rt.db.ping()))
        self.up.labels("bus").set(int(await self.rt.bus.ping()))
        for name, stats in self.rt.events.stats().items():
            for outcome in ("handled", "failed", "dropped", "timed_out"):
                self.listener.labels(name, outcome).set(getattr(stats, outcome))
        return generate_latest(self.registry)

    def _routing(self) -> None:
        routing = getattr(self.rt, "routing", None)
        held = getattr(routing, "held", None)
        while held:
            seconds = held.popleft()
            self.routing_lock.observe(seconds)
            if seconds > self._routing_max:
                self._routing_max = seconds
                self.routing_lock_max.set(seconds)

    async def _queue(self) -> None:
        now = self.rt.clock.now()
        stmt = (
            select(Conversation.skill, func.count(), func.min(Conversation.queued_at))
            .where(
                Conversation.status == "open",
                Conversation.queued_at.is_not(None),
                Conversation.assignee_id.is_(None),
                Conversation.offered_to.is_(None),
            )
            .group_by(Conversation.skill)
        )
        self.queue.clear()
        self.oldest.clear()
        async with self.rt.db.read() as s:
            for skill, count, oldest in (await s.execute(stmt)).all():
                label = skill or ""
                self.queue.labels(label).set(count)
                self.oldest.labels(label).set((now - oldest).total_seconds() if oldest else 0)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    rt: Runtime = request.app.state.rt
    token = rt.settings.metrics_token
    if not token:
        raise NotFound("metrics are off: set TRESEN_METRICS_TOKEN", code="not_found")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Unauthorized("a bearer token is required", code="bad_token")
    body = await request.app.state.telemetry.scrape(request.app.state.gateway)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
