"""Pacing by predicted wait in the live engine: an outstanding invitation counts with its rule's
acceptance rate, and "an agent with the skill is free" holds while an invitation accepted now
would be answered within the target wait. Expected counts are computed by hand from
``pacing.predicted_wait``: wait = (queued + expected + rate - free) x handling / slots."""

from __future__ import annotations

from tresen.clock import ManualClock
from tresen.radar.engine import Offer, RadarEngine
from tresen.radar.facts import VisitorFacts
from tresen.radar.pacing import PRIOR_RATE, Load, acceptance_rate
from tresen.radar.rules import compile_rule
from tresen.scheduler import ManualScheduler

RULE = {
    "name": "Product page, Sales free",
    "when": {"all": [{"url": {"glob": "/product/*"}}, {"agent_free": {"skill": "Sales"}}]},
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Can I help?"}},
}


class Staff:
    """One agent with 4 chats: ``busy`` taken, ``queued`` waiting, 240 s handling."""

    def __init__(self, busy: int, queued: int = 0) -> None:
        self.busy, self.queued = busy, queued

    def free_slots(self, skill: str | None) -> int:
        return 4 - self.busy - self.queued  # as routing reports them (slots pacing)

    def queue_wait(self, skill: str | None) -> float:
        return 0.0

    def load(self, skill: str | None, expected: float) -> Load | None:
        return Load(slots=4, busy=self.busy, queued=self.queued, expected=expected, handling=240)


def engine(staff: Staff, pacing: str, rates: dict[int, float] | None = None) -> tuple:
    clock = ManualClock()
    offers: list[Offer] = []
    eng = RadarEngine(clock, ManualScheduler(clock), staff, offers.append, pacing=pacing)
    eng.resources.rates = dict(rates or {})
    eng.set_rules([compile_rule(1, 1, RULE)])
    return eng, offers


def arrive(eng: RadarEngine, vid: int) -> None:
    now = eng.clock.now().timestamp()
    eng.track(VisitorFacts(vid, 1, site_started_at=now, page_started_at=now, language="en"))
    eng.page_view(vid, f"https://shop.example/product/{vid}", f"/product/{vid}")


def test_all_slots_busy_slot_pacing_invites_nobody() -> None:
    eng, offers = engine(Staff(busy=4), "slots")
    for vid in range(1, 6):
        arrive(eng, vid)
    assert offers == []


def test_all_slots_busy_predicted_wait_invites_what_turnover_can_answer() -> None:
    # new rule, prior rate 1/4: 1st -> 0.25 x 240 / 4 = 15 s (ok); 2nd -> 0.5 x 60 = 30 s (no)
    eng, offers = engine(Staff(busy=4), "predicted_wait")
    for vid in range(1, 6):
        arrive(eng, vid)
    assert PRIOR_RATE == 0.25
    assert [o.visitor_id for o in offers] == [1]
    # the invitation is declined: its weight is free again and the next waiting visitor gets one
    eng.respond(1, "dismissed")
    assert [o.visitor_id for o in offers] == [1, 2]


def test_a_rule_rarely_accepted_invites_more() -> None:
    # rate 0.1: k outstanding -> (k x 0.1 + 0.1) x 60 s: 6, 12, 18 s ok; the 4th would be 24 s
    eng, offers = engine(Staff(busy=4), "predicted_wait", {1: 0.1})
    for vid in range(1, 8):
        arrive(eng, vid)
    assert [o.visitor_id for o in offers] == [1, 2, 3]


def test_a_queue_stops_invitations() -> None:
    # all slots busy and one chat queued: (1 + 0.25 - 0) x 60 = 75 s: nobody is invited
    eng, offers = engine(Staff(busy=4, queued=1), "predicted_wait")
    arrive(eng, 1)
    assert offers == []


def test_free_slots_invite_at_once_then_by_weight() -> None:
    # 2 free slots, rate 0.5: 1st, 2nd, 3rd wait 0 (ahead 0.5, 1.0, 1.5 <= 2 free);
    # 4th: ahead 2.0 -> 0 s; 5th: 2.5 - 2 = 0.5 x 60 = 30 s: no
    eng, offers = engine(Staff(busy=2), "predicted_wait", {1: 0.5})
    for vid in range(1, 7):
        arrive(eng, vid)
    assert [o.visitor_id for o in offers] == [1, 2, 3, 4]


def test_acceptance_rate_starts_at_the_prior_and_follows_the_figures() -> None:
    assert acceptance_rate(0, 0) == 0.25
    assert acceptance_rate(1, 0) == 0.5  # never happens, but stays a rate
    assert round(acceptance_rate(30, 100), 4) == round(31 / 104, 4)
