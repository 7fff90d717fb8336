"""Tresen load benchmark: idle connections, persisted messages/s, delivery latency.

Starts a real ``tresen serve`` subprocess on SQLite (fresh temp var dir, migrated, seeded with a
site and agents) and drives it with real WebSocket clients in a few worker processes:

  (a) idle: N visitor sockets held open; server RSS before/after and per connection.
  (b) throughput: visitors (one send in flight each) and agents (a window of sends) in their
      conversations for T seconds; acked messages are counted and checked in the database
      (every acked client_msg_id stored once, seq gapless per conversation).
  (c) latency: a paced offered rate (default 1,000 msg/s) of visitor sends; the time from the
      visitor's send to the agent's receipt of the message frame, p50/p99.
  agents: the workload of (b), its conversations assigned to the answering agents, run twice:
      with only those agents' consoles online, then with N agent consoles online (the others
      idle); server CPU per message side by side, and the frames the idle consoles received.

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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

if __package__ in (None, ""):  # ``python bench/load.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._clients import Job, run
from bench._consoles import ConsolesJob, frames_between, run_consoles
from bench._server import BenchServer, raise_nofile

MiB = 1024 * 1024


@dataclass
class Run:
    """One closed-loop run's figures; ``started``/``ended`` are ``time.monotonic()``."""

    messages: int
    seconds: float
    wall: float
    cpu: float
    started: float
    ended: float
    load: str
    ok: bool = False

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu * 1000 / max(1, self.messages)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--phases", default="idle,throughput,latency",
                   help="comma-separated subset of idle,throughput,latency,agents")
    p.add_argument("--connections", type=int, default=10_000, help="(a) idle visitor sockets")
    p.add_argument("--pairs", type=int, default=100,
                   help="(b) visitors, each with a conversation, sending closed-loop")
    p.add_argument("--duration", type=float, default=10.0, help="(b) seconds of sending")
    p.add_argument("--window", type=int, default=8, help="(b) agent sends in flight per agent")
    p.add_argument("--rate", type=float, default=1000.0, help="(c) offered messages/s")
    p.add_argument("--latency-visitors", type=int, default=200, help="(c) sending visitors")
    p.add_argument("--latency-duration", type=float, default=15.0, help="(c) measured seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="(c) unmeasured seconds first")
    p.add_argument("--agents", type=int, default=200,
                   help="(agents) agent consoles online in the second run, the answering "
                        "agents (one per worker) included")
    p.add_argument("--workers", type=int, default=2,
                   help="client processes; each also holds one agent socket in (b) and (c)")
    p.add_argument("--frames-per-second", type=float, default=10_000,
                   help="server per-socket frame rate limit (TRESEN_FRAMES_PER_SECOND)")
    p.add_argument("--keep", action="store_true", help="keep the temp var dir (database, log)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if "agents" in phases and args.agents <= args.workers:
        raise SystemExit("--agents must be more than --workers (the answering agents)")
    nofile = raise_nofile(max(args.connections, args.agents) * 2 + 4096)
    var_dir = Path(tempfile.mkdtemp(prefix="tresen-bench-"))
    env = {
        "TRESEN_FRAMES_PER_SECOND": str(args.frames_per_second),
        "TRESEN_FRAMES_BURST": str(args.frames_per_second),
        # Every agent console logs in from 127.0.0.1 (default: 10 logins a minute per IP).
        "TRESEN_LOGIN_ATTEMPTS_PER_MINUTE": str(max(10, args.agents + 100)),
    }
    server = BenchServer(var_dir, nofile, env)
    failed = False
    try:
        t0 = time.monotonic()
        seeded = server.prepare(agents=args.agents if "agents" in phases else args.workers)
        server.start()
        print(f"server pid {server.proc.pid if server.proc else '?'} on {server.url}, "
              f"var dir {var_dir}, RLIMIT_NOFILE {nofile}, ready in {time.monotonic() - t0:.1f}s")
        ctx = Context(args, server, seeded.site_key, seeded.agents)
        for phase in phases:
            {"idle": ctx.idle, "throughput": ctx.throughput, "latency": ctx.latency,
             "agents": ctx.agents_phase}[phase]()
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
        self.floor = False  # driving the reference relay (bench/floor.py)

    def _spawn(self, phase: str, counts: list[int], **kw: Any) -> tuple[Any, list[Any], Any, Any]:
        q, go, release = self.mp.Queue(), self.mp.Event(), self.mp.Event()
        procs = []
        for w, n in enumerate(counts):
            job = Job(worker=w, base_url=self.server.url, site_key=self.site_key, visitors=n,
                      queue=q, go=go, release=release, floor=self.floor, **kw)
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
        self._closed_loop("t")

    def _closed_loop(self, tag: str, assign: bool = False) -> Run:
        """The workload of (b); prints its figures and the DB check, returns them."""
        a = self.args
        q, procs, go, release = self._spawn("throughput", self._split(a.pairs),
                                            duration=a.duration, window=a.window, tag=tag,
                                            assign=assign)
        self._collect(q, "ready", len(procs), 300)
        if assign:
            time.sleep(1)  # let the frames of the set-up (new, assigned conversations) drain
        cpu0, t0 = self.server.cpu_seconds(), time.monotonic()
        go.set()
        results = [m[2] for m in self._collect(q, "result", len(procs), a.duration + 120)]
        wall, cpu = time.monotonic() - t0, self.server.cpu_seconds() - cpu0
        release.set()
        self._join(procs)
        v = [c for r in results for c in r["visitor"]]
        g = [c for r in results for c in r["agent"]]
        seconds = max(r["seconds"] for r in results)
        run = Run(len(v) + len(g), seconds, wall, cpu, t0, max(r["ended"] for r in results),
                  _load())
        print(f"    acked {run.messages} messages ({len(v)} visitor, {len(g)} agent) in "
              f"{seconds:.1f}s: {run.per_second:.0f} messages/s; "
              f"server CPU {cpu / wall * 100:.0f}% of one core, "
              f"{run.cpu_ms:.2f} ms CPU per message; {run.load}")
        lat = sorted(x for r in results for x in r["ack_latency"])
        if lat:
            print(f"    send->ack p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms")
        for r in results:
            if r["failures"] or r["errors"]:
                print(f"    worker problems: {r['failures']} {r['errors']}")
        run.ok = self._verify(set(v) | set(g), len(v) + len(g), tag)
        return run

    def _verify(self, acked: set[str], count: int, tag: str) -> bool:
        stored = {str(r[0]) for r in self.server.query(
            "SELECT client_msg_id FROM messages WHERE client_msg_id LIKE ?", f"{tag}%")}
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
        return ok

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


    # ---- agents: CPU per message with 2 vs N agent consoles online ---------------------------

    def agents_phase(self) -> None:
        a = self.args
        answering, idle_names = a.workers, self.agents[a.workers:a.agents]
        print(f"\n(agents) the workload of (b), conversations assigned to the {answering} "
              f"answering agents: with {answering} agent consoles online, then with {a.agents} "
              f"({len(idle_names)} more agents, one idle console each)")
        print(f"  run 1: {answering} consoles")
        few = self._closed_loop("two", assign=True)
        q, release = self.mp.Queue(), self.mp.Event()
        job = ConsolesJob(base_url=self.server.url, agents=idle_names, queue=q, release=release)
        proc = self.mp.Process(target=run_consoles, args=(job,), daemon=True)
        proc.start()
        opened = self._collect(q, "open", 1, 600)[0]
        print(f"  {opened[1]} idle consoles logged in over HTTP and connected in "
              f"{opened[3]:.1f}s ({opened[2]} failed{': ' + str(opened[4]) if opened[2] else ''})")
        time.sleep(2)  # let the inbox frames of the login burst drain before measuring
        print(f"  run 2: {answering + opened[1]} consoles")
        client = psutil.Process(proc.pid)
        client_cpu0 = sum(client.cpu_times()[:2])
        many = self._closed_loop("many", assign=True)
        client_cpu = sum(client.cpu_times()[:2]) - client_cpu0
        release.set()
        counts, closed, samples = self._collect(q, "frames", 1, 120)[0][1:]
        self._collect(q, "done", 1, 120)
        self._join([proc])
        frames = frames_between(counts, many.started, many.ended)
        self._agents_report(few, many, opened[1], frames, closed)
        print(f"    the idle consoles' own process used {client_cpu / many.wall * 100:.0f}% of a "
              f"core during run 2 (receiving competes with the server for the 2 cores)")
        shown = [(t, raw) for (_, kind), kept in sorted(samples.items()) for t, raw in kept
                 if kind != "ping" and many.started <= t <= many.ended]
        for t, raw in shown[:6]:
            print(f"    e.g. at +{t - many.started:.1f}s: {raw}")

    def _agents_report(self, few: Run, many: Run, idle: int, frames: Counter[str],
                       closed: list[tuple[float, int | None, str]]) -> None:
        n = self.args.workers + idle
        print(f"\n    {'':34}{self.args.workers:>5} consoles{n:>10} consoles")
        print(f"    {'server CPU ms per message':34}{few.cpu_ms:>14.3f}{many.cpu_ms:>19.3f}")
        print(f"    {'messages/s (acked)':34}{few.per_second:>14.0f}{many.per_second:>19.0f}")
        print(f"    {'server CPU, % of one core':34}{few.cpu / few.wall * 100:>14.0f}"
              f"{many.cpu / many.wall * 100:>19.0f}")
        print(f"    {'DB check':34}{'OK' if few.ok else 'FAILED':>14}"
              f"{'OK' if many.ok else 'FAILED':>19}")
        ratio = many.cpu_ms / few.cpu_ms
        print(f"    CPU per message, {n} vs {self.args.workers} consoles: {ratio:.2f}x "
              f"(target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'})")
        total, kinds = sum(frames.values()), ", ".join(f"{k} {v}" for k, v in frames.most_common())
        print(f"    frames received by the {idle} idle consoles during run 2's measured window "
              f"({many.ended - many.started:.1f}s): {total} ({kinds or 'none'}); "
              f"{frames['message'] / max(1, idle):.0f} message frames per idle console, "
              f"{many.messages} messages acked")
        if closed:
            print(f"    WARNING: {len(closed)} idle consoles were closed by the server during the "
                  f"runs, e.g. {closed[:3]}")
        print(f"    run 1: {few.load}; run 2: {many.load}")


def _load() -> str:
    """Other work on the machine skews every figure here; print how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def _pct(sorted_values: list[float], p: float) -> float:
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i] * 1000


if __name__ == "__main__":
    raise SystemExit(main())
