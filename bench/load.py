"""Tresen load benchmark: idle connections, persisted messages/s, delivery latency.

Starts a real ``tresen serve`` subprocess on SQLite (fresh temp var dir, migrated, seeded with a
site and agents) and drives it with real WebSocket clients in a few worker processes:

  (a) idle: N visitor sockets held open; server RSS before/after and per connection.
  (b) throughput: visitors (one send in flight each) and agents (a window of sends) in their
      conversations for T seconds; acked messages are counted and checked in the database
      (every acked client_msg_id stored once, seq gapless per conversation).
  (c) latency: a paced offered rate (default 1,000 msg/s) of visitor sends; the time from the
      visitor's send to the agent's receipt of the message frame, p50/p99.

Run: ``.venv/bin/python -m bench.load`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/load.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._clients import Job, run
from bench._server import BenchServer, raise_nofile

MiB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--phases", default="idle,throughput,latency",
                   help="comma-separated subset of idle,throughput,latency")
    p.add_argument("--connections", type=int, default=10_000, help="(a) idle visitor sockets")
    p.add_argument("--pairs", type=int, default=100,
                   help="(b) visitors, each with a conversation, sending closed-loop")
    p.add_argument("--duration", type=float, default=10.0, help="(b) seconds of sending")
    p.add_argument("--window", type=int, default=8, help="(b) agent sends in flight per agent")
    p.add_argument("--rate", type=float, default=1000.0, help="(c) offered messages/s")
    p.add_argument("--latency-visitors", type=int, default=200, help="(c) sending visitors")
    p.add_argument("--latency-duration", type=float, default=15.0, help="(c) measured seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="(c) unmeasured seconds first")
    p.add_argument("--workers", type=int, default=2,
                   help="client processes; each also holds one agent socket in (b) and (c)")
    p.add_argument("--frames-per-second", type=float, default=10_000,
                   help="server per-socket frame rate limit (TRESEN_FRAMES_PER_SECOND)")
    p.add_argument("--keep", action="store_true", help="keep the temp var dir (database, log)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    nofile = raise_nofile(args.connections * 2 + 4096)
    var_dir = Path(tempfile.mkdtemp(prefix="tresen-bench-"))
    env = {
        "TRESEN_FRAMES_PER_SECOND": str(args.frames_per_second),
        "TRESEN_FRAMES_BURST": str(args.frames_per_second),
    }
    server = BenchServer(var_dir, nofile, env)
    failed = False
    try:
        t0 = time.monotonic()
        seeded = server.prepare(agents=args.workers)
        server.start()
        print(f"server pid {server.proc.pid if server.proc else '?'} on {server.url}, "
              f"var dir {var_dir}, RLIMIT_NOFILE {nofile}, ready in {time.monotonic() - t0:.1f}s")
        ctx = Context(args, server, seeded.site_key, seeded.agents)
        for phase in phases:
            {"idle": ctx.idle, "throughput": ctx.throughput, "latency": ctx.latency}[phase]()
    except Exception as exc:
        failed = True
        print(f"FAILED: {exc!r}", file=sys.stderr)
        raise
    finally:
        server.stop()
        if failed or args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


class Context:
    def __init__(self, args: argparse.Namespace, server: BenchServer, site_key: str,
                 agents: list[str]) -> None:
        self.args, self.server, self.site_key, self.agents = args, server, site_key, agents
        self.mp = mp.get_context("spawn")

    def _spawn(self, phase: str, counts: list[int], **kw: Any) -> tuple[Any, list[Any], Any, Any]:
        q, go, release = self.mp.Queue(), self.mp.Event(), self.mp.Event()
        procs = []
        for w, n in enumerate(counts):
            job = Job(worker=w, base_url=self.server.url, site_key=self.site_key, visitors=n,
                      queue=q, go=go, release=release, **kw)
            if phase != "idle":
                job.agent = self.agents[w]
            proc = self.mp.Process(target=run, args=(phase, job), daemon=True)
            proc.start()
            procs.append(proc)
        return q, procs, go, release

    def _collect(self, q: Any, kind: str, n: int, timeout: float) -> list[tuple[Any, ...]]:
        got: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            try:
                msg = q.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"waiting for {kind}: {len(got)}/{n} workers") from None
            if msg[0] == "failed":
                raise RuntimeError(f"worker {msg[1]} failed: {msg[2]}")
            if msg[0] == kind:
                got.append(msg)
        return got

    def _join(self, procs: list[Any]) -> None:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.terminate()

    def _split(self, total: int) -> list[int]:
        w = self.args.workers
        return [total // w + (1 if i < total % w else 0) for i in range(w)]

    # ---- (a) ----------------------------------------------------------------------------------

    def idle(self) -> None:
        n = self.args.connections
        print(f"\n(a) idle connections: {n} visitor sockets from {self.args.workers} processes")
        t0 = time.monotonic()
        q, procs, go, release = self._spawn("idle", self._split(n))
        self._collect(q, "tokens", len(procs), 300)
        print(f"    {n} visitor sessions over HTTP in {time.monotonic() - t0:.1f}s")
        time.sleep(1)
        before = self.server.rss()
        go.set()
        opened = self._collect(q, "open", len(procs), 300)
        ok, bad = sum(m[2] for m in opened), sum(m[3] for m in opened)
        took = max(m[4] for m in opened)
        time.sleep(3)  # let the server settle
        after = self.server.rss()
        release.set()
        alive = sum(m[2] for m in self._collect(q, "done", len(procs), 120))
        self._join(procs)
        print(f"    opened {ok} ({bad} failed) in {took:.1f}s ({ok / took:.0f}/s); "
              f"{alive} still open when released")
        for m in opened:
            if m[5]:
                print(f"    sample failures: {m[5]}")
        per = (after - before) / max(ok, 1)
        print(f"    {_load()}")
        print(f"    server RSS before {before / MiB:.1f} MiB, after {after / MiB:.1f} MiB, "
              f"total {after / MiB:.1f} MiB; per connection {per / 1024:.1f} KiB")

    # ---- (b) ----------------------------------------------------------------------------------

    def throughput(self) -> None:
        a = self.args
        print(f"\n(b) persisted messages/s: {a.pairs} visitors (1 in flight each) + "
              f"{a.workers} agents ({a.window} in flight each), {a.duration:.0f}s")
        q, procs, go, _ = self._spawn("throughput", self._split(a.pairs), duration=a.duration,
                                      window=a.window)
        self._collect(q, "ready", len(procs), 300)
        cpu0, t0 = self.server.cpu_seconds(), time.monotonic()
        go.set()
        results = [m[2] for m in self._collect(q, "result", len(procs), a.duration + 120)]
        wall, cpu = time.monotonic() - t0, self.server.cpu_seconds() - cpu0
        self._join(procs)
        v = [c for r in results for c in r["visitor"]]
        g = [c for r in results for c in r["agent"]]
        seconds = max(r["seconds"] for r in results)
        print(f"    acked {len(v) + len(g)} messages ({len(v)} visitor, {len(g)} agent) in "
              f"{seconds:.1f}s: {(len(v) + len(g)) / seconds:.0f} messages/s; "
              f"server CPU {cpu / wall * 100:.0f}% of one core, "
              f"{cpu * 1000 / max(1, len(v) + len(g)):.2f} ms CPU per message; {_load()}")
        lat = sorted(x for r in results for x in r["ack_latency"])
        if lat:
            print(f"    send->ack p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms")
        for r in results:
            if r["failures"] or r["errors"]:
                print(f"    worker problems: {r['failures']} {r['errors']}")
        self._verify(set(v) | set(g), len(v) + len(g))

    def _verify(self, acked: set[str], count: int) -> None:
        stored = {str(r[0]) for r in self.server.query(
            "SELECT client_msg_id FROM messages WHERE client_msg_id LIKE 't%'")}
        missing = {c for c in acked if c not in stored}
        dup = count - len(acked)
        gaps = self.server.query(
            "SELECT c.id, c.last_seq, COUNT(m.id), MIN(m.seq), MAX(m.seq) FROM conversations c "
            "JOIN messages m ON m.conversation_id = c.id GROUP BY c.id "
            "HAVING COUNT(m.id) != c.last_seq OR MIN(m.seq) != 1 OR MAX(m.seq) != c.last_seq")
        ok = not missing and not gaps and not dup
        print(f"    DB check: {len(acked)} acked ids, {len(stored)} stored (incl. openers), "
              f"{len(missing)} acked but missing, {dup} acked twice, "
              f"{len(gaps)} conversations with seq gaps -> {'OK' if ok else 'FAILED'}")

    # ---- (c) ----------------------------------------------------------------------------------

    def latency(self) -> None:
        a = self.args
        print(f"\n(c) delivery latency: {a.rate:.0f} msg/s offered (paced) from "
              f"{a.latency_visitors} visitors, {a.warmup:.0f}s warm-up + "
              f"{a.latency_duration:.0f}s measured; visitor send -> agent receives the frame")
        q, procs, go, _ = self._spawn(
            "latency", self._split(a.latency_visitors), rate=a.rate / a.workers,
            duration=a.latency_duration, warmup=a.warmup)
        self._collect(q, "ready", len(procs), 300)
        cpu0, t0 = self.server.cpu_seconds(), time.monotonic()
        go.set()
        timeout = a.warmup + a.latency_duration + 120
        results = [m[2] for m in self._collect(q, "result", len(procs), timeout)]
        wall, cpu = time.monotonic() - t0, self.server.cpu_seconds() - cpu0
        self._join(procs)
        lat = sorted(x for r in results for x in r["latency"])
        sent, expected = sum(r["sent"] for r in results), sum(r["expected"] for r in results)
        achieved = sent / max(r["send_seconds"] for r in results)
        late = sum(r["late_sends"] for r in results)
        print(f"    sent {sent} at {achieved:.0f} msg/s achieved ({late} sends >5 ms late); "
              f"measured {len(lat)}/{expected} delivered; server CPU {cpu / wall * 100:.0f}%, "
              f"{cpu * 1000 / max(1, sent):.2f} ms per message; {_load()}")
        if lat:
            print(f"    delivery p50 {_pct(lat, 50):.1f} ms, p90 {_pct(lat, 90):.1f} ms, "
                  f"p99 {_pct(lat, 99):.1f} ms, max {lat[-1] * 1000:.1f} ms")
        acks = sorted(x for r in results for x in r["ack_latency"])
        if acks:
            print(f"    send->ack p50 {_pct(acks, 50):.1f} ms, p99 {_pct(acks, 99):.1f} ms")
        for r in results:
            if r["errors"]:
                print(f"    errors: {r['errors']}")


def _load() -> str:
    """Other work on the machine skews every figure here; print how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def _pct(sorted_values: list[float], p: float) -> float:
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i] * 1000


if __name__ == "__main__":
    raise SystemExit(main())
