"""The radar's periodic work (flushes, capacity, rates, purges): never two runs of one at once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from tresen.aio import spawn
from tresen.runtime import Runtime
from tresen.scheduler import Repeating

log = logging.getLogger(__name__)


def every(
    rt: Runtime, busy: set[str], seconds: float, fn: Callable[[], Awaitable[None]]
) -> Repeating:
    """``fn`` (a coroutine function) every ``seconds``; ``busy`` names the runs under way."""
    name = getattr(fn, "__name__", "task")

    async def run() -> None:
        try:
            await fn()
        except Exception:
            log.exception("radar periodic task %s failed", name)
        finally:
            busy.discard(name)

    def due() -> None:
        if name not in busy:
            busy.add(name)
            spawn(run(), name=f"radar-{name}")

    return Repeating(rt.scheduler, rt.clock, seconds, due)
