"""Load-generating client processes: real WebSocket clients (the ``websockets`` library).

Each phase runs in a few worker processes (spawned by ``bench.load``), so the client side is not
limited to one core. Workers talk to the parent through a result queue and two events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench._server import ORIGIN, PASSWORD, raise_nofile

CONNECT_TIMEOUT = 30.0
SETUP_TIMEOUT = 120.0


@dataclass
class Job:
    worker: int
    base_url: str
    site_key: str
    visitors: int
    queue: Any
    go: Event
    release: Event
    agent: str | None = None
    duration: float = 10.0
    warmup: float = 2.0
    rate: float = 0.0
    window: int = 8
    concurrency: int = 100
    tag: str = ""  # client_msg_id prefix (default: the phase's initial), so runs can be told apart
    assign: bool = False  # assign this worker's conversations to its agent before "ready"
    floor: bool = False  # the reference relay (bench/reference_relay.py): no HTTP, no accounts


def run(phase: str, job: Job) -> None:
    """Process entry point."""
    raise_nofile(1 << 20)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    fn = {"idle": _idle, "throughput": _throughput, "latency": _latency}[phase]
    try:
        asyncio.run(fn(job))
    except BaseException as exc:
        job.queue.put(("failed", job.worker, repr(exc)))
        raise


# ---- helpers ------------------------------------------------------------------------------------


async def _visitor_tokens(job: Job, count: int) -> list[str]:
    """Tokens for ``count`` new visitors; empty ones where the server opens the session on the
    socket's handshake (the reference relay, and Tresen with ``session=1``, as the widget does).
    A server that does not (an older checkout run with ``--baseline``) gets the session POST."""
    if job.floor or await _opens_session_on_socket(job):
        return [""] * count
    sem = asyncio.Semaphore(min(job.concurrency, 32))
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=job.base_url, timeout=60, limits=limits) as http:

        async def one() -> str:
            async with sem:
                for attempt in range(3):
                    try:
                        r = await http.post(
                            "/api/visitor/session",
                            json={"site_key": job.site_key},
                            headers={"Origin": ORIGIN},
                        )
                        break
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # A kept-alive connection the server closed as it was reused (its
                        # keep-alive timeout, on a loaded machine): once more, on a new one.
                        if attempt == 2:
                            raise
                r.raise_for_status()
                return str(r.json()["token"])

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def agent_login(http: httpx.AsyncClient, username: str) -> tuple[int, str]:
    """Log in as a console does; the session cookie stays in ``http``. Returns (id, csrf)."""
    r = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    data = r.json()
    return int(data["agent"]["id"]), str(data["csrf_token"])


async def agent_ws_url(http: httpx.AsyncClient, csrf: str) -> str:
    """A fresh ticket (valid for seconds: connect right away) and the agent socket's URL."""
    t = await http.post("/api/auth/ws-ticket", headers={"X-CSRF-Token": csrf})
    t.raise_for_status()
    ws_base = str(http.base_url).rstrip("/").replace("http", "ws", 1)
    return f"{ws_base}/ws/agent?ticket={quote(t.json()['ticket'])}"


def _ws_base(job: Job) -> str:
    return job.base_url.replace("http", "ws", 1)


def _visitor_url(job: Job, token: str) -> str:
    """The visitor socket's URL; without a token (not the floor's) the session is opened on its
    handshake (``session=1``: a new visitor, its token in ``welcome``)."""
    if not token and not job.floor:
        return f"{_ws_base(job)}/ws/visitor?site={job.site_key}&session=1"
    return f"{_ws_base(job)}/ws/visitor?site={job.site_key}&token={quote(token)}"


async def _opens_session_on_socket(job: Job) -> bool:
    """Does this server open a visitor's session on the socket (its ``welcome`` has one)?"""
    try:
        ws = await connect_ws(_visitor_url(job, ""))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
        await ws.close()
    except Exception:
        return False
    return welcome.get("type") == "welcome" and "session" in welcome


async def connect_ws(url: str, origin: str | None = ORIGIN) -> ClientConnection:
    headers = {"Origin": origin} if origin else None
    return await connect(
        url,
        additional_headers=headers,
        ping_interval=None,
        compression=None,
        open_timeout=CONNECT_TIMEOUT,
        max_queue=None,
    )


async def wait_event(ev: Event, timeout: float) -> None:
    if not await asyncio.to_thread(ev.wait, timeout):
        raise TimeoutError("the parent did not give the signal")


# ---- (a) idle connections -----------------------------------------------------------------------


async def _idle(job: Job) -> None:
    started = time.monotonic()
    tokens = await _visitor_tokens(job, job.visitors)
    job.queue.put(("tokens", job.worker, len(tokens), time.monotonic() - started))
    await wait_event(job.go, SETUP_TIMEOUT * 3)
    sem = asyncio.Semaphore(job.concurrency)
    failures: list[str] = []

    async def open_one(token: str) -> ClientConnection | None:
        async with sem:
            try:
                ws = await connect_ws(_visitor_url(job, token))
                welcome = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT))
                if welcome.get("type") != "welcome":
                    raise RuntimeError(f"expected welcome, got {welcome}")
                return ws
            except Exception as exc:
                failures.append(repr(exc))
                return None

    started = time.monotonic()
    opened = [ws for ws in await asyncio.gather(*(open_one(t) for t in tokens)) if ws]
    took = time.monotonic() - started
    job.queue.put(("open", job.worker, len(opened), len(failures), took, failures[:3]))
    await wait_event(job.release, SETUP_TIMEOUT * 3)
    alive = sum(1 for ws in opened if ws.state.name == "OPEN")
    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
    job.queue.put(("done", job.worker, alive))


# ---- a connection with a reader -----------------------------------------------------------------


@dataclass
class Peer:
    ws: ClientConnection
    on_frame: Callable[[dict[str, Any], float], None]
    reader: asyncio.Task[None] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.monotonic()
                frame = json.loads(raw)
                if frame.get("type") == "error":
                    self.errors.append(frame)
                self.on_frame(frame, now)

    async def send(self, data: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(data, separators=(",", ":")))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self.reader:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


@dataclass
class Party:
    """One worker's visitors (each with a conversation) and its agent connection."""

    job: Job
    visitors: list[Peer] = field(default_factory=list)
    conversations: list[int] = field(default_factory=list)
    agent: Peer | None = None
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    ack_latency: list[float] = field(default_factory=list)
    delivery_latency: list[float] = field(default_factory=list)
    delivered: int = 0
    recording_after: float = float("inf")
    prefix: str = ""

    def on_visitor_frame(self, frame: dict[str, Any], now: float) -> None:
        if frame.get("type") == "ack":
            cmid = frame["client_msg_id"]
            sent = self.sent_at.get(cmid)
            if sent is not None and sent >= self.recording_after:
                self.ack_latency.append(now - sent)
            fut = self.acks.pop(cmid, None)
            if fut is not None and not fut.done():
                fut.set_result(frame)
        elif frame.get("type") == "error" and frame.get("ref") in self.acks:
            fut = self.acks.pop(frame["ref"])
            if not fut.done():
                fut.set_exception(RuntimeError(f"{frame['code']}: {frame['message']}"))

    def on_agent_frame(self, frame: dict[str, Any], now: float) -> None:
        if frame.get("type") == "message":
            cmid = frame.get("client_msg_id") or ""
            if frame["author"]["kind"] == "visitor" and cmid.startswith(self.prefix):
                sent = self.sent_at.get(cmid)
                if sent is not None and sent >= self.recording_after:
                    self.delivery_latency.append(now - sent)
                    self.delivered += 1
        else:
            self.on_visitor_frame(frame, now)  # the agent's own acks

    async def send(self, peer: Peer, body: str, cmid: str, conv: int | None) -> None:
        """Send without waiting; the ack resolves ``self.acks[cmid]``."""
        self.acks[cmid] = asyncio.get_running_loop().create_future()
        frame: dict[str, Any] = {"type": "send", "client_msg_id": cmid, "body": body}
        if conv is not None:
            frame["conversation_id"] = conv
        self.sent_at[cmid] = time.monotonic()
        await peer.send(frame)

    async def request(self, peer: Peer, body: str, cmid: str, conv: int | None) -> dict[str, Any]:
        await self.send(peer, body, cmid, conv)
        return await asyncio.wait_for(self.acks[cmid], CONNECT_TIMEOUT)

    async def setup(self, phase: str) -> None:
        job = self.job
        self.prefix = f"{job.tag or phase[0]}{job.worker}-"
        tokens = await _visitor_tokens(job, job.visitors)
        async with httpx.AsyncClient(base_url=job.base_url, timeout=60) as http:
            if job.agent and job.floor:
                ws = await connect_ws(f"{_ws_base(job)}/ws/agent", origin=None)
                self.agent = Peer(ws, self.on_agent_frame)
                self.agent.start()
            elif job.agent:
                agent_id, csrf = await agent_login(http, job.agent)
                ws = await connect_ws(await agent_ws_url(http, csrf), origin=None)
                self.agent = Peer(ws, self.on_agent_frame)
                self.agent.start()
            await self._open_conversations(tokens)
            if job.agent and job.assign and not job.floor:
                await self._assign(http, agent_id, csrf)

    async def _open_conversations(self, tokens: list[str]) -> None:
        job = self.job
        sem = asyncio.Semaphore(job.concurrency)

        async def one(i: int, token: str) -> tuple[Peer, int]:
            async with sem:
                peer = Peer(await connect_ws(_visitor_url(job, token)), self.on_visitor_frame)
                peer.start()
                ack = await self.request(peer, "hello", f"{self.prefix}open-{i}", None)
                return peer, int(ack["conversation_id"])

        pairs = await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
        self.visitors = [p for p, _ in pairs]
        self.conversations = [c for _, c in pairs]

    async def _assign(self, http: httpx.AsyncClient, agent_id: int, csrf: str) -> None:
        """Assign every conversation to this worker's agent, as a console's "assign to me"
        does (PATCH with the session cookie and the CSRF header)."""
        sem = asyncio.Semaphore(8)

        async def one(conv: int) -> None:
            async with sem:
                r = await http.patch(
                    f"/api/conversations/{conv}",
                    json={"assignee_id": agent_id},
                    headers={"X-CSRF-Token": csrf},
                )
                r.raise_for_status()
                if r.json().get("assignee_id") != agent_id:
                    raise RuntimeError(f"conversation {conv} not assigned: {r.json()}")

        await asyncio.gather(*(one(c) for c in self.conversations))

    async def close(self) -> None:
        peers = [*self.visitors, *([self.agent] if self.agent else [])]
        await asyncio.gather(*(p.close() for p in peers))

    def errors(self) -> list[dict[str, Any]]:
        peers = [*self.visitors, *([self.agent] if self.agent else [])]
        return [e for p in peers for e in p.errors]


# ---- (b) throughput -----------------------------------------------------------------------------


async def _throughput(job: Job) -> None:
    party = Party(job)
    await party.setup("throughput")
    job.queue.put(("ready", job.worker, len(party.visitors)))
    await wait_event(job.go, SETUP_TIMEOUT)
    stop_at = time.monotonic() + job.duration
    party.recording_after = time.monotonic()
    acked: dict[str, list[str]] = {"visitor": [], "agent": []}
    failures: list[str] = []

    async def loop(kind: str, peer: Peer, convs: list[int], n: int) -> None:
        k = 0
        while time.monotonic() < stop_at:
            cmid = f"{party.prefix}{kind[0]}{n}-{k}"
            conv = convs[k % len(convs)]
            try:
                await party.request(peer, f"load message {k}", cmid, conv)
                acked[kind].append(cmid)
            except Exception as exc:
                failures.append(repr(exc))
                return
            k += 1

    loops = [
        loop("visitor", p, [c], i)
        for i, (p, c) in enumerate(zip(party.visitors, party.conversations, strict=True))
    ]
    if party.agent is not None:
        # The agent answers in its conversations, ``window`` sends in flight.
        convs = party.conversations
        loops += [
            loop("agent", party.agent, convs[w :: job.window] or convs, w)
            for w in range(job.window)
        ]
    started = time.monotonic()
    await asyncio.gather(*loops)
    took = time.monotonic() - started
    job.queue.put(
        (
            "result",
            job.worker,
            {
                "visitor": acked["visitor"],
                "agent": acked["agent"],
                "seconds": took,
                "started": started,
                "ended": started + took,
                "failures": failures[:5],
                "errors": party.errors()[:5],
                "ack_latency": party.ack_latency,
            },
        )
    )
    # Hold the sockets until the parent has read every worker's result, so closing them (the
    # radar's "gone" frames) does not fall inside another worker's measured window.
    await wait_event(job.release, SETUP_TIMEOUT)
    await party.close()


# ---- (c) latency at a paced rate ----------------------------------------------------------------


async def _latency(job: Job) -> None:
    party = Party(job)
    await party.setup("latency")
    job.queue.put(("ready", job.worker, len(party.visitors)))
    await wait_event(job.go, SETUP_TIMEOUT)
    total = int(job.rate * (job.warmup + job.duration))
    t0 = time.monotonic()
    party.recording_after = t0 + job.warmup
    late = 0
    for k in range(total):
        due = t0 + k / job.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        i = k % len(party.visitors)
        await party.send(
            party.visitors[i], f"paced {k}", f"{party.prefix}{k}", party.conversations[i]
        )
    sending = time.monotonic() - t0
    expected = sum(
        1 for c, t in party.sent_at.items() if t >= party.recording_after and "open" not in c
    )
    deadline = time.monotonic() + 15
    while party.delivered < expected and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    job.queue.put(
        (
            "result",
            job.worker,
            {
                "sent": total,
                "expected": expected,
                "delivered": party.delivered,
                "send_seconds": sending,
                "late_sends": late,
                "latency": party.delivery_latency,
                "ack_latency": party.ack_latency,
                "errors": party.errors()[:5],
            },
        )
    )
    await party.close()
