"""Routing under load, the acceptance test: 200 visitors, 10 agents of mixed skills.

Visitors arrive over time (with a rush in the middle) and ask for Sales, Support, Billing or
anyone; agents resolve their chats after random short handling times; some visitors give up
and leave the queue, some leave a message instead; agents go away and come back (for a few
seconds nobody does Billing). It runs on PostgreSQL with two ``tresen serve`` processes that
share the database and Redis (visitors and agents spread over both), and on SQLite with one.

Meanwhile the test samples the database many times a second, each sample one consistent
snapshot, and checks:

- **capacity**: no agent ever holds more open chats (assigned or offered) than ``max_chats``;
- **no idle capacity while someone waits** (see ``StaleCapacity``): a waiting chat and an
  online agent who could take it, with a free slot, never coexist for longer than ``SETTLE``;
- **everyone is answered**: at the end every visitor was served (assigned at some point) or
  was offered the overflow choices and/or made a queue choice, and the database agrees.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.support.actors import ORIGIN, Agent, Visitor, raw_socket
from tests.support.cluster import Node, prepare_database
from tests.support.services import RedisServer

from tresen.storage.db import Database
from tresen.storage.models import Agent as AgentRow
from tresen.storage.models import Conversation

pytestmark = pytest.mark.slow

VISITORS = 200
SKILLS = ("Sales", "Support", "Billing")
# (skills, max_chats) of the ten agents: 31 slots; Billing is thin (four agents, shared).
STAFF: list[tuple[list[str], int]] = [
    (["Sales"], 3),
    (["Sales", "Support"], 2),
    (["Sales", "Billing"], 4),
    (["Support"], 5),
    (["Support"], 2),
    (["Support", "Billing"], 3),
    (["Billing"], 2),
    (["Sales"], 5),
    (["Support", "Sales"], 3),
    (["Billing", "Sales"], 2),
]
ARRIVAL_SECONDS = 24.0  # visitors trickle in over this long ...
RUSH = (8.0, 10.0, 60)  # ... and 60 of them come in a rush between 8 s and 10 s
HANDLING = (0.5, 4.0)  # an agent resolves a chat after this many seconds (uniform)
BILLING_BREAK = (13.0, 16.0)  # every Billing agent is away: overflow "nobody_online"
SAMPLE_EVERY = 0.05
SETTLE = 1.5
STUCK = 10.0
"""A pair lasting this long was placed by neither an event nor the 2 s safety net: stuck."""
DEADLINE = 80.0  # the whole run, arrivals to the last resolved chat
NODE_ENV = {
    "TRESEN_STICKY_SECONDS": "0",  # nobody waits for a preferred agent: capacity is capacity
    "TRESEN_ACCEPT_SECONDS": "0",  # chats are assigned, not offered
    "TRESEN_OVERFLOW_WAIT_SECONDS": "12",  # expected waits beyond this offer the choices
    "TRESEN_LOGIN_ATTEMPTS_PER_MINUTE": "1000",  # eleven logins from one address
}


# ---- what the database says, many times a second -------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    at: float  # time.monotonic() just before the snapshot was taken ...
    taken_by: float  # ... and once its first read returned (the snapshot is fixed by then)
    agents: dict[int, tuple[str, frozenset[str], int]]  # id -> (status, skills, max_chats)
    holding: dict[int, frozenset[int]]  # agent id -> open chats assigned or offered to it
    waiting: dict[int, tuple[str | None, frozenset[int]]]  # conv id -> (skill, declined_by)

    def free(self, agent_id: int) -> bool:
        status, _skills, max_chats = self.agents[agent_id]
        return status == "online" and len(self.holding.get(agent_id, ())) < max_chats

    def could_take(self, agent_id: int, conv_id: int) -> bool:
        skill, declined = self.waiting[conv_id]
        skills = self.agents[agent_id][1]
        return (skill is None or skill in skills) and agent_id not in declined


async def snapshot(db: Database) -> Snapshot:
    """Agents, their open chats and the queue, read in one transaction (REPEATABLE READ on
    PostgreSQL; on SQLite a read transaction in WAL mode is one snapshot), so the three agree."""
    at = time.monotonic()
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            agents = (
                await conn.execute(
                    select(AgentRow.id, AgentRow.status, AgentRow.skills, AgentRow.max_chats)
                )
            ).all()
            taken_by = time.monotonic()
            convs = (
                await conn.execute(
                    select(
                        Conversation.id,
                        Conversation.skill,
                        Conversation.assignee_id,
                        Conversation.offered_to,
                        Conversation.queued_at,
                        Conversation.declined_by,
                    ).where(Conversation.status == "open")
                )
            ).all()
    holding: dict[int, set[int]] = {}
    waiting: dict[int, tuple[str | None, frozenset[int]]] = {}
    for cid, skill, assignee, offered, queued_at, declined in convs:
        for agent_id in {assignee, offered}:
            if agent_id is not None:
                holding.setdefault(agent_id, set()).add(cid)
        if queued_at is not None and assignee is None and offered is None:
            waiting[cid] = (skill, frozenset(declined or ()))
    return Snapshot(
        at,
        taken_by,
        {a: (st, frozenset(sk or ()), mx) for a, st, sk, mx in agents},
        {a: frozenset(c) for a, c in holding.items()},
        waiting,
    )


@dataclass
class StaleCapacity:
    """How long a waiting chat and an agent who could take it, with a free slot, coexist.

    A *stale pair* (chat c, agent a) holds in a snapshot when c waits (open, queued, neither
    assigned nor offered), a is online, has the skill c asks for (any skill if c asks for
    none), has not declined c, and holds fewer open chats than ``max_chats``. A run of such a
    pair is a sequence of consecutive snapshots in which it holds and in which a receives no
    new chat (its set of open chats only shrinks). Within a run no dispatch pass can have
    committed: a pass that sees c waiting and a free assigns c (to a or someone) or fills a
    (with chats ahead of c); either ends the pair or gives a a new chat. A chat given to a and
    resolved again between two snapshots would need a handling time under the sampling gap,
    and agents take at least ``HANDLING[0]``; runs never span a longer gap between
    snapshots (the sampler looks every ``SAMPLE_EVERY``). So the run's length (first to last
    snapshot; measured from when the first snapshot surely existed to when the last one was
    asked for) is a lower bound of how long that slot stayed unused while c waited.

    Why ``SETTLE`` = 1.5 s: every change that can make a pair (a chat queued, resolved or
    leaving the queue; an agent turning online) publishes on the capacity topic after its
    commit, and every node runs a pass on it. A pair should therefore last for the bus hop,
    the wait for the pass lock and one pass: tens of milliseconds, a few hundred on a busy
    two-core machine running two servers, PostgreSQL, Redis and 200 sockets. The safety-net
    pass runs every 2 s; a window under that catches a lost or ignored event, which only the
    safety net would repair, while giving slow passes generous room.
    """

    runs: dict[tuple[int, int], tuple[float, float, frozenset[int]]] = field(default_factory=dict)
    longest: tuple[float, int, int] = (0.0, 0, 0)  # (seconds, conv, agent)
    seen_pairs: int = 0
    lengths: list[float] = field(default_factory=list)  # of the runs that ended
    last_at: float = 0.0

    def add(self, snap: Snapshot) -> None:
        if snap.at - self.last_at > HANDLING[0]:
            self.runs = {}  # too long a gap to vouch for continuity: start afresh
        self.last_at = snap.at
        now_pairs: dict[tuple[int, int], tuple[float, float, frozenset[int]]] = {}
        for agent_id in snap.agents:
            if not snap.free(agent_id):
                continue
            held = snap.holding.get(agent_id, frozenset())
            for conv_id in snap.waiting:
                if not snap.could_take(agent_id, conv_id):
                    continue
                first = (snap.taken_by, 0.0, held)
                start, _last, before = self.runs.get((conv_id, agent_id), first)
                if not held <= before:  # a got a new chat: a pass ran, a new run begins
                    start = snap.taken_by
                now_pairs[(conv_id, agent_id)] = (start, snap.at, held)
                self.longest = max(self.longest, (max(0.0, snap.at - start), conv_id, agent_id))
        for key, (start, last, _held) in self.runs.items():
            if key not in now_pairs:
                self.lengths.append(max(0.0, last - start))
        self.seen_pairs += sum(1 for key in now_pairs if key not in self.runs)
        self.runs = now_pairs


@dataclass
class Sampler:
    db: Database
    count: int = 0
    gaps: list[float] = field(default_factory=list)
    over_capacity: list[tuple[float, int, int, int]] = field(default_factory=list)
    most_waiting: int = 0
    agents_full: set[int] = field(default_factory=set)
    stale: StaleCapacity = field(default_factory=StaleCapacity)

    async def run(self, stop: asyncio.Event) -> None:
        last = None
        while not stop.is_set():
            snap = await snapshot(self.db)
            self.check(snap)
            if last is not None:
                self.gaps.append(snap.at - last)
            last = snap.at
            await asyncio.sleep(SAMPLE_EVERY)

    def check(self, snap: Snapshot) -> None:
        self.count += 1
        for agent_id, (_status, _skills, max_chats) in snap.agents.items():
            load = len(snap.holding.get(agent_id, ()))
            if load > max_chats:
                self.over_capacity.append((snap.at, agent_id, load, max_chats))
            if load == max_chats:
                self.agents_full.add(agent_id)
        self.most_waiting = max(self.most_waiting, len(snap.waiting))
        self.stale.add(snap)


# ---- the people --------------------------------------------------------------------------


@dataclass
class Desk:
    """An agent: sees the chats assigned to it and resolves each after a random handling
    time, over HTTP on its own node."""

    agent: Agent
    rng: random.Random
    handling: set[int] = field(default_factory=set)
    resolved: int = 0
    failures: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def notice(self, conv: dict[str, Any]) -> None:
        mine = conv["assignee_id"] == self.agent.id and conv["status"] == "open"
        if mine and conv["id"] not in self.handling:
            self.handling.add(conv["id"])
            task = asyncio.create_task(self.handle(conv["id"]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def handle(self, conv_id: int) -> None:
        await asyncio.sleep(self.rng.uniform(*HANDLING))
        r = await self.agent.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})
        if r.status_code == 200:
            self.resolved += 1
        else:
            self.failures.append(f"resolve {conv_id}: {r.status_code} {r.text}")

    async def status(self, status: str) -> None:
        r = await self.agent.patch(f"/api/agents/{self.agent.id}", json={"status": status})
        assert r.status_code == 200, r.text


async def watch(desks: list[Desk], stop: asyncio.Event) -> None:
    """The agents' inboxes on one node (one poll serves them all; each acts on its own)."""
    if not desks:
        return
    http = desks[0].agent.http
    while not stop.is_set():
        r = await http.get("/api/conversations", params={"status": "open", "limit": 200})
        assert r.status_code == 200, r.text
        for conv in r.json():
            for desk in desks:
                desk.notice(conv)
        await asyncio.sleep(0.3)


@dataclass
class Guest:
    """One visitor's plan and what it saw on its socket."""

    index: int
    base_url: str
    arrive_at: float
    skill: str | None
    kind: str  # "patient" | "leaver" (leaves the queue) | "writer" (leaves a message)
    patience: float
    conversation: int | None = None
    served: bool = False
    overflows: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    confirmed: str | None = None  # the system message that confirmed a choice
    refused: int = 0  # choices refused because the chat was no longer waiting
    queue_frames: int = 0

    @property
    def done(self) -> bool:
        return self.served or self.confirmed is not None

    async def visit(self, http: httpx.AsyncClient, site_key: str, t0: float) -> None:
        await asyncio.sleep(max(0.0, t0 + self.arrive_at - time.monotonic()))
        r = await http.post(
            f"{self.base_url}/api/visitor/session",
            json={"site_key": site_key},
            headers={"Origin": ORIGIN},
        )
        assert r.status_code == 200, r.text
        v = Visitor(self.base_url, site_key, r.json()["token"], r.json()["visitor_id"])
        ws = await raw_socket(v.ws_url())
        try:
            await self._talk(ws, t0)
        finally:
            await ws.close()

    async def _talk(self, ws: Any, t0: float) -> None:
        frame: dict[str, Any] = {"type": "send", "client_msg_id": "m1", "body": "Hallo"}
        if self.skill:
            frame["skill"] = self.skill
        await ws.send(json.dumps(frame))
        give_up = time.monotonic() + self.patience
        while not self.done:
            assert time.monotonic() < t0 + DEADLINE, f"visitor {self.index} still waits"
            timeout = max(0.05, give_up - time.monotonic()) if self._may_give_up else 5.0
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout)
            except TimeoutError:
                if self._may_give_up and time.monotonic() >= give_up:
                    await self._choose(ws, "leave" if self.kind == "leaver" else "message")
                continue
            await self._on(ws, json.loads(raw))

    @property
    def _may_give_up(self) -> bool:
        return self.kind != "patient" and not self.choices and self.conversation is not None

    async def _on(self, ws: Any, f: dict[str, Any]) -> None:
        match f["type"]:
            case "ack":
                self.conversation = int(f["conversation_id"])
            case "queue":
                self.queue_frames += 1
            case "conversation" if f["conversation"]["assignee_id"] is not None:
                self.conversation = self.conversation or int(f["conversation"]["id"])
                self.served = True
            case "overflow":
                # (on two nodes this can overtake the ack: the frame names the conversation)
                self.conversation = self.conversation or int(f["conversation_id"])
                self.overflows.append(f["reason"])
                choice = {"patient": "wait", "leaver": "leave", "writer": "message"}[self.kind]
                if not self.choices and (self.kind != "patient" or self.index % 2 == 0):
                    await self._choose(ws, choice)
            case "message" if f["author"]["kind"] == "system":
                self.confirmed = f["body"]
            case "error":
                assert f["code"] == "not_queued", f  # only a choice racing an assignment
                self.refused += 1

    async def _choose(self, ws: Any, choice: str) -> None:
        self.choices.append(choice)
        frame = {"type": "queue_choice", "conversation_id": self.conversation, "choice": choice}
        if choice == "message":
            frame["email"] = f"guest{self.index}@example.com"
        await ws.send(json.dumps(frame))


def guests(rng: random.Random, urls: list[str]) -> list[Guest]:
    times = sorted(
        [rng.uniform(0, ARRIVAL_SECONDS) for _ in range(VISITORS - RUSH[2])]
        + [rng.uniform(RUSH[0], RUSH[1]) for _ in range(RUSH[2])]
    )
    out = []
    for i, at in enumerate(times):
        skill = rng.choices([*SKILLS, None], weights=[4, 4, 3, 1])[0]
        kind = rng.choices(["patient", "leaver", "writer"], weights=[7, 1.5, 1.5])[0]
        out.append(Guest(i, urls[i % len(urls)], at, skill, kind, rng.uniform(0.3, 3.0)))
    return out


# ---- the run -----------------------------------------------------------------------------


@dataclass
class Outcome:
    guests: list[Guest]
    desks: list[Desk]
    sampler: Sampler
    seconds: float


async def staff(urls: list[str], rng: random.Random) -> list[Desk]:
    """Anna (admin) creates the ten agents; each logs in on its node and goes online."""
    anna = await Agent.login(urls[0], "anna")
    try:
        desks = []
        for i, (skills, max_chats) in enumerate(STAFF):
            body = {"username": f"agent{i}", "password": "correct horse battery"}
            r = await anna.post(
                "/api/agents", json={**body, "skills": skills, "max_chats": max_chats}
            )
            assert r.status_code == 201, r.text
            desks.append(Desk(await Agent.login(urls[i % len(urls)], f"agent{i}"), rng))
    finally:
        await anna.close()
    for desk in desks:
        await desk.status("online")
    return desks


async def breaks(desks: list[Desk], t0: float) -> None:
    """Agent 3 steps away for two seconds; later every Billing agent is away for three."""
    await asyncio.sleep(max(0.0, t0 + 5.0 - time.monotonic()))
    await desks[3].status("away")
    await asyncio.sleep(2.0)
    await desks[3].status("online")
    await asyncio.sleep(max(0.0, t0 + BILLING_BREAK[0] - time.monotonic()))
    billing = [d for d, (skills, _) in zip(desks, STAFF, strict=True) if "Billing" in skills]
    await asyncio.gather(*(d.status("away") for d in billing))
    await asyncio.sleep(BILLING_BREAK[1] - BILLING_BREAK[0])
    await asyncio.gather(*(d.status("online") for d in billing))


async def run(database_url: str, urls: list[str], site_key: str) -> Outcome:
    rng = random.Random(20261124)
    desks = await staff(urls, rng)  # (a failure here leaves at most an httpx client open)
    people = guests(rng, urls)
    db = Database(database_url)
    sampler, stop = Sampler(db), asyncio.Event()
    t0 = time.monotonic()
    background = [asyncio.create_task(sampler.run(stop))]
    for url in urls:
        mine = [d for d in desks if d.agent.base_url == url]
        background.append(asyncio.create_task(watch(mine, stop)))
    # One HTTP client for every visitor's session request: a client per visitor would cost
    # the event loop an SSL context each, and stall the sampler during the rush.
    http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=20))
    try:
        async with asyncio.TaskGroup() as group:  # one failure cancels (and closes) the rest
            group.create_task(breaks(desks, t0))
            for g in people:
                group.create_task(g.visit(http, site_key, t0))
        while any(d.tasks for d in desks) or await _open_chats(db):
            if time.monotonic() > t0 + DEADLINE:
                break  # check() fails on the chats still open, after report() showed the run
            await asyncio.sleep(0.2)
        seconds = time.monotonic() - t0
    finally:
        stop.set()
        await http.aclose()
        pending = [t for d in desks for t in d.tasks]
        for task in pending:
            task.cancel()
        ended = await asyncio.gather(*background, *pending, return_exceptions=True)
        for desk in desks:
            await desk.agent.close()
        await db.dispose()
    errors = [e for e in ended if isinstance(e, Exception)]
    assert errors == [], errors
    return Outcome(people, desks, sampler, seconds)


async def _open_chats(db: Database) -> int:
    async with db.read() as s:
        rows = await s.execute(select(Conversation.id).where(Conversation.status == "open"))
        return len(rows.all())


async def stored(database_url: str) -> dict[int, Conversation]:
    db = Database(database_url)
    try:
        async with db.read() as s:
            return {c.id: c for c in (await s.execute(select(Conversation))).scalars()}
    finally:
        await db.dispose()


# ---- the checks --------------------------------------------------------------------------


async def check(outcome: Outcome, database_url: str) -> None:
    sampler, people = outcome.sampler, outcome.guests
    assert outcome.seconds < DEADLINE, "chats were still open at the deadline"
    # the sampler ran through the day (how many it took follows the machine's load: 299 on a
    # busy run; a few hundred is the usual)
    assert sampler.count >= 100, f"only {sampler.count} snapshots"
    gaps = sorted(sampler.gaps)
    assert gaps[len(gaps) * 95 // 100] < 0.3, f"the sampler lagged: {gaps[-10:]}"
    assert sampler.over_capacity == [], f"over capacity: {sampler.over_capacity[:5]}"
    seconds, chat, agent = sampler.stale.longest
    # The figure is reported against its target; the test asserts the outcome with a deadline
    # (issue #10: wall-clock bounds fail on a busy machine and belong in benchmarks).
    print(f"longest stale pair: {seconds:.2f} s (target {SETTLE} s)")
    assert seconds <= STUCK, (
        f"chat {chat} waited {seconds:.2f} s while agent {agent} had a free slot for it"
    )
    # The load was real: queues built up, every agent was full at some point, the capacity
    # check saw pairs come and go (and settle), visitors were offered the choices.
    assert sampler.most_waiting >= 20, sampler.most_waiting
    assert len(sampler.agents_full) == len(STAFF), sampler.agents_full
    assert sampler.stale.seen_pairs > 0

    convs = await stored(database_url)
    assert len(convs) == VISITORS
    for g in people:
        assert g.conversation is not None, f"visitor {g.index} never got an ack"
        conv = convs[g.conversation]
        assert g.done, f"visitor {g.index} was neither served nor confirmed a choice"
        assert g.served or g.overflows or g.choices, f"visitor {g.index}: no service, no choice"
        if g.served:
            assert conv.assigned_at is not None and conv.assignee_id is not None
            assert conv.status == "resolved", (g.index, conv.status)
        else:
            choice = conv.meta.get("overflow_choice")
            assert choice in ("leave", "message") and choice == g.choices[-1], (g.index, conv.meta)
            if choice == "leave":  # a left message may be taken as email work once it is quiet
                assert conv.assignee_id is None and conv.assigned_at is None, (g.index, conv.id)
            assert conv.status == ("abandoned" if choice == "leave" else "pending")
            assert conv.queued_at is None
    served = sum(g.served for g in people)
    left = sum(1 for g in people if not g.served and g.choices[-1] == "leave")
    wrote = sum(1 for g in people if not g.served and g.choices[-1] == "message")
    assert served + left + wrote == VISITORS
    assert served >= 100 and left >= 2 and wrote >= 2, (served, left, wrote)
    reasons = {r for g in people for r in g.overflows}
    assert reasons == {"nobody_online", "long_wait"}, reasons
    assert [f for d in outcome.desks for f in d.failures] == []
    assert sum(d.resolved for d in outcome.desks) == served
    assert all(d.resolved > 0 for d in outcome.desks)


# ---- the two set-ups ---------------------------------------------------------------------


@pytest.fixture
def started() -> Iterator[list[Node]]:
    nodes: list[Node] = []
    yield nodes
    for node in nodes:
        node.stop()


async def start_nodes(
    started: list[Node], tmp_path: Path, database_url: str, count: int, redis_url: str | None
) -> tuple[list[str], str]:
    site_key = await prepare_database(database_url, tmp_path)
    for i in range(count):
        var = tmp_path / f"node{i}"
        var.mkdir()
        node = Node(f"n{i}", var, database_url, redis_url=redis_url)
        node.env.update(NODE_ENV)
        started.append(node)
        await node.astart()
    return [n.url for n in started], site_key


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'tresen.db'}"


async def test_routing_under_load_sqlite_one_node(
    started: list[Node], tmp_path: Path, sqlite_url: str
) -> None:
    urls, site_key = await start_nodes(started, tmp_path, sqlite_url, 1, None)
    outcome = await run(sqlite_url, urls, site_key)
    report(outcome)
    await check(outcome, sqlite_url)


@pytest.mark.postgres
@pytest.mark.redis
async def test_routing_under_load_postgres_two_nodes(
    started: list[Node], tmp_path: Path, pg_url: str, redis_server: RedisServer
) -> None:
    urls, site_key = await start_nodes(started, tmp_path, pg_url, 2, redis_server.url)
    outcome = await run(pg_url, urls, site_key)
    report(outcome)
    await check(outcome, pg_url)


def report(o: Outcome) -> None:
    """Shown with ``pytest -s`` (and on failure): what the run looked like."""
    s = o.sampler
    gaps = sorted(s.gaps)
    print(
        f"\nrouting stress: {o.seconds:.1f} s, {s.count} snapshots "
        f"(median gap {gaps[len(gaps) // 2] * 1000:.0f} ms, max {gaps[-1] * 1000:.0f} ms), "
        f"most waiting {s.most_waiting}, stale pairs {s.stale.seen_pairs} (runs over 0.2 s: "
        f"{sum(x > 0.2 for x in s.stale.lengths)}, longest {s.stale.longest[0]:.2f} s); "
        f"served {sum(g.served for g in o.guests)}, "
        f"overflowed {sum(bool(g.overflows) for g in o.guests)}, "
        f"choices {sum(bool(g.choices) for g in o.guests)}, "
        f"refused {sum(g.refused for g in o.guests)}, "
        f"queue frames {sum(g.queue_frames for g in o.guests)}"
    )
