"""Routing at scale on a real ``tresen serve`` (SQLite): 500 waiting chats, a reconnect storm.

Prints:
- the time to open N conversations (N visitors each send a first message at once; until every
  ack), and how long routing passes held the write lock meanwhile (the first passes see the
  queue grow);
- the write-lock hold per routing pass with N chats waiting (count, mean, p50/p90/max from the
  server's ``tresen_routing_lock_seconds`` histogram and its max gauge), while agents' status
  changes and a trickle of new chats kick passes (targets: <= 50 ms a pass);
- the reconnect storm: every visitor's socket drops and all reconnect at once, each sending
  ``resume``; the time until all got ``resumed`` (target: <= 2 s for 500).

    .venv/bin/python -m bench.routing_scale [--chats 500] [--agents 2] [--seconds 10]

The agents are online with their 20 slots each, which routing fills at once: N more chats than
that are opened, so N wait.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection

from bench._clients import agent_login, agent_ws_url, connect_ws
from bench._server import ORIGIN, BenchServer, raise_nofile

METRICS_TOKEN = "bench-metrics"
# BENCH_PROFILE=<phase>:<file> (phase: open, steady or storm) records the server with py-spy.
PROFILE = os.environ.get("BENCH_PROFILE", "")
CONCURRENCY = 200


class Visitor:
    def __init__(self, token: str) -> None:
        self.token = token
        self.ws: ClientConnection | None = None
        self.conv: int | None = None
        self.seq = 0
        self.acked = asyncio.Event()
        self.resumed = asyncio.Event()
        self.welcomed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    async def connect(self, base: str, site: str) -> None:
        self.welcomed.clear()
        self.ws = await connect_ws(f"{base}/ws/visitor?site={site}&token={quote(self.token)}")
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                f = json.loads(raw)
                kind = f.get("type")
                if kind == "welcome":
                    self.welcomed.set()
                elif kind == "ack":
                    self.conv, self.seq = f["conversation_id"], max(self.seq, f["seq"])
                    self.acked.set()
                elif kind == "message":
                    self.seq = max(self.seq, f["seq"])
                elif kind == "resumed":
                    self.resumed.set()
                elif kind == "error":
                    print("  error frame:", f)
        except Exception:
            pass

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def drop(self) -> None:
        """The network goes: the TCP connection ends without a close handshake."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self.reader is not None:
            self.reader.cancel()


async def _tokens(http: httpx.AsyncClient, n: int, site: str) -> list[str]:
    sem = asyncio.Semaphore(32)

    async def one() -> str:
        async with sem:
            r = await http.post(
                "/api/visitor/session", json={"site_key": site}, headers={"Origin": ORIGIN}
            )
            r.raise_for_status()
            return str(r.json()["token"])

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _gathered(coros: list[Any]) -> None:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(c: Any) -> None:
        async with sem:
            await c

    await asyncio.gather(*(one(c) for c in coros))


class Profile:
    def __init__(self, server: BenchServer, phase: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        want, _, path = PROFILE.partition(":")
        if want == phase and server.proc is not None:
            cmd = ["py-spy", "record", "-p", str(server.proc.pid), "-f", "raw", "-o", path]
            self.proc = subprocess.Popen([*cmd, "-r", "100", "--nonblocking"])
            time.sleep(1.0)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(30)


async def _metrics(http: httpx.AsyncClient) -> dict[str, float]:
    r = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = r.text
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r'^(tresen_routing_lock_\w+?)(\{le="([^"]+)"\})? ([0-9.e+-]+)$', line)
        if m:
            key = m.group(1) + (f"@{m.group(3)}" if m.group(3) else "")
            out[key] = float(m.group(4))
    return out


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if not k.endswith("max_seconds")}


def _quantile(d: dict[str, float], q: float) -> str:
    count = d.get("tresen_routing_lock_seconds_count", 0)
    buckets = sorted(
        (float(k.split("@")[1]), v)
        for k, v in d.items()
        if k.startswith("tresen_routing_lock_seconds_bucket@") and "+Inf" not in k
    )
    for le, n in buckets:
        if count and n >= q * count:
            return f"<= {le * 1000:g} ms"
    return "> 10 s"


def _report(label: str, d: dict[str, float], peak: float) -> None:
    count = int(d.get("tresen_routing_lock_seconds_count", 0))
    total = d.get("tresen_routing_lock_seconds_sum", 0.0)
    within = d.get("tresen_routing_lock_seconds_bucket@0.05", 0.0)
    mean = total / count * 1000 if count else 0.0
    print(
        f"{label}: {count} passes, lock held mean {mean:.1f} ms, p50 {_quantile(d, 0.5)},"
        f" p90 {_quantile(d, 0.9)}, max so far {peak * 1000:.1f} ms;"
        f" {within:.0f}/{count} passes <= 50 ms"
    )


async def run(chats: int, agents: int, seconds: float) -> None:
    raise_nofile(65536)
    with tempfile.TemporaryDirectory(prefix="tresen-routing-scale-") as tmp:
        server = BenchServer(
            Path(tmp),
            65536,
            {
                "TRESEN_METRICS_TOKEN": METRICS_TOKEN,
                "TRESEN_NEW_CONVERSATIONS_PER_VISITOR_PER_HOUR": "1000",
                "TRESEN_FRAMES_PER_SECOND": "1000",
            },
        )
        seeded = server.prepare(agents)
        server.start()
        try:
            await _bench(server, seeded.site_key, seeded.agents, chats, seconds)
        finally:
            server.stop()


async def _bench(
    server: BenchServer, site: str, names: list[str], chats: int, seconds: float
) -> None:
    base_ws = server.url.replace("http", "ws", 1)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
        consoles = []
        ids: list[tuple[int, str]] = []
        for name in names:
            agent_id, csrf = await agent_login(http, name)
            consoles.append(await connect_ws(await agent_ws_url(http, csrf), origin=None))
            r = await http.patch(
                f"/api/agents/{agent_id}",
                json={"status": "online"},
                headers={"X-CSRF-Token": csrf},
            )
            r.raise_for_status()
            ids.append((agent_id, csrf))
        drains = [asyncio.create_task(_drain(ws)) for ws in consoles]

        slots = 20 * len(names)  # bench._server seeds agents with max_chats=20
        visitors = [Visitor(t) for t in await _tokens(http, chats + slots, site)]
        await _gathered([v.connect(base_ws, site) for v in visitors])
        await asyncio.wait_for(asyncio.gather(*(v.welcomed.wait() for v in visitors)), 60)
        m0 = await _metrics(http)

        # (1) Open the conversations: every visitor's first message at once.
        profile = Profile(server, "open")
        cpu = server.cpu_seconds()
        started = time.monotonic()
        for i, v in enumerate(visitors):
            await v.send({"type": "send", "client_msg_id": f"open-{i}", "body": f"Hello {i}"})
        await asyncio.wait_for(asyncio.gather(*(v.acked.wait() for v in visitors)), 300)
        opened = time.monotonic() - started
        profile.stop()
        await asyncio.sleep(3)  # the passes the opening asked for
        m1 = await _metrics(http)
        waiting = server.query(
            "SELECT count(*) FROM conversations WHERE status='open' AND queued_at IS NOT NULL"
            " AND assignee_id IS NULL AND offered_to IS NULL"
        )[0][0]
        print(
            f"opened {len(visitors)} conversations in {opened:.2f} s"
            f" (server CPU {server.cpu_seconds() - cpu:.2f} s); {waiting} waiting"
        )
        _report("  routing while opening", _delta(m0, m1), m1["tresen_routing_lock_max_seconds"])

        # (2) Steady state with the queue full: status changes and a trickle of new chats.
        agent_id, csrf = ids[-1]
        extra = Visitor((await _tokens(http, 1, site))[0])
        await extra.connect(base_ws, site)
        await extra.welcomed.wait()
        profile = Profile(server, "steady")
        cpu = server.cpu_seconds()
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            status = "away" if n % 2 == 0 else "online"
            r = await http.patch(
                f"/api/agents/{agent_id}",
                json={"status": status},
                headers={"X-CSRF-Token": csrf},
            )
            r.raise_for_status()
            if n % 5 == 0:
                await extra.send({"type": "send", "client_msg_id": f"x{n}", "body": "one more"})
            n += 1
            await asyncio.sleep(0.2)
        r = await http.patch(
            f"/api/agents/{agent_id}", json={"status": "online"}, headers={"X-CSRF-Token": csrf}
        )
        await asyncio.sleep(2.5)
        profile.stop()
        m2 = await _metrics(http)
        print(f"steady: {n} agent status changes, server CPU {server.cpu_seconds() - cpu:.2f} s")
        _report(
            f"  routing with {waiting} waiting ({seconds:g} s of kicks)",
            _delta(m1, m2),
            m2["tresen_routing_lock_max_seconds"],
        )

        # (3) Reconnect storm: every visitor's connection drops; all come back at once.
        await asyncio.gather(*(v.drop() for v in visitors))
        await asyncio.sleep(1.0)
        for v in visitors:
            v.resumed.clear()
        profile = Profile(server, "storm")
        cpu = server.cpu_seconds()
        mine = time.process_time()
        started = time.monotonic()

        async def back(v: Visitor) -> None:
            await v.connect(base_ws, site)
            await v.welcomed.wait()
            await v.send({"type": "resume", "conversations": {str(v.conv): v.seq}})

        await _gathered([back(v) for v in visitors])
        await asyncio.wait_for(asyncio.gather(*(v.resumed.wait() for v in visitors)), 300)
        storm = time.monotonic() - started
        cpu = server.cpu_seconds() - cpu
        mine = time.process_time() - mine
        profile.stop()
        m3 = await _metrics(http)
        print(
            f"reconnect storm: {len(visitors)} visitors reconnected and resumed in {storm:.2f} s"
            f" (server CPU {cpu:.2f} s, these clients' CPU {mine:.2f} s;"
            f" load average {os.getloadavg()[0]:.1f})"
        )
        _report("  routing during the storm", _delta(m2, m3), m3["tresen_routing_lock_max_seconds"])

        for v in [*visitors, extra]:
            await v.drop()
        for ws in consoles:
            await ws.close()
        for t in drains:
            t.cancel()


async def _drain(ws: ClientConnection) -> None:
    try:
        async for _ in ws:
            pass
    except Exception:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chats", type=int, default=500)
    ap.add_argument("--agents", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    asyncio.run(run(a.chats, a.agents, a.seconds))


if __name__ == "__main__":
    main()
