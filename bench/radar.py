"""Web Radar engine benchmark: 10,000 tracked visitors, 100 rules, page-view events.

Prints sustained events/s and the p50/p99/max evaluation time per event. Time is simulated
(ManualClock + ManualScheduler), so wake-ups fire as they would, without sleeping.

    .venv/bin/python -m bench.radar [--visitors 10000] [--rules 100] [--events 200000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from tresen.cli import tune_gc
from tresen.clock import ManualClock
from tresen.radar.engine import RadarEngine
from tresen.radar.facts import VisitorFacts
from tresen.radar.rules import compile_rule
from tresen.scheduler import ManualScheduler

PATHS = [f"/shop/product/p-{i}" for i in range(200)] + [
    "/",
    "/shop/cart",
    "/shop/checkout",
    "/contact",
    "/tariffs",
    "/faq",
]
SKILLS = ["Sales", "Support", "Billing"]


def make_rule(i: int, rng: random.Random) -> dict:
    """A mix like a real site's: URL + dwell + attribute + event + capacity conditions."""
    behaviour = rng.choice(
        [
            {
                "all": [
                    {"url": {"glob": f"/shop/product/p-{i}*"}},
                    {"time_on_page": {"gte": 30 + i}},
                ]
            },
            {"form_dwell": {"form": f"form-{i % 7}", "gte": 60 + i}},
            {
                "all": [
                    {"attr": {"name": "segment", "value": "gold"}},
                    {"time_on_site": {"gte": 120}},
                    {"url": {"regex": f"/tariffs|/shop/product/p-{i}$"}},
                ]
            },
            {
                "event": {
                    "name": "checkout_code_failed",
                    "within": 60,
                    "props": {"code": {"op": "ne", "value": f"C{i}"}},
                }
            },
            {
                "any": [
                    {"pages_viewed": {"gte": 5 + i % 10}},
                    {"viewed": {"glob": f"/shop/product/p-{i}"}},
                ]
            },
        ]
    )
    skill = SKILLS[i % len(SKILLS)]
    return {
        "name": f"rule {i}",
        "priority": i,
        "when": {
            "all": [behaviour, {"agent_free": {"skill": skill}}, {"device": ["desktop", "mobile"]}]
        },
        "action": {"type": "invite", "skill": skill, "text": {"en": "Need help?", "de": "Hilfe?"}},
    }


class Capacity:
    def free_slots(self, skill: str | None) -> int:
        return 50

    def queue_wait(self, skill: str | None) -> float:
        return 10.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visitors", type=int, default=10_000)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(7)
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    offers = 0

    def on_offer(_offer: object) -> None:
        nonlocal offers
        offers += 1

    engine = RadarEngine(clock, scheduler, Capacity(), on_offer=on_offer)
    engine.set_rules(compile_rule(i, 1, make_rule(i, rng)) for i in range(args.rules))
    now = clock.now().timestamp()
    for vid in range(args.visitors):
        f = VisitorFacts(
            vid,
            1,
            site_started_at=now,
            page_started_at=now,
            device=rng.choice(["desktop", "mobile"]),
            language="de",
            attributes={"segment": rng.choice(["gold", "silver", "none"])},
        )
        engine.track(f)

    tune_gc()  # as `tresen serve` does after startup
    timings: list[int] = []
    perf = time.perf_counter_ns
    started = time.perf_counter()
    for n in range(args.events):
        vid = rng.randrange(args.visitors)
        path = rng.choice(PATHS)
        t0 = perf()
        engine.page_view(vid, "https://shop.example" + path, path, "Page")
        timings.append(perf() - t0)
        if n % 100 == 0:
            scheduler.advance(0.05)  # 2,000 events per simulated second; fire due wake-ups
            st = engine.visitors[vid]
            if st.outstanding is not None:
                engine.respond(vid, rng.choice(["accepted", "dismissed"]))
    wall = time.perf_counter() - started
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(f"visitors={args.visitors} rules={args.rules} events={args.events}")
    print(f"sustained: {args.events / wall:,.0f} page-view events/s (one core, incl. wake-ups)")
    print(
        f"per event: p50 {q[49] / 1000:.1f} us, p99 {q[98] / 1000:.1f} us, "
        f"max {timings[-1] / 1000:.1f} us"
    )
    print(f"offers made: {offers}; timers pending: {scheduler.pending}")


if __name__ == "__main__":
    main()
