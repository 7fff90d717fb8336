"""Routing strategies in a simulated contact centre: waits, abandonment, occupancy.

A discrete-event simulation on a simulated clock drives the real, pure routing code
(``tresen.routing.strategies.plan`` and ``tresen.routing.estimate``): chats arrive as a Poisson
process, each asking for one skill; handling times are exponential; a waiting visitor abandons
when their patience (exponential) runs out. After every event a dispatch pass plans
assignments, as the server does. For each strategy and load level it prints the p50/p90 wait of
served chats, the abandonment rate, agent occupancy (busy slot-time over offered slot-time) and
how far the queue's wait estimate was off for the chats that were served.

    .venv/bin/python -m bench.routing [--hours 24] [--seed 1] [--loads 0.7 0.9 1.1]

Load is the offered work per slot: arrival rate x mean handling time / total slots. Both
strategies see the same arrivals (same seed), so the columns compare like with like.
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import time
from dataclasses import dataclass, field, replace

from tresen.routing.estimate import expected_wait, positions
from tresen.routing.strategies import STRATEGIES, AgentLoad, Request, plan

SKILLS = ("Sales", "Support", "Billing")
SKILL_MIX = (0.45, 0.4, 0.15)
# (skills with levels, max_chats): twelve agents, 36 slots; Billing is thin and shared.
TEAM: list[tuple[dict[str, int], int]] = [
    ({"Sales": 2}, 3),
    ({"Sales": 2, "Support": 1}, 3),
    ({"Sales": 1, "Billing": 2}, 4),
    ({"Support": 2}, 4),
    ({"Support": 1}, 2),
    ({"Support": 2, "Billing": 1}, 3),
    ({"Billing": 2}, 2),
    ({"Sales": 1}, 4),
    ({"Support": 1, "Sales": 1}, 3),
    ({"Billing": 1, "Sales": 2}, 3),
    ({"Support": 2}, 3),
    ({"Sales": 1, "Support": 1, "Billing": 1}, 2),
]
HANDLING = 240.0  # mean seconds an agent spends on a chat
PATIENCE = 180.0  # mean seconds a visitor waits before giving up


@dataclass
class Result:
    strategy: str
    load: float
    arrived: int = 0
    served: int = 0
    abandoned: int = 0
    waits: list[float] = field(default_factory=list)
    estimate_errors: list[float] = field(default_factory=list)  # estimate - actual, served
    busy_slot_seconds: float = 0.0
    slot_seconds: float = 0.0

    def pct(self, q: float) -> float:
        if not self.waits:
            return 0.0
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def simulate(strategy: str, load: float, hours: float, seed: int) -> Result:
    """One run. Events: arrivals, completions, abandonments; a pass after each event time."""
    rng = random.Random(seed)
    slots = sum(m for _, m in TEAM)
    rate = load * slots / HANDLING  # arrivals per second
    horizon = hours * 3600
    agents = {i: AgentLoad(i, skills, m, 0, 0.0) for i, (skills, m) in enumerate(TEAM, start=1)}
    events: list[tuple[float, int, str, int]] = []  # (time, tiebreak, kind, id)
    seq = 0

    def push(t: float, kind: str, ident: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, ident))

    waiting: dict[int, Request] = {}
    handling: dict[int, float] = {}
    estimates: dict[int, float] = {}
    assigned_to: dict[int, int] = {}
    res = Result(strategy, load)
    t, last = 0.0, 0.0
    push(rng.expovariate(rate), "arrive", 1)
    while events:
        t, _, kind, ident = heapq.heappop(events)
        span = min(t, horizon) - min(last, horizon)  # occupancy while chats arrive
        res.busy_slot_seconds += sum(a.load for a in agents.values()) * span
        res.slot_seconds += slots * span
        last = t
        if kind == "arrive":
            if t < horizon:
                # Everything random about a chat is drawn at arrival, from one stream, so
                # every strategy sees the same visitors with the same needs.
                skill = rng.choices(SKILLS, SKILL_MIX)[0]
                waiting[ident] = Request(ident, t, skill=skill)
                handling[ident] = rng.expovariate(1 / HANDLING)
                res.arrived += 1
                push(t + rng.expovariate(1 / PATIENCE), "abandon", ident)
                push(t + rng.expovariate(rate), "arrive", ident + 1)
        elif kind == "abandon" and ident in waiting:
            del waiting[ident]
            estimates.pop(ident, None)
            res.abandoned += 1
        elif kind == "done":
            a = agents[assigned_to.pop(ident)]
            agents[a.id] = replace(a, load=a.load - 1)
        _dispatch(t, strategy, agents, waiting, estimates, assigned_to, res, handling, push)
    return res


def _dispatch(t, strategy, agents, waiting, estimates, assigned_to, res, handling, push):  # type: ignore[no-untyped-def]
    pairs = plan(agents.values(), waiting.values(), t, lambda r: strategy)
    for req_id, agent_id in pairs:
        req = waiting.pop(req_id)
        a = agents[agent_id]
        agents[agent_id] = replace(a, load=a.load + 1, idle_since=t)
        assigned_to[req_id] = agent_id
        res.served += 1
        res.waits.append(t - req.queued_at)
        if req_id in estimates:
            res.estimate_errors.append(estimates.pop(req_id) - (t - req.queued_at))
        push(t + handling.pop(req_id), "done", req_id)
    # What the server tells a newly queued visitor: position and expected wait.
    pos = positions(waiting.values())
    for req in waiting.values():
        if req.id not in estimates and req.queued_at == t:
            wait = expected_wait(list(agents.values()), req, pos[req.id], HANDLING)
            if wait is not None:
                estimates[req.id] = wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours per run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loads", type=float, nargs="+", default=[0.7, 0.9, 1.1])
    args = parser.parse_args()
    slots = sum(m for _, m in TEAM)
    print(
        f"{len(TEAM)} agents, {slots} slots, skills {dict(zip(SKILLS, SKILL_MIX, strict=True))},"
        f" handling ~Exp({HANDLING:.0f} s), patience ~Exp({PATIENCE:.0f} s),"
        f" {args.hours:g} simulated hours per run, seed {args.seed}"
    )
    header = (
        f"{'strategy':<13}{'load':>5}{'arrived':>9}{'p50 wait':>10}{'p90 wait':>10}"
        f"{'abandon':>9}{'occupancy':>11}{'est. err p50':>14}"
    )
    print(header)
    print("-" * len(header))
    started = time.perf_counter()
    for load in args.loads:
        for strategy in STRATEGIES:
            r = simulate(strategy, load, args.hours, args.seed)
            err = statistics.median(r.estimate_errors) if r.estimate_errors else 0.0
            print(
                f"{strategy:<13}{load:>5.2f}{r.arrived:>9}{r.pct(0.5):>9.1f}s{r.pct(0.9):>9.1f}s"
                f"{r.abandoned / max(1, r.arrived):>9.1%}"
                f"{r.busy_slot_seconds / max(1.0, r.slot_seconds):>11.1%}{err:>13.1f}s"
            )
    print(f"({time.perf_counter() - started:.1f} s wall clock)")


if __name__ == "__main__":
    main()
