"""Delivering webhook deliveries from the outbox (``webhooks/outbox.py`` writes them with the
change). Claims go through ``storage/leases.py``, as the channel outbox's do, so two workers
(nodes) never send the same row at the same time.

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

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.aio import spawn
from tresen.events import Event
from tresen.runtime import Runtime
from tresen.scheduler import Repeating, TimerHandle
from tresen.security.secretbox import SecretBox, SecretUnreadable
from tresen.storage.leases import claim, due_ids
from tresen.storage.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tresen.webhooks.outbox import WebhookOutbox
from tresen.webhooks.send import Outcome, Sender, signature_header

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
SWEEP_BATCH = 200
SECRET_PURPOSE = "webhook-secret"


def backoff_seconds(base: float, attempts: int) -> float:
    """Wait after attempt ``attempts`` failed: base, 2 base, 4 base, ... at most an hour."""
    return float(min(base * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS))


def secret_box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, SECRET_PURPOSE)


class WebhookWorker:
    def __init__(self, rt: Runtime, sender: Sender | None = None) -> None:
        self.rt = rt
        settings = rt.settings
        self.outbox = WebhookOutbox(rt.clock, settings.webhooks_retry_hours)
        self.sender = sender or Sender(settings.webhooks_timeout_seconds)
        self.box = secret_box(settings.secret_key)
        self._sweep: Repeating | None = None
        self._sweeping: asyncio.Task[None] | None = None
        self._again = False
        self._timers: dict[float, TimerHandle] = {}
        self._slots = asyncio.Semaphore(max(1, settings.webhooks_concurrency))
        self.attempts = 0
        # A request is bounded by the timeout: a claim outlives it, and a crashed node's
        # claims free up soon after.
        self.lease_seconds = 2 * settings.webhooks_timeout_seconds + 5

    def install(self) -> None:
        """Write deliveries in every committing transaction from now on."""
        self.rt.db.before_commit = self.outbox.stage

    async def start(self) -> None:
        self.install()
        seconds = self.rt.settings.webhooks_sweep_seconds
        self._sweep = Repeating(self.rt.scheduler, self.rt.clock, seconds, self.kick)
        self.kick()  # what a previous run committed and never delivered

    async def stop(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        await self.idle()
        await self.sender.close()

    def kick(self, *_: object) -> None:
        """Sweep now; if a sweep runs, it goes round once more."""
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = spawn(self._run(), name="webhook-sweep")
        else:
            self._again = True

    async def idle(self) -> None:
        """Wait until no sweep runs (tests, bench)."""
        while self._sweeping is not None and not self._sweeping.done():
            await asyncio.gather(self._sweeping, return_exceptions=True)

    async def on_memory_event(self, event: Event) -> None:
        """A fact emitted from memory (a visitor arrived): its deliveries in a write of their
        own, right after it."""
        async with self.rt.db.write() as s:
            await s.run_sync(
                lambda sync: self.outbox.stage(sync.connection(), [event], durable=False)
            )
        self.kick()

    async def _run(self) -> None:
        while True:
            self._again = False
            await self.sweep()
            if not self._again:
                return

    async def sweep(self) -> None:
        """Claim what is due (or whose claimer died) and deliver it, a few at a time."""
        while True:
            now = self.rt.clock.now()
            ids = await due_ids(self.rt.db, WebhookDelivery, now, SWEEP_BATCH)
            rows = await claim(self.rt.db, WebhookDelivery, ids, now, self.lease_seconds)
            await asyncio.gather(*(self._deliver(row) for row in rows))
            if len(ids) < SWEEP_BATCH:
                return

    async def _deliver(self, row: WebhookDelivery) -> None:
        async with self._slots:
            try:
                await self.attempt(row)
            except Exception:  # one bad row must not stop the sweep
                log.exception("webhook delivery %s", row.delivery_id)

    async def attempt(self, row: WebhookDelivery) -> None:
        async with self.rt.db.read() as s:
            sub = await s.get(WebhookSubscription, row.subscription_id)
        if sub is None or not sub.active:
            await self._finish(row, Outcome(None, "subscription is switched off", "", 0, True))
            return
        try:
            secret = self.box.open(sub.secret_enc)
        except SecretUnreadable:
            await self._finish(row, Outcome(None, "secret unreadable: rotate it", "", 0, True))
            return
        body = row.body.encode()
        timestamp = int(self.rt.clock.now().timestamp())
        headers = {
            "Tresen-Delivery": row.delivery_id,
            "Tresen-Event": row.event_type,
            "Tresen-Signature": signature_header(secret, timestamp, body),
        }
        allow = sub.allow_private or self.rt.settings.webhooks_allow_private
        self.attempts += 1
        outcome = await self.sender.send(sub.url, body, headers, allow_private=allow)
        await self._finish(row, outcome)

    async def _finish(self, row: WebhookDelivery, outcome: Outcome) -> None:
        now = self.rt.clock.now()
        code = outcome.status_code
        due: datetime | None = None
        async with self.rt.db.write() as s:
            item = await s.get(WebhookDelivery, row.id)
            if item is None:
                return
            s.add(
                WebhookAttempt(
                    delivery_id=item.id,
                    number=item.attempts,
                    started_at=now,
                    duration_ms=outcome.duration_ms,
                    status_code=code,
                    error=outcome.error,
                    response=outcome.response,
                )
            )
            item.last_status, item.last_error, item.lease_until = code, outcome.error, None
            if code is not None and 200 <= code < 300:
                item.status, item.delivered_at = "delivered", now
            elif code == 410 or outcome.permanent:
                item.status = "failed"
                if code == 410:
                    await _switch_off(s, item.subscription_id, now)
            else:
                wait = backoff_seconds(self.rt.settings.webhooks_retry_seconds, item.attempts)
                due = now + timedelta(seconds=wait)
                if due > item.give_up_at:
                    item.status, due = "failed", None
                else:
                    item.status, item.next_attempt_at = "pending", due
        if due is not None:
            self._wake_at(due)

    def _wake_at(self, due: datetime) -> None:
        """A sweep at the exact time a retry is due (one timer per due time)."""
        when = due.timestamp()
        if when in self._timers:
            return

        def fire() -> None:
            self._timers.pop(when, None)
            self.kick()

        self._timers[when] = self.rt.scheduler.call_at(when, fire)


async def _switch_off(s: AsyncSession, subscription_id: int, now: datetime) -> None:
    sub = await s.get(WebhookSubscription, subscription_id)
    if sub is not None and sub.active:
        sub.active, sub.updated_at = False, now
        sub.disabled_reason = "the receiver answered 410 Gone"
