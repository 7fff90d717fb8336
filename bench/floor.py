"""Tresen against the Python floor: the reference relay and Tresen alternately, same machine.

Each round starts the reference relay (``bench/reference_relay.py``: ``websockets`` + ``sqlite3``)
and then Tresen (``tresen serve`` on SQLite, as ``bench.load`` does), each on a fresh database, and
drives both with the same clients (``bench/_clients.py``) through the same phases:

  connect: N visitor connections opened (Tresen: ``POST /api/visitor/session`` then the socket;
           the floor inserts its visitor row when the socket opens), time until all are open;
           server RSS before and after, per connection (idle KiB).
  saturation: the closed loop of ``bench.load`` (b): persisted msg/s and server CPU per message
           (process user+system time / acked messages), with its database check.
  latency: a paced offered rate (each of ``--rates``), visitor send -> agent receives, p50/p99.

A B A B (``--rounds``) so slow drift on a shared machine hits both; the table gives the medians
and the ratio Tresen / floor. The load average is printed at the start and end of every run.

Run: ``.venv/bin/python -m bench.floor`` (``--quick`` for a run of about 3 minutes).
``--baseline DIR`` adds a third server in every round: Tresen from another checkout (say a
worktree of main: ``git worktree add --detach ../base main``), run with this venv and that
tree's ``src`` first on ``PYTHONPATH``; the table then also gives Tresen / baseline, an A/B of a
change measured in the same run (floor, baseline, Tresen in each round).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/floor.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import BenchServer, Seeded, raise_nofile
from bench.load import Context, _load, _pct, parse_args

KiB = 1024
ROOT = Path(__file__).resolve().parent.parent


class FloorServer(BenchServer):
    """The reference relay as a subprocess, with ``BenchServer``'s interface."""

    def prepare(self, agents: int) -> Seeded:
        return Seeded("floor", [f"floor-agent-{i}" for i in range(agents)])

    def start(self) -> None:
        nofile = self.nofile
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.reference_relay",
                "--port",
                str(self.port),
                "--db",
                str(self.db_path),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            preexec_fn=lambda: raise_nofile(nofile),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"reference relay exited; see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("reference relay did not listen")


def options(argv: list[str] | None) -> tuple[argparse.Namespace, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="bench.floor", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, help="A B rounds (floor, then Tresen); default 3")
    p.add_argument("--connections", type=int, default=5000, help="visitor sockets to open")
    p.add_argument("--pairs", type=int, default=100, help="saturation: sending visitors")
    p.add_argument("--duration", type=float, default=10.0, help="saturation: seconds")
    p.add_argument("--rates", default="500,1000,2000", help="latency: offered msg/s, each")
    p.add_argument("--latency-visitors", type=int, default=200)
    p.add_argument("--latency-duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=2.0, help="latency: unmeasured seconds")
    p.add_argument("--workers", type=int, default=2, help="client processes")
    p.add_argument("--only", choices=["floor", "tresen"], help="run one side only")
    p.add_argument("--baseline", type=Path, help="another checkout of Tresen to compare with")
    p.add_argument(
        "--stalls",
        action="store_true",
        help="probe Tresen's event loop (bench._stall_probe): loop stalls > 20 ms at each rate",
    )
    p.add_argument(
        "--connect-only", action="store_true", help="only the connect phase (connect, idle KiB)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="2 rounds, 1,000 connections, 4 s phases (about 3 minutes)",
    )
    a = p.parse_args(argv)
    if a.quick:
        a.rounds, a.connections, a.duration = a.rounds or 2, 1000, 4.0
        a.latency_duration, a.warmup, a.latency_visitors = 4.0, 1.0, 100
    a.rounds = a.rounds or 3
    load_args = parse_args(
        [
            "--pairs",
            str(a.pairs),
            "--duration",
            str(a.duration),
            "--workers",
            str(a.workers),
            "--latency-visitors",
            str(a.latency_visitors),
            "--warmup",
            str(a.warmup),
            "--latency-duration",
            str(a.latency_duration),
            "--connections",
            str(a.connections),
        ]
    )
    return a, load_args


def connect_phase(ctx: Context, n: int) -> dict[str, float]:
    cpu = ctx.server.cpu_seconds()
    q, procs, go, release = ctx._spawn("idle", ctx._split(n))
    tokens = ctx._collect(q, "tokens", len(procs), 600)
    time.sleep(1)
    before = ctx.server.rss()
    go.set()
    opened = ctx._collect(q, "open", len(procs), 600)
    cpu = ctx.server.cpu_seconds() - cpu
    ok, bad = sum(m[2] for m in opened), sum(m[3] for m in opened)
    time.sleep(2)  # let the server settle
    after = ctx.server.rss()
    release.set()
    ctx._collect(q, "done", len(procs), 120)
    ctx._join(procs)
    seconds = max(m[3] for m in tokens) + max(m[4] for m in opened)
    print(
        f"    connect: {ok} open ({bad} failed) in {seconds:.1f}s "
        f"(sessions {max(m[3] for m in tokens):.1f}s + sockets {max(m[4] for m in opened):.1f}s)"
        f"; RSS {before / KiB / KiB:.1f} -> {after / KiB / KiB:.1f} MiB; server CPU {cpu:.2f} s"
    )
    if bad:
        raise RuntimeError(f"{bad} connections failed: {[m[5] for m in opened if m[5]][:2]}")
    idle_kib = (after - before) / KiB / max(ok, 1)
    return {"connect_s": seconds, "idle_kib": idle_kib, "connect_cpu_s": cpu}


def latency_phase(ctx: Context, rate: float) -> dict[str, float]:
    a = ctx.args
    q, procs, go, _ = ctx._spawn(
        "latency",
        ctx._split(a.latency_visitors),
        rate=rate / a.workers,
        duration=a.latency_duration,
        warmup=a.warmup,
    )
    ctx._collect(q, "ready", len(procs), 300)
    go.set()
    results = [
        m[2] for m in ctx._collect(q, "result", len(procs), a.warmup + a.latency_duration + 120)
    ]
    ctx._join(procs)
    lat = sorted(x for r in results for x in r["latency"])
    expected = sum(r["expected"] for r in results)
    achieved = sum(r["sent"] for r in results) / max(r["send_seconds"] for r in results)
    p50, p99 = (_pct(lat, 50), _pct(lat, 99)) if lat else (float("nan"),) * 2
    lost = expected - len(lat)
    print(
        f"    {rate:.0f} msg/s offered ({achieved:.0f} achieved): delivery p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms; {len(lat)}/{expected} delivered in time"
    )
    if lost:  # not delivered within 15 s: count as the worst latency, never drop silently
        p99 = float("inf")
    return {f"p50_{rate:.0f}": p50, f"p99_{rate:.0f}": p99, f"n_{rate:.0f}": len(lat)}


STALL_MS = 20.0


def stall_figures(log: Path, windows: dict[str, tuple[float, float, int]]) -> dict[str, float]:
    """Per latency phase, from the probe's gaps: loop stalls over ``STALL_MS`` of the loop
    thread's own CPU time per 10,000 delivered messages, the longest such, and the longest gap
    without run-queue wait."""
    gaps = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    fig: dict[str, float] = {}
    for rate, (t0, t1, n) in windows.items():
        phase = [g for g in gaps if t0 <= g[0] <= t1]
        over = sum(1 for g in phase if g[3] > STALL_MS)
        fig[f"stalls_{rate}"] = over * 10_000 / max(n, 1)
        fig[f"maxstall_{rate}"] = max((g[3] for g in phase), default=0.0)
        fig[f"maxown_{rate}"] = max((g[2] for g in phase), default=0.0)
        print(
            f"    {rate} msg/s: {over} loop stalls with > {STALL_MS:.0f} ms CPU on the loop "
            f"({fig[f'stalls_{rate}']:.1f} per 10,000 messages), most CPU in one "
            f"{fig[f'maxstall_{rate}']:.1f} ms; longest gap without run-queue wait "
            f"{fig[f'maxown_{rate}']:.1f} ms, with it {max((g[1] for g in phase), default=0.0):.1f}"
            " ms"
        )
    gc_log = Path(str(log) + ".gc")
    pauses = [json.loads(x) for x in gc_log.read_text().splitlines()] if gc_log.exists() else []
    for rate, (t0, t1, _n) in windows.items():
        phase = [p for p in pauses if t0 <= p[0] <= t1]
        by_gen = {g: [p[2] for p in phase if p[1] == g] for g in (0, 1, 2)}
        print(
            f"    {rate} msg/s: collector pauses over 5 ms by generation "
            + ", ".join(
                f"{g}: {len(ms)} (longest {max(ms, default=0.0):.0f} ms)"
                for g, ms in by_gen.items()
            )
        )
    return fig


def one_run(kind: str, a: argparse.Namespace, load_args: argparse.Namespace) -> dict[str, float]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"tresen-floor-{kind}-"))
    nofile = raise_nofile(a.connections * 2 + 4096)
    env = {"TRESEN_FRAMES_PER_SECOND": "10000", "TRESEN_FRAMES_BURST": "10000"}
    if kind == "baseline":
        src = str((a.baseline / "src").resolve())
        env["PYTHONPATH"] = src + os.pathsep + os.environ.get("PYTHONPATH", "")
    cls = FloorServer if kind == "floor" else BenchServer
    server = cls(var_dir, nofile, env)
    windows: dict[str, tuple[float, float, int]] = {}
    if a.stalls and kind != "floor":
        server.stall_log = var_dir / "stalls.jsonl"
    print(f"\n  [{kind}] {_load()} at start")
    try:
        seeded = server.prepare(agents=a.workers)
        server.start()
        ctx = Context(load_args, server, seeded.site_key, seeded.agents)
        ctx.floor = kind == "floor"
        fig = connect_phase(ctx, a.connections)
        if a.connect_only:
            return fig
        run = ctx._closed_loop("t")
        if not run.ok:
            raise RuntimeError(f"{kind}: the database check failed")
        fig.update(cpu_ms=run.cpu_ms, saturation=run.per_second)
        for rate in [float(r) for r in a.rates.split(",") if r.strip()]:
            t0 = time.time()
            fig.update(latency_phase(ctx, rate))
            windows[f"{rate:.0f}"] = (t0, time.time(), int(fig[f"n_{rate:.0f}"]))
    finally:
        server.stop()
        print(f"  [{kind}] {_load()} at end")
        if a.stalls:
            if server.stall_log is not None:
                fig.update(stall_figures(server.stall_log, windows))
                stall_stacks(Path(str(server.stall_log) + ".stacks"), windows)
            else:  # the floor has no probe
                fig.update({f"{k}_{r}": float("nan") for r in windows for k in STALL_KEYS})
        shutil.rmtree(var_dir, ignore_errors=True)
    return fig


ROWS = [
    ("CPU per persisted message (ms)", "cpu_ms", "<= 1.5x", lambda r: r <= 1.5),
    ("saturation (msg/s persisted)", "saturation", ">= 0.7x", lambda r: r >= 0.7),
    ("idle KiB per connection", "idle_kib", "<= 2x", lambda r: r <= 2.0),
    ("time to connect N visitors (s)", "connect_s", "<= 2x", lambda r: r <= 2.0),
    ("server CPU to connect N visitors (s)", "connect_cpu_s", "", lambda r: True),
]


def stall_stacks(path: Path, windows: dict[str, tuple[float, float, int]]) -> None:
    """With BENCH_STALL_STACKS=1: where the loop was in its stalls of the latency phases, the
    innermost Tresen/SQLAlchemy frames, most frequent first."""
    if not path.exists():
        return
    counts: dict[str, int] = {}
    for line in path.read_text().splitlines():
        at, frames = json.loads(line)
        if any(t0 <= at <= t1 for t0, t1, _ in windows.values()):
            key = " < ".join(reversed(frames[-4:])) or "(outside Tresen: the loop itself)"
            counts[key] = counts.get(key, 0) + 1
    print(f"    loop stacks in stalls > 8 ms ({sum(counts.values())}), innermost first:")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1])[:12]:
        print(f"      {n:4d}  {key}")


STALL_KEYS = ("stalls", "maxstall", "maxown")


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs) if runs else float("nan")


def stall_rows(a: argparse.Namespace) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for rate in [r.strip() for r in a.rates.split(",") if r.strip()] if a.stalls else []:
        rows += [(f"loop stalls > 20 ms CPU per 10k msgs at {rate} msg/s", f"stalls_{rate}")]
        rows += [(f"most loop CPU in one stall at {rate} msg/s (ms)", f"maxstall_{rate}")]
        rows += [(f"longest stall w/o run-queue wait at {rate} msg/s (ms)", f"maxown_{rate}")]
    return rows


def ab_table(a: argparse.Namespace, runs: dict[str, list[dict[str, float]]]) -> str:
    """Baseline against this tree, each also against the floor."""
    keys = [(label, key) for label, key, *_ in ROWS]
    for rate in [r.strip() for r in a.rates.split(",") if r.strip()]:
        keys += [(f"delivery p50 at {rate} msg/s (ms)", f"p50_{rate}")]
        keys += [(f"delivery p99 at {rate} msg/s (ms)", f"p99_{rate}")]
    keys += stall_rows(a)
    out = [
        "| figure | floor | baseline | Tresen | baseline / floor | Tresen / floor "
        "| Tresen / baseline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    every = runs["baseline"] + runs["tresen"]
    for label, key in keys:
        if not all(key in r for r in every):
            continue  # a phase not run (--connect-only)
        f, b, t = (_median(runs[k], key) for k in ("floor", "baseline", "tresen"))
        out.append(
            f"| {label} | {_fmt(f)} | {_fmt(b)} | {_fmt(t)} | {_ratio(b, f)} | {_ratio(t, f)} "
            f"| {_ratio(t, b)} |"
        )
    return "\n".join(out)


def table(a: argparse.Namespace, runs: dict[str, list[dict[str, float]]]) -> str:
    rows = list(ROWS)
    for rate in [r.strip() for r in a.rates.split(",") if r.strip()]:
        rows.append((f"delivery p50 at {rate} msg/s (ms)", f"p50_{rate}", "", lambda r: True))
        target = ("<= 20 ms (quiet machine)", None) if rate == "1000" else ("", None)
        rows.append((f"delivery p99 at {rate} msg/s (ms)", f"p99_{rate}", target[0], target[1]))
    rows += [(label, key, "", lambda r: True) for label, key in stall_rows(a)]
    out = [
        "| figure | floor (median) | Tresen (median) | Tresen / floor | target |",
        "|---|---:|---:|---:|---|",
    ]
    for label, key, target, check in rows:
        if not all(key in r for r in runs["floor"] + runs["tresen"]):
            continue  # a phase not run (--connect-only)
        f = statistics.median(r[key] for r in runs["floor"]) if runs["floor"] else float("nan")
        t = statistics.median(r[key] for r in runs["tresen"]) if runs["tresen"] else float("nan")
        ratio = t / f if f else float("nan")
        if key.startswith("p99_1000"):
            verdict = f"{target}: {'met' if t <= 20 else 'NOT met'}"
        elif check is not None and target:
            verdict = f"{target}: {'met' if check(ratio) else 'NOT met'}"
        else:
            verdict = target
        out.append(f"| {label} | {_fmt(f)} | {_fmt(t)} | {ratio:.2f}x | {verdict} |")
    return "\n".join(out)


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.2f}x" if y else "n/a"  # a count of stalls may be 0


def _fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.0f}" if x == x else "n/a"


def main(argv: list[str] | None = None) -> int:
    a, load_args = options(argv)
    kinds = [a.only] if a.only else ["floor", "tresen"]
    if a.baseline is not None:
        kinds.insert(-1, "baseline")
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "tresen": [], "baseline": []}
    started = time.monotonic()
    print(
        f"bench.floor: {a.rounds} rounds of {' then '.join(kinds)}; N={a.connections}, "
        f"saturation {a.pairs} visitors x {a.duration:.0f}s, rates {a.rates} x "
        f"{a.latency_duration:.0f}s; {os.cpu_count()} CPUs; {_load()}"
    )
    for i in range(a.rounds):
        print(f"\nround {i + 1}/{a.rounds}")
        for kind in kinds:
            runs[kind].append(one_run(kind, a, load_args))
    print(
        f"\nmedians of {a.rounds} rounds, {time.monotonic() - started:.0f}s in all; "
        f"{_load()} at the end\n"
    )
    print(table(a, runs))
    if runs["baseline"] and runs["tresen"]:  # without the floor (--only tresen): its column n/a
        print(f"\nA/B: baseline {a.baseline} against this tree\n")
        print(ab_table(a, runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
