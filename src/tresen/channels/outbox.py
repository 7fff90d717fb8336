"""Delivering the outbox: each item is claimed with a lease in one short transaction, handed to
its channel, and the outcome recorded (``MessageDeliveryChanged``) in another.

- At once: a queued listener on ``MessageCreated`` (per conversation, in order) delivers the
  item of a new reply right after its commit; the sender never waits for it.
- Later: a sweep on the injected scheduler (``leased_queue.py``) picks up what is due, retries with
  exponential backoff (``outbox_retry_seconds`` doubling, at most an hour) and items whose
  claimer died (lease ran out), and runs once at start, so a crash after the commit still
  sends.
- Once: the claim (``storage/leases.py``) is an ``UPDATE .. WHERE status ..`` that only one
  worker (of any node) wins; the channel uses the same id (Message-ID) on every attempt, so
  the one case a repeat can happen (a crash between the server accepting the mail and the
  outcome being stored) is recognisable by receivers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.channels.base import Channel, DeliveryError
from tresen.events import (
    ConversationState,
    MessageCreated,
    MessageDeliveryChanged,
    TranscriptRequested,
    record,
)
from tresen.leased_queue import LeasedQueue
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, Message, Outbox
from tresen.storage.outbox import goes_out

log = logging.getLogger(__name__)
LEASE_SECONDS = 300.0


def wants_delivery(event: MessageCreated) -> bool:
    """The listener's filter: the same rule the write path used (``storage/outbox.py``)."""
    return goes_out(event.conversation.channel, event.author_kind, event.internal)


class OutboxWorker(LeasedQueue[Outbox]):
    name, label = "outbox", "outbox item"

    def __init__(
        self,
        rt: Runtime,
        channels: list[Channel],
        producers: list[Callable[[Runtime], Awaitable[object]]] | None = None,
    ) -> None:
        settings = rt.settings
        super().__init__(
            rt.db,
            rt.clock,
            rt.scheduler,
            Outbox,
            sweep_seconds=settings.outbox_sweep_seconds,
            lease_seconds=LEASE_SECONDS,
            max_attempts=settings.outbox_max_attempts,
            retry_seconds=settings.outbox_retry_seconds,
        )
        self.rt = rt
        self.channels = {c.name: c for c in channels}
        # run first in every sweep: they write outbox rows of their own (email follow-ups)
        self.producers = list(producers or [])

    async def on_message_created(self, event: MessageCreated | TranscriptRequested) -> None:
        async with self.rt.db.read() as s:
            item_id = (
                await s.execute(select(Outbox.id).where(Outbox.message_id == event.message_id))
            ).scalar_one_or_none()
        if item_id is not None:
            await self.attempt(item_id)

    async def before_sweep(self) -> None:
        for produce in self.producers:
            try:
                await produce(self.rt)
            except Exception:
                log.exception("outbox producer %s failed", getattr(produce, "__name__", produce))

    async def send(self, item: Outbox) -> str:
        channel = self.channels.get(item.channel)
        if channel is None:
            raise DeliveryError(f"no adapter for channel {item.channel!r}", permanent=True)
        return await channel.deliver(item)

    async def settled(self, s: AsyncSession, row: Outbox, state: str, result: object) -> None:
        if state == "sent":
            row.sent_at, row.external_id = self.rt.clock.now(), str(result)
            row.last_error = None
        await record_delivery(s, row, state)


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
