"""``tresen serve`` with a probe of the event loop's stalls (``bench.floor --stalls``).

A task on the server's loop wakes every 2 ms; a late wake-up is a stall. The loop thread's
run-queue wait over the same gap (``/proc/thread-self/schedstat``: time runnable but not
running) is subtracted, so what remains is the time the loop spent working or blocked (a long
COMMIT, a checkpoint, a pass over many rows), not the time the OS had no core for it: a figure
far less sensitive to the machine's load than the latency percentiles. In a virtual machine
the time the host ran another guest is not run-queue wait: the loop thread's own CPU time in
the gap is the figure that no other load inflates (it misses time blocked on I/O or the GIL).
Gaps over 5 ms are appended as JSON lines ``[unix time at the end, gap ms, gap without run-queue
wait ms, the loop thread's CPU time in the gap ms]`` to the file given as the first argument,
every half second (uvicorn ends the process by re-raising SIGTERM: no exit hook would run).

With ``BENCH_STALL_STACKS=1`` a watchdog thread also writes the loop thread's stack (Tresen's
frames, innermost last) to ``OUT.jsonl.stacks`` whenever the loop has not ticked for 8 ms: what
the loop was doing in a stall (a diagnosis aid; the thread costs a little CPU).

Usage: ``python -m bench._stall_probe OUT.jsonl`` with ``tresen serve``'s environment.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

TICK = 0.002
RECORD_MS = 5.0
WATCH_MS = 8.0


def _schedstat() -> tuple[int, int]:
    """The loop thread's time on a CPU and waiting on a run queue (ns)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited, _ = f.read().split()
            return int(ran), int(waited)
    except OSError:  # not Linux: the raw gap only
        return 0, 0


class Probe:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.gaps: list[tuple[float, float, float, float]] = []
        self.task: asyncio.Task[None] | None = None
        self.ticked = time.perf_counter()
        self._gc_started = 0.0
        self.gc_pauses: list[tuple[float, int, float]] = []  # (unix time, generation, ms)

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks``: collections over ``RECORD_MS`` (any thread), by generation."""
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_started) * 1000
        if ms > RECORD_MS:
            self.gc_pauses.append((time.time(), int(info.get("generation", -1)), round(ms, 2)))

    async def run(self) -> None:
        last, (ran, waited) = time.perf_counter(), _schedstat()
        written = last
        while True:
            await asyncio.sleep(TICK)
            now, (run, wait) = time.perf_counter(), _schedstat()
            self.ticked = now
            gap_ms = (now - last - TICK) * 1000
            if gap_ms > RECORD_MS:
                own_ms = max(gap_ms - (wait - waited) / 1e6, 0.0)
                cpu_ms = (run - ran) / 1e6
                self.gaps.append(
                    (time.time(), round(gap_ms, 2), round(own_ms, 2), round(cpu_ms, 2))
                )
            last, ran, waited = now, run, wait
            if now - written > 0.5 and self.gaps:
                gaps, self.gaps, written = self.gaps, [], now
                with self.out.open("a") as f:
                    f.write("".join(json.dumps(g) + "\n" for g in gaps))
            if self.gc_pauses and now - written > 0.5:
                pauses, self.gc_pauses = self.gc_pauses, []
                with Path(str(self.out) + ".gc").open("a") as f:  # noqa: ASYNC230 (a probe)
                    f.write("".join(json.dumps(p) + "\n" for p in pauses))

    def watch(self, loop_thread: int) -> None:
        """Once per stall past ``WATCH_MS``: the loop thread's Tresen frames, at that moment."""
        seen = 0.0
        with Path(str(self.out) + ".stacks").open("a") as f:
            while True:
                time.sleep(0.002)
                ticked = self.ticked
                if ticked == seen or (time.perf_counter() - ticked) * 1000 < WATCH_MS:
                    continue
                seen = ticked
                frame = sys._current_frames().get(loop_thread)
                stack = traceback.extract_stack(frame) if frame is not None else []
                ours = [
                    f"{Path(fs.filename).parent.name}/{Path(fs.filename).name}:{fs.name}"
                    for fs in stack
                    if "tresen" in fs.filename or "sqlalchemy" in fs.filename
                ]
                f.write(json.dumps([time.time(), ours[-8:]]) + "\n")
                f.flush()

    def wrap(self, app: Any) -> Any:
        async def probed(scope: Any, receive: Any, send: Any) -> None:
            if self.task is None:
                self.task = asyncio.get_running_loop().create_task(self.run())
                gc.callbacks.append(self.on_gc)
                if os.environ.get("BENCH_STALL_STACKS") == "1":
                    loop_thread = threading.get_ident()
                    threading.Thread(target=self.watch, args=(loop_thread,), daemon=True).start()
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
