"""Delivering the outbox: each item is claimed with a lease in one short transaction, handed to
its channel, and the outcome recorded (``MessageDeliveryChanged``) in another.

- At once: a queued listener on ``MessageCreated`` (per conversation, in order) delivers the
  item of a new reply right after its commit; the sender never waits for it.
- Later: a sweep on the injected scheduler (``Repeating``) picks up what is due, retries with
  exponential backoff (``outbox_retry_seconds`` doubling, at most an hour) and items whose
  claimer died (lease ran out), and runs once at start, so a crash after the commit still
  sends.
- Once: the claim (``storage/leases.py``) is an ``UPDATE .. WHERE status ..`` that only one
  worker (of any node) wins; the channel uses the same id (Message-ID) on every attempt, so
  the one case a repeat can happen (a crash between the server accepting the mail and the
  outcome being stored) is recognisable by receivers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.aio import spawn
from tresen.channels.base import Channel, DeliveryError, NothingToSend
from tresen.events import (
    ConversationState,
    MessageCreated,
    MessageDeliveryChanged,
    TranscriptRequested,
    record,
)
from tresen.runtime import Runtime
from tresen.scheduler import Repeating
from tresen.storage.leases import claim, claimable, settle_failure
from tresen.storage.models import Conversation, Message, Outbox
from tresen.storage.outbox import goes_out

log = logging.getLogger(__name__)
LEASE_SECONDS = 300.0
SWEEP_BATCH = 100


def wants_delivery(event: MessageCreated) -> bool:
    """The listener's filter: the same rule the write path used (``storage/outbox.py``)."""
    return goes_out(event.conversation.channel, event.author_kind, event.internal)


class OutboxWorker:
    def __init__(
        self,
        rt: Runtime,
        channels: list[Channel],
        producers: list[Callable[[Runtime], Awaitable[object]]] | None = None,
    ) -> None:
        self.rt = rt
        self.channels = {c.name: c for c in channels}
        # run first in every sweep: they write outbox rows of their own (email follow-ups)
        self.producers = list(producers or [])
        self._sweep: Repeating | None = None
        self._sweeping: asyncio.Task[None] | None = None
        self.attempts = 0

    async def start(self) -> None:
        seconds = self.rt.settings.outbox_sweep_seconds
        self._sweep = Repeating(self.rt.scheduler, self.rt.clock, seconds, self.kick)
        self.kick()  # what a previous run left: committed but never delivered

    async def stop(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
        if self._sweeping is not None:
            await asyncio.gather(self._sweeping, return_exceptions=True)

    def kick(self) -> None:
        """Start a sweep unless one runs."""
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = spawn(self.sweep(), name="outbox-sweep")

    async def idle(self) -> None:
        """Wait for the running sweep (tests)."""
        if self._sweeping is not None:
            await asyncio.gather(self._sweeping, return_exceptions=True)

    async def on_message_created(self, event: MessageCreated | TranscriptRequested) -> None:
        async with self.rt.db.read() as s:
            item_id = (
                await s.execute(select(Outbox.id).where(Outbox.message_id == event.message_id))
            ).scalar_one_or_none()
        if item_id is not None:
            await self.attempt(item_id)

    async def sweep(self) -> None:
        """Every item that is due (or whose claimer died), oldest first."""
        for produce in self.producers:
            try:
                await produce(self.rt)
            except Exception:
                log.exception("outbox producer %s failed", getattr(produce, "__name__", produce))
        while True:
            now = self.rt.clock.now()
            async with self.rt.db.read() as s:
                ids = list(
                    (
                        await s.execute(
                            select(Outbox.id)
                            .where(_claimable(now))
                            .order_by(Outbox.id)
                            .limit(SWEEP_BATCH)
                        )
                    ).scalars()
                )
            for item_id in ids:
                await self.attempt(item_id)
            if len(ids) < SWEEP_BATCH:
                return

    async def attempt(self, item_id: int) -> None:
        item = await self._claim(item_id)
        if item is None:
            return  # delivered, failed, not due, or another worker has it
        self.attempts += 1
        channel = self.channels.get(item.channel)
        try:
            if channel is None:
                raise DeliveryError(f"no adapter for channel {item.channel!r}", permanent=True)
            external_id = await channel.deliver(item)
        except NothingToSend:
            await self._settle(item, "skipped")
        except DeliveryError as exc:
            await self._failed(item, exc.message, exc.permanent)
        except Exception as exc:  # a bug in an adapter must not stop the others
            log.exception("outbox item %s: %s adapter failed", item.id, item.channel)
            await self._failed(item, f"internal error: {type(exc).__name__}", False)
        else:
            await self._sent(item, external_id)

    async def _claim(self, item_id: int) -> Outbox | None:
        won = await claim(self.rt.db, Outbox, [item_id], self.rt.clock.now(), LEASE_SECONDS)
        return won[0] if won else None

    async def _sent(self, item: Outbox, external_id: str) -> None:
        now = self.rt.clock.now()
        async with self.rt.db.write() as s:
            row = await s.get(Outbox, item.id)
            if row is None:
                return
            row.status, row.sent_at, row.external_id = "sent", now, external_id
            row.lease_until, row.last_error = None, None
            await self._record(s, row, "sent")

    async def _settle(self, item: Outbox, status: str) -> None:
        async with self.rt.db.write() as s:
            row = await s.get(Outbox, item.id)
            if row is None:
                return
            row.status, row.lease_until = status, None
            await self._record(s, row, status)

    async def _failed(self, item: Outbox, error: str, permanent: bool) -> None:
        now = self.rt.clock.now()
        settings = self.rt.settings
        give_up = permanent or item.attempts >= settings.outbox_max_attempts
        log.warning("outbox item %s attempt %s: %s", item.id, item.attempts, error)
        async with self.rt.db.write() as s:
            row = await s.get(Outbox, item.id)
            if row is None:
                return
            settle_failure(
                row, error, give_up=give_up, retry_seconds=settings.outbox_retry_seconds, now=now
            )
            await self._record(s, row, "failed" if give_up else "retry")

    async def _record(self, s: AsyncSession, row: Outbox, state: str) -> None:
        await record_delivery(s, row, state)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return claimable(Outbox, now)


async def record_delivery(s: AsyncSession, row: Outbox, state: str) -> None:
    """``MessageDeliveryChanged`` for an outbox row's message, in ``s``'s transaction (the
    outbox's outcomes here; the platforms' receipts in ``messaging_receive``)."""
    conv = await s.get(Conversation, row.conversation_id)
    seq = (await s.execute(select(Message.seq).where(Message.id == row.message_id))).scalar()
    if conv is None or seq is None:
        return
    record(
        s,
        MessageDeliveryChanged(
            ConversationState.of(conv),
            message_id=row.message_id,
            seq=seq,
            channel=row.channel,
            state=state,
            attempts=row.attempts,
            error=row.last_error,
            external_id=row.external_id,
        ),
    )
