"""Idle agent consoles for the ``agents`` phase of ``bench.load``: one process holding one agent
socket for each of many agents, none of them doing anything but what an open console does
unattended.

Each console logs in over HTTP (its own session cookie), takes a ticket from
``POST /api/auth/ws-ticket``, opens ``/ws/agent``, waits for ``welcome``, sends ``resume`` with
nothing to resume (as the console does on ``welcome`` with an empty inbox) and answers every
``ping`` with ``pong``. Every frame received is counted by its ``type`` in 10 ms buckets of
``time.monotonic()`` (CLOCK_MONOTONIC: the same clock in every process on the host), so the
parent can count exactly the frames that arrived inside its measured window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from bench._clients import CONNECT_TIMEOUT, SETUP_TIMEOUT, agent_login, agent_ws_url, connect_ws
from bench._server import raise_nofile

BUCKETS_PER_SECOND = 100
RESUME = '{"type":"resume","conversations":{}}'
PONG = '{"type":"pong"}'
SAMPLES = 20  # frames kept per second and type (not messages), to show what came


@dataclass
class ConsolesJob:
    base_url: str
    agents: list[str]
    queue: Any
    release: Event
    concurrency: int = 8  # logins at a time (each is an argon2 verification on the server)


def run_consoles(job: ConsolesJob) -> None:
    """Process entry point. Puts ("open", ok, failures, seconds, sample failures), then, once
    ``release`` is set, ("frames", {(bucket, type): count}, [(time, close code, reason)],
    {(second, type): [(time, first 200 characters)]})
    and finally ("done",)."""
    raise_nofile(1 << 20)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    try:
        asyncio.run(_consoles(job))
    except BaseException as exc:
        job.queue.put(("failed", "consoles", repr(exc)))
        raise


def frames_between(counts: dict[tuple[int, str], int], t0: float, t1: float) -> Counter[str]:
    """Frames per type received from ``t0`` to ``t1`` (monotonic seconds): the buckets that
    start inside the window (so nothing from just before ``t0``; up to one bucket after
    ``t1``, by when the workers are still holding their sockets)."""
    lo, hi = math.ceil(t0 * BUCKETS_PER_SECOND), math.floor(t1 * BUCKETS_PER_SECOND)
    out: Counter[str] = Counter()
    for (bucket, kind), n in counts.items():
        if lo <= bucket <= hi:
            out[kind] += n
    return out


def _kind(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        return "binary"
    if raw.startswith('{"type":"'):  # the server writes ``type`` first; no parse per frame
        return raw[9:raw.find('"', 9)]
    try:
        return str(json.loads(raw).get("type"))
    except ValueError:
        return "invalid"


async def _consoles(job: ConsolesJob) -> None:
    counts: Counter[tuple[int, str]] = Counter()
    samples: dict[tuple[int, str], list[tuple[float, str]]] = {}  # by second and type
    closed: list[tuple[float, int | None, str]] = []
    released = False
    sem = asyncio.Semaphore(job.concurrency)
    failures: list[str] = []

    async def open_one(username: str) -> ClientConnection | None:
        try:
            async with sem, httpx.AsyncClient(base_url=job.base_url, timeout=60) as http:
                _, csrf = await agent_login(http, username)
                ws = await connect_ws(await agent_ws_url(http, csrf), origin=None)
            welcome = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
            if welcome.get("type") != "welcome":
                raise RuntimeError(f"expected welcome, got {welcome}")
            await ws.send(RESUME)
            return ws
        except Exception as exc:
            failures.append(f"{username}: {exc!r}")
            return None

    async def read(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                kind, now = _kind(raw), time.monotonic()
                counts[(int(now * BUCKETS_PER_SECOND), kind)] += 1
                if kind != "message" and len(
                        kept := samples.setdefault((int(now), kind), [])) < SAMPLES:
                    kept.append((now, str(raw)[:200]))
                if kind == "ping":
                    await ws.send(PONG)
        if not released:
            closed.append((time.monotonic(), ws.close_code, ws.close_reason or ""))

    started = time.monotonic()
    opened = [ws for ws in await asyncio.gather(*(open_one(a) for a in job.agents)) if ws]
    readers = [asyncio.create_task(read(ws)) for ws in opened]
    job.queue.put(("open", len(opened), len(failures), time.monotonic() - started, failures[:3]))
    await asyncio.to_thread(job.release.wait, SETUP_TIMEOUT * 5)
    released = True
    job.queue.put(("frames", dict(counts), closed, samples))
    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    job.queue.put(("done",))
