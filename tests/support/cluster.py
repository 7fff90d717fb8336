"""Tresen nodes as real subprocesses, and a two-sided message exchange that audits the log.

Used by tests/integration/reliability: servers are SIGKILLed and restarted while a visitor and
an agent (both ``TresenClient``) keep sending; afterwards every message must be acknowledged,
received exactly once by both sides in ``seq`` order, and stored exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from tests.support.actors import Agent, Visitor, seed
from tests.support.server import TEST_SECRET, ServerProcess
from tests.support.server import test_settings as settings_for
from tresen.client import TresenClient
from tresen.runtime import build_runtime
from tresen.storage.db import Database
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Message


async def prepare_database(database_url: str, var_dir: Path) -> str:
    """Migrate and seed (site + agents anna and ben) through the actions. Returns the site key."""
    await upgrade_async(database_url)
    rt = build_runtime(settings_for(var_dir, database_url))
    try:
        key, _secret = await seed(rt)
    finally:
        await rt.close()
    return key


class Node(ServerProcess):
    """``python -m tresen serve`` with its log kept in a file (a pipe nobody reads can fill)."""

    def __init__(
        self,
        name: str,
        var_dir: Path,
        database_url: str,
        redis_url: str | None = None,
        port: int | None = None,
    ) -> None:
        env = {
            "TRESEN_DATABASE_URL": database_url,
            "TRESEN_SECRET_KEY": TEST_SECRET,
            "TRESEN_VAR_DIR": str(var_dir),
            "TRESEN_NODE_NAME": name,
            "TRESEN_LOG_LEVEL": "warning",
            # The exchange sends as fast as it can; rate limiting is not under test here.
            "TRESEN_FRAMES_PER_SECOND": "100000",
            "TRESEN_FRAMES_BURST": "100000",
        }
        if redis_url:
            env["TRESEN_REDIS_URL"] = redis_url
        super().__init__(env, port)
        self.name = name
        self.log_path = var_dir / f"{name}.log"
        self.starts = 0

    def start(self) -> None:
        self.env["TRESEN_PUBLIC_URL"] = self.url
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts + 1} ----\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tresen", "serve"],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        self.starts += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node {self.name} exited:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"node {self.name} did not become healthy:\n{self.log_tail()}")

    async def astart(self) -> None:
        """Start without blocking the event loop the clients run on."""
        await asyncio.to_thread(self.start)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    def freeze(self) -> None:
        """SIGSTOP: the process stops mid-work; whatever clients send now is in flight."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


async def two_nodes(
    database_url: str, redis_url: str, var_dir: Path, nodes: list[Node]
) -> tuple[str, Node, Node]:
    """The database prepared (``prepare_database``), nodes ``a`` and ``b`` on it and on the
    Redis (or Redis Cluster) at ``redis_url``, started, each with its own directory below
    ``var_dir``. They are added to ``nodes`` (the reliability tests' fixture stops them).
    Returns the site key and the two nodes."""
    site_key = await prepare_database(database_url, var_dir)
    for name in ("a", "b"):
        (var_dir / name).mkdir()
        nodes.append(Node(name, var_dir / name, database_url, redis_url=redis_url))
    a, b = nodes
    await a.astart()
    await b.astart()
    return site_key, a, b


@asynccontextmanager
async def logs_on_failure(*nodes: Node) -> AsyncIterator[None]:
    """A failing test shows the end of each node's log."""
    try:
        yield
    except BaseException:
        print("\n".join(f"node {node.name}: {node.log_tail()}" for node in nodes))
        raise


@dataclass
class Exchange:
    """A visitor and an agent in one conversation, each sending without waiting for acks."""

    visitor: TresenClient
    agent: TresenClient
    conversation: int = 0
    sent: dict[str, list[str]] = field(default_factory=lambda: {"visitor": [], "agent": []})

    @property
    def total_sent(self) -> int:
        return len(self.sent["visitor"]) + len(self.sent["agent"])

    @property
    def total_acked(self) -> int:
        return sum(cmid in client.acks for side, client in self.sides() for cmid in self.sent[side])

    def sides(self) -> list[tuple[str, TresenClient]]:
        return [("visitor", self.visitor), ("agent", self.agent)]

    async def open(self) -> int:
        """The visitor's first message opens the conversation; the agent sees it arrive."""
        cmid = await self.visitor.send("visitor 0: Hallo!", client_msg_id="visitor-0000")
        self.sent["visitor"].append(cmid)
        self.conversation = (await self.visitor.wait_ack(cmid))["conversation_id"]
        conv = self.conversation
        await self.agent.wait_for(lambda: len(self.agent.messages.get(conv, [])) >= 1)
        return conv

    async def pump(self, side: str, count: int, *, batch: int = 5, pause: float = 0.02) -> None:
        """Send ``count`` more messages from ``side``, a few at a time, never waiting for acks."""
        client = self.visitor if side == "visitor" else self.agent
        for _ in range(count):
            i = len(self.sent[side])
            cmid = f"{side}-{i:04d}"
            self.sent[side].append(cmid)
            await client.send(f"{side} {i}", self.conversation, client_msg_id=cmid)
            if i % batch == 0:
                await asyncio.sleep(pause)

    async def run(
        self,
        visitor: int,
        agent: int,
        chaos: Callable[[], Awaitable[None]] | None = None,
        timeout: float = 90,
    ) -> None:
        """Both sides send (interleaved) while ``chaos`` runs; then wait until both have every
        acknowledgment and every message."""
        jobs = [self.pump("visitor", visitor), self.pump("agent", agent)]
        await asyncio.gather(*jobs, *([chaos()] if chaos else []))
        await self.settled(timeout)

    async def settled(self, timeout: float = 90) -> None:
        total, conv = self.total_sent, self.conversation
        for _side, client in self.sides():
            await client.wait_for(
                lambda c=client: (
                    not c.pending  # type: ignore[misc]
                    and len(c.messages.get(conv, [])) >= total
                ),
                timeout,
            )

    async def crash(self, node: Node, *, after_acked: int, in_flight: int = 10) -> tuple[int, int]:
        """Once ``after_acked`` messages are acknowledged, freeze ``node`` until at least
        ``in_flight`` sent messages wait for their ack, then SIGKILL it. Returns (sent, acked)
        at the kill. (Counted at the kill, not from the freeze: the other node keeps acking the
        other side's messages meanwhile, which is not in flight on the frozen node.)"""
        await self.when(lambda: self.total_acked >= after_acked)
        node.freeze()
        await self.when(lambda: self.total_sent - self.total_acked >= in_flight)
        at_kill = (self.total_sent, self.total_acked)
        await node.akill()
        return at_kill

    async def when(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        """Wait until ``predicate`` holds (polled; both clients' frames move it)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("exchange did not reach the expected point")
            await asyncio.sleep(0.005)


async def stored_messages(database_url: str, conversation_id: int) -> list[tuple[int, str]]:
    """(seq, client_msg_id) of every stored message of the conversation, in seq order."""
    db = Database(database_url)
    try:
        async with db.read() as s:
            rows = await s.execute(
                select(Message.seq, Message.client_msg_id)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
            return [(seq, cmid or "") for seq, cmid in rows]
    finally:
        await db.dispose()


async def audit(ex: Exchange, database_url: str) -> None:
    """Zero lost, zero duplicated, order kept: from the app's view, on the wire and in the DB."""
    conv, total = ex.conversation, ex.total_sent
    everything = sorted(ex.sent["visitor"] + ex.sent["agent"])
    assert len(set(everything)) == total
    acked_seq: dict[str, int] = {}
    for side, client in ex.sides():
        assert client.pending == {}, f"{side} has unacknowledged messages"
        missing = [c for c in ex.sent[side] if c not in client.acks]
        assert missing == [], f"{side} never got an ack for {missing[:5]}"
        acked_seq.update({c: client.acks[c]["seq"] for c in ex.sent[side]})
    assert sorted(acked_seq.values()) == list(range(1, total + 1)), "acked seqs not 1..N"

    for side, client in ex.sides():
        frames = client.messages[conv]
        seqs = [f["seq"] for f in frames]
        assert seqs == list(range(1, total + 1)), f"{side} did not get seqs 1..{total} in order"
        got = [f["client_msg_id"] for f in frames]
        assert sorted(got) == everything, f"{side} lost or doubled messages"
        assert all(acked_seq[f["client_msg_id"]] == f["seq"] for f in frames)
        # Raw wire, before the client's own dedupe: nothing twice, nothing out of order.
        assert client.stats.duplicates == 0, f"{side} was sent {client.stats.duplicates} dupes"
        assert client.stats.out_of_order == 0, f"{side} saw seqs out of order"
        assert client.stats.errors == [], f"{side} got error frames: {client.stats.errors[:3]}"

    stored = await stored_messages(database_url, conv)
    assert [seq for seq, _ in stored] == list(range(1, total + 1))
    assert sorted(cmid for _, cmid in stored) == everything
    assert {cmid: seq for seq, cmid in stored} == acked_seq
    # Each side's messages are stored in the order that side sent them.
    order = {cmid: seq for seq, cmid in stored}
    for side in ("visitor", "agent"):
        seqs = [order[c] for c in ex.sent[side]]
        assert seqs == sorted(seqs), f"{side}'s messages were stored out of send order"


@asynccontextmanager
async def visitor_meets_agent(
    a: Node, b: Node, site_key: str
) -> AsyncIterator[tuple[Exchange, Visitor, Agent]]:
    """A visitor on node ``a`` and the agent anna on node ``b``, both clients started, as an
    ``Exchange`` (not opened yet); the nodes' logs shown when the test fails, the clients
    stopped after."""
    anna = await Agent.login(b.url, "anna")
    visitor = await Visitor.arrive(a.url, site_key)
    ex = Exchange(visitor.client(), anna.client())
    await ex.agent.start()
    await ex.visitor.start()
    try:
        async with logs_on_failure(a, b):
            yield ex, visitor, anna
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()
        await anna.close()
