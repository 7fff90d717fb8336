"""``tresen serve`` with a probe of the event loop's stalls (``bench.floor --stalls``).

A task on the server's loop wakes every 2 ms; a late wake-up is a stall. The loop thread's
run-queue wait over the same gap (``/proc/thread-self/schedstat``: time runnable but not
running) is subtracted, so what remains is the time the loop spent working or blocked (a long
COMMIT, a checkpoint, a pass over many rows), not the time the OS had no core for it: a figure
far less sensitive to the machine's load than the latency percentiles. Gaps over 5 ms are
appended as JSON lines ``[unix time at the end, gap ms, gap without run-queue wait ms]`` to the
file given as the first argument, every half second (uvicorn ends the process by re-raising
SIGTERM: no exit hook would run).

Usage: ``python -m bench._stall_probe OUT.jsonl`` with ``tresen serve``'s environment.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

TICK = 0.002
RECORD_MS = 5.0


def _runqueue_ns() -> int:
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1])
    except OSError:  # not Linux: the raw gap only
        return 0


class Probe:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.gaps: list[tuple[float, float, float]] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        last, waited = time.perf_counter(), _runqueue_ns()
        written = last
        while True:
            await asyncio.sleep(TICK)
            now, wait = time.perf_counter(), _runqueue_ns()
            gap_ms = (now - last - TICK) * 1000
            if gap_ms > RECORD_MS:
                own_ms = gap_ms - (wait - waited) / 1e6
                self.gaps.append((time.time(), round(gap_ms, 2), round(max(own_ms, 0.0), 2)))
            last, waited = now, wait
            if now - written > 0.5 and self.gaps:
                gaps, self.gaps, written = self.gaps, [], now
                with self.out.open("a") as f:
                    f.write("".join(json.dumps(g) + "\n" for g in gaps))

    def wrap(self, app: Any) -> Any:
        async def probed(scope: Any, receive: Any, send: Any) -> None:
            if self.task is None:
                self.task = asyncio.get_running_loop().create_task(self.run())
            await app(scope, receive, send)

        return probed


def main() -> None:
    probe = Probe(Path(sys.argv[1]))
    import tresen.app
    from tresen.cli import app

    create_app = tresen.app.create_app
    tresen.app.create_app = lambda *a, **kw: probe.wrap(create_app(*a, **kw))
    sys.argv = ["tresen", "serve"]
    app()


if __name__ == "__main__":
    main()
