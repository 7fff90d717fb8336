"""A durable queue worked under leases: the one worker loop behind every table of rows that go
out (the channel outbox, ``channels/outbox.py``; webhook deliveries, ``webhooks/worker.py``; the
summary mails, ``digest/worker.py``).

A queue's rows have ``status`` (``pending``, ``sending``, then ``sent``/``skipped``/``failed``
or whatever the queue calls them), ``attempts``, ``next_attempt_at``, ``lease_until`` and
``last_error``; ``storage/leases.py`` claims and settles them. ``LeasedQueue``:

- sweeps what is due (or whose claimer died, its lease ran out), oldest first, ``batch`` rows at
  a time: on the injected scheduler every ``sweep_seconds``, once at ``start`` (what a previous
  run committed and never sent), and on ``kick`` (after a commit that wrote rows); a kick while
  a sweep runs makes it go round once more. ``wake_at`` adds a sweep at an exact time (a
  retry's due time). ``idle`` waits for the running sweep (tests), ``stop`` for the last one.
- claims each row with a lease just before working it (``claim``: only one worker of any node
  wins), so a slow batch does not outlive the leases of the rows still waiting in it;
- runs ``send`` on the claimed row and settles it in a transaction of its own: its result:
  ``sent``; ``Skip``: ``skipped``; ``Failed`` (or any other error, logged): a retry after the
  backoff (``retry_seconds`` doubling), or ``failed`` when permanent or after ``max_attempts``.
  ``settled`` is called in that transaction (the queue's own fields, its events).

A new durable queue: a model with those columns (and the migration), a subclass that names it
and implements ``send`` (and ``settled``, ``before_sweep`` as needed), started and stopped with
the app (``app.py``). A queue that sends in another way (webhooks: a batch claimed at once and
sent side by side) overrides ``work``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.aio import spawn
from tresen.clock import Clock
from tresen.scheduler import Repeating, Scheduler, TimerHandle
from tresen.storage.db import Database
from tresen.storage.leases import claim, due_ids, settle_failure

log = logging.getLogger(__name__)

R = TypeVar("R")


class Skip(Exception):
    """The row needs sending no more (the customer read the reply in the chat; opted out)."""


class Failed(Exception):
    """An attempt did not send the row. ``permanent``: trying again cannot help (a refused
    address, nothing configured to send it with); otherwise it is retried with backoff."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class LeasedQueue(Generic[R]):
    """Subclasses set ``model`` (the table), ``name`` (the sweep task's) and ``label`` (a row in
    the log), and implement ``send``."""

    name = "queue"
    label = "row"
    batch = 100

    def __init__(
        self,
        db: Database,
        clock: Clock,
        scheduler: Scheduler,
        model: type[R],
        *,
        sweep_seconds: float,
        lease_seconds: float,
        max_attempts: int = 1,
        retry_seconds: float = 0.0,
    ) -> None:
        self.db, self.clock, self.scheduler, self.model = db, clock, scheduler, model
        self.sweep_seconds, self.lease_seconds = sweep_seconds, lease_seconds
        self.max_attempts, self.retry_seconds = max_attempts, retry_seconds
        self.attempts = 0  # rows claimed and tried by this worker
        self._repeat: Repeating | None = None
        self._sweeping: asyncio.Task[None] | None = None
        self._again = False
        self._timers: dict[float, TimerHandle] = {}

    # ---- running ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._repeat = Repeating(self.scheduler, self.clock, self.sweep_seconds, self.tick)
        self.kick()  # what a previous run committed and never sent

    def tick(self) -> None:
        """The periodic timer: a sweep."""
        self.kick()

    async def stop(self) -> None:
        if self._repeat is not None:
            self._repeat.cancel()
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        await self.idle()

    def kick(self, *_: object) -> None:
        """Sweep now; if a sweep runs, it goes round once more."""
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = spawn(self._run(), name=f"{self.name}-sweep")
        else:
            self._again = True

    async def idle(self) -> None:
        """Wait until no sweep runs (tests, bench)."""
        while self._sweeping is not None and not self._sweeping.done():
            await asyncio.gather(self._sweeping, return_exceptions=True)

    def wake_at(self, due: datetime) -> None:
        """A sweep at the exact time a retry is due (one timer per due time)."""
        when = due.timestamp()
        if when in self._timers:
            return

        def fire() -> None:
            self._timers.pop(when, None)
            self.kick()

        self._timers[when] = self.scheduler.call_at(when, fire)

    async def _run(self) -> None:
        while True:
            self._again = False
            await self.sweep()
            if not self._again:
                return

    # ---- the sweep -------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Every row that is due (or whose claimer died), oldest first."""
        try:
            await self.before_sweep()
        except Exception:
            log.exception("%s: before the sweep", self.name)
        while True:
            ids = await due_ids(self.db, self.model, self.clock.now(), self.batch)
            await self.work(ids)
            if len(ids) < self.batch:
                return

    async def before_sweep(self) -> None:
        """Runs first in every sweep (a queue that writes rows of its own when they are due)."""

    async def work(self, ids: list[int]) -> None:
        """A batch of due rows: each claimed and sent in turn."""
        for row_id in ids:
            await self.attempt(row_id)

    async def claim(self, ids: list[int], now: datetime | None = None) -> list[R]:
        """Claim the rows of ``ids`` still claimable; the ones this worker won."""
        at = now or self.clock.now()
        return await claim(self.db, self.model, ids, at, self.lease_seconds)

    async def attempt(self, row_id: int) -> None:
        """Claim one row and send it (nothing when it is sent, not due, or another worker has
        it), then settle it."""
        won = await self.claim([row_id])
        if not won:
            return
        row: Any = won[0]
        self.attempts += 1
        try:
            result = await self.send(won[0])
        except Skip:
            await self._settle(row.id, "skipped", None)
        except Failed as exc:
            await self._failed(row, exc.message, exc.permanent)
        except Exception as exc:  # a bug in one row's sending must not stop the others
            log.exception("%s %s failed", self.label, row.id)
            await self._failed(row, f"internal error: {type(exc).__name__}", False)
        else:
            await self._settle(row.id, "sent", result)

    # ---- what a queue does -----------------------------------------------------------------

    async def send(self, row: R) -> Any:
        """Send one claimed row; the result is given to ``settled``. Raises ``Skip`` or
        ``Failed``."""
        raise NotImplementedError

    async def settled(self, s: AsyncSession, row: R, state: str, result: Any) -> None:
        """In the transaction that settles ``row``: ``state`` is ``sent`` (with ``send``'s
        result), ``skipped``, ``retry`` or ``failed``."""

    # ---- settling --------------------------------------------------------------------------

    async def _settle(self, row_id: int, status: str, result: Any) -> None:
        async with self.db.write() as s:
            row: Any = await s.get(self.model, row_id)
            if row is None:
                return
            row.status, row.lease_until = status, None
            await self.settled(s, row, status, result)

    async def _failed(self, item: Any, error: str, permanent: bool) -> None:
        now = self.clock.now()
        give_up = permanent or item.attempts >= self.max_attempts
        log.warning("%s %s attempt %s: %s", self.label, item.id, item.attempts, error)
        async with self.db.write() as s:
            row: Any = await s.get(self.model, item.id)
            if row is None:
                return
            settle_failure(row, error, give_up=give_up, retry_seconds=self.retry_seconds, now=now)
            await self.settled(s, row, "failed" if give_up else "retry", None)
