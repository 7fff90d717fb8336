"""Delivering webhook deliveries from the outbox (``webhooks/outbox.py`` writes them with the
change). The sweeps, claims and timers are ``leased_queue.py``'s, as the channel outbox's
are, so two workers (nodes) never send the same row at the same time.

- At once: a ``now`` listener on every catalogued event kicks a sweep after the commit.
- Retries: a failed attempt (network error, timeout, any status but 2xx and 410) is tried
  again after ``webhooks_retry_seconds`` doubling (at most an hour), until 24 h
  (``webhooks_retry_hours``) after the event; a timer on the injected scheduler fires at the
  exact due time, and a periodic sweep catches what other nodes or a previous run left.
- 2xx: delivered. 410 Gone: the subscription is switched off. A refused target (SSRF) fails
  the delivery at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.aio import spawn
from tresen.events import Event, WebhookSubscriptionsChanged, record
from tresen.leased_queue import LeasedQueue
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretBox, SecretUnreadable
from tresen.storage.leases import backoff_seconds
from tresen.storage.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tresen.webhooks.catalogue import kind_of
from tresen.webhooks.outbox import WebhookOutbox
from tresen.webhooks.send import Outcome, Sender, signature_header

log = logging.getLogger(__name__)
SWEEP_BATCH = 200
SECRET_PURPOSE = "webhook-secret"
MEMORY_TYPES_SECONDS = 5.0
_ACTIVE_TYPES = select(WebhookSubscription.event_types).where(WebhookSubscription.active.is_(True))
PRUNE_SECONDS = 3600.0  # finished deliveries are pruned at most this often
Tried = tuple[WebhookDelivery, datetime, Outcome]  # a delivery, when it was tried, the outcome


def secret_box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, SECRET_PURPOSE)


class WebhookWorker(LeasedQueue[WebhookDelivery]):
    name, label, batch = "webhook", "webhook delivery", SWEEP_BATCH

    def __init__(self, rt: Runtime, sender: Sender | None = None) -> None:
        settings = rt.settings
        # A request is bounded by the timeout: a claim outlives it, and a crashed node's
        # claims free up soon after.
        super().__init__(
            rt.db,
            rt.clock,
            rt.scheduler,
            WebhookDelivery,
            sweep_seconds=settings.webhooks_sweep_seconds,
            lease_seconds=2 * settings.webhooks_timeout_seconds + 5,
            retry_seconds=settings.webhooks_retry_seconds,
        )
        self.rt = rt
        self.outbox = WebhookOutbox(rt.clock, settings.webhooks_retry_hours)
        self.sender = sender or Sender(settings.webhooks_timeout_seconds)
        self.box = secret_box(settings.secret_key)
        self._slots = asyncio.Semaphore(max(1, settings.webhooks_concurrency))
        self._types: frozenset[str] = frozenset()
        self._types_until = float("-inf")
        self._types_read: asyncio.Future[None] | None = None
        self._prune_after = float("-inf")

    def install(self) -> None:
        """Write deliveries in every committing transaction from now on."""
        self.rt.db.before_commit = self.outbox.stage

    async def start(self) -> None:
        self.install()
        await super().start()

    def tick(self) -> None:
        self.kick()
        if self.rt.clock.monotonic() >= self._prune_after:
            self._prune_after = self.rt.clock.monotonic() + PRUNE_SECONDS
            spawn(self.prune(), name="webhook-prune")

    async def prune(self) -> int:
        """Forget finished deliveries (and their attempts) older than ``webhooks_keep_days``."""
        cutoff = self.rt.clock.now() - timedelta(days=self.rt.settings.webhooks_keep_days)
        async with self.rt.db.write() as s:
            result = await s.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status.in_(("delivered", "failed")),
                    WebhookDelivery.created_at < cutoff,
                )
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def stop(self) -> None:
        await super().stop()
        await self.sender.close()

    def kick_if_staged(self, *_: object) -> None:
        """After a commit: sweep only if this process staged deliveries meanwhile (a commit
        with nothing to send costs no query; what other nodes staged, they send)."""
        if self.outbox.take_unsent():
            self.kick()

    def on_subscriptions_changed(self, *_: object) -> None:
        """A subscription changed (here or on another node): read them again when needed."""
        self.outbox.forget()
        self._types_until = float("-inf")
        self._types_read = None

    async def on_memory_event(self, event: Event) -> None:
        """A fact emitted from memory (a visitor arrived): its deliveries in a write of their
        own, right after it; only when a subscription wants its type (looked up at most every
        few seconds: these facts are frequent, and not durable anyway)."""
        kind = kind_of(event)
        if kind is None or kind.name not in await self._memory_types():
            return
        async with self.rt.db.write() as s:
            await s.run_sync(
                lambda sync: self.outbox.stage(sync.connection(), [event], durable=False)
            )
        self.kick()

    async def _memory_types(self) -> frozenset[str]:
        """One read at a time, shared by the events that wait for it (a storm of arrivals
        once made one read each when the few seconds were up)."""
        if self.rt.clock.monotonic() >= self._types_until:
            if self._types_read is None or self._types_read.done():
                self._types_read = asyncio.ensure_future(self._read_memory_types())
            await asyncio.shield(self._types_read)
        return self._types

    async def _read_memory_types(self) -> None:
        now = self.rt.clock.monotonic()
        found = await self.rt.db.read_grouped(lambda c: c.execute(_ACTIVE_TYPES).scalars().all())
        self._types = frozenset(t for types in found for t in types or ())
        self._types_until = now + MEMORY_TYPES_SECONDS

    async def work(self, ids: list[int]) -> None:
        """Claim the batch at once and deliver it, ``webhooks_concurrency`` requests at a time;
        outcomes are stored in one transaction per group that finished meanwhile (not one per
        request)."""
        rows = await self.claim(ids)
        if not rows:
            return
        subs = await self._subscriptions({row.subscription_id for row in rows})
        pending = {
            asyncio.ensure_future(self._attempt(row, subs.get(row.subscription_id))) for row in rows
        }
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            await self._finish([task.result() for task in done])

    async def _subscriptions(self, ids: set[int]) -> dict[int, WebhookSubscription]:
        async with self.rt.db.read() as s:
            found = await s.execute(
                select(WebhookSubscription).where(WebhookSubscription.id.in_(ids))
            )
            return {sub.id: sub for sub in found.scalars()}

    async def _attempt(self, row: WebhookDelivery, sub: WebhookSubscription | None) -> Tried:
        started = self.rt.clock.now()
        async with self._slots:
            try:
                outcome = await self.request(row, sub)
            except Exception as exc:  # one bad row must not stop the others
                log.exception("webhook delivery %s", row.delivery_id)
                outcome = Outcome(None, f"internal error: {type(exc).__name__}", "", 0)
        return row, started, outcome

    async def request(self, row: WebhookDelivery, sub: WebhookSubscription | None) -> Outcome:
        """Send one delivery to its subscription's target, signed."""
        if sub is None or not sub.active:
            return Outcome(None, "subscription is switched off", "", 0, permanent=True)
        try:
            secret = self.box.open(sub.secret_enc)
        except SecretUnreadable:
            return Outcome(None, "secret unreadable: rotate it", "", 0, permanent=True)
        body = row.body.encode()
        timestamp = int(self.rt.clock.now().timestamp())
        headers = {
            "Tresen-Delivery": row.delivery_id,
            "Tresen-Event": row.event_type,
            "Tresen-Signature": signature_header(secret, timestamp, body),
        }
        allow = sub.allow_private or self.rt.settings.webhooks_allow_private
        self.attempts += 1
        return await self.sender.send(sub.url, body, headers, allow_private=allow)

    async def _finish(self, results: list[Tried]) -> None:
        """Store attempts and move each delivery on: delivered, failed, or due again."""
        now = self.rt.clock.now()
        retries: list[datetime] = []
        async with self.rt.db.write() as s:
            found = await s.execute(
                select(WebhookDelivery).where(WebhookDelivery.id.in_([r.id for r, _, _ in results]))
            )
            items = {item.id: item for item in found.scalars()}
            for row, started, outcome in results:
                item = items.get(row.id)
                if item is None:
                    continue  # its subscription was deleted meanwhile
                due = await self._outcome(s, item, started, outcome, now)
                if due is not None:
                    retries.append(due)
        for due in retries:
            self.wake_at(due)

    async def _outcome(
        self,
        s: AsyncSession,
        item: WebhookDelivery,
        started: datetime,
        outcome: Outcome,
        now: datetime,
    ) -> datetime | None:
        code = outcome.status_code
        s.add(
            WebhookAttempt(
                delivery_id=item.id,
                number=item.attempts,
                started_at=started,
                duration_ms=outcome.duration_ms,
                status_code=code,
                error=outcome.error,
                response=outcome.response,
            )
        )
        item.last_status, item.last_error, item.lease_until = code, outcome.error, None
        if code is not None and 200 <= code < 300:
            item.status, item.delivered_at = "delivered", now
            return None
        if code == 410 or outcome.permanent:
            item.status = "failed"
            if code == 410:
                await _switch_off(s, item.subscription_id, now)
            return None
        wait = backoff_seconds(self.rt.settings.webhooks_retry_seconds, item.attempts)
        due = now + timedelta(seconds=wait)
        if due > item.give_up_at:
            item.status = "failed"
            return None
        item.status, item.next_attempt_at = "pending", due
        return due


async def _switch_off(s: AsyncSession, subscription_id: int, now: datetime) -> None:
    sub = await s.get(WebhookSubscription, subscription_id)
    if sub is not None and sub.active:
        sub.active, sub.updated_at = False, now
        sub.disabled_reason = "the receiver answered 410 Gone"
        record(s, WebhookSubscriptionsChanged(subscription_id))
