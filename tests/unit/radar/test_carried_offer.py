"""An unanswered offer goes with the visit to the node that takes it: written with the
restraint, adopted there (outstanding, paced, expiring at its own time), and a node that hands
the visit over records no outcome for it."""

from __future__ import annotations

from tests.unit.radar.test_seed_rules import Harness, Slots

from tresen.radar.facts import VisitorFacts
from tresen.radar.policy import VisitorState

RULE = {
    "name": "Product page help",
    "when": {"all": [{"url": {"glob": "/p/*"}}, {"agent_free": {"skill": "Sales"}}]},
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Questions?"}},
}


def offered(h: Harness, vid: int = 1) -> VisitorState:
    h.visitor(vid)
    h.engine.page_view(vid, "https://shop.example/p/1", "/p/1")
    st = h.engine.visitors[vid]
    assert st.outstanding is not None
    st.offer_id, st.offer_tab = 41, "tab-1"  # as the service sets them once stored
    return st


def restored(h: Harness, written: dict, vid: int = 1) -> VisitorState:
    now = h.clock.now().timestamp()
    st = VisitorState(VisitorFacts(vid, 1, site_started_at=now, page_started_at=now))
    st.restore(written, same_visit=True)
    assert st.carried is not None
    h.engine.adopt(st, st.carried)
    h.engine.track(st.facts, st)
    return st


def test_the_outstanding_offer_is_written_with_the_restraint() -> None:
    h = Harness(Slots(Sales=1), RULE)
    st = offered(h)
    carried = st.restraint()["outstanding"]
    assert carried["id"] == 41 and carried["tab"] == "tab-1" and carried["rule_id"] == 1
    assert carried["skill"] == "Sales" and carried["paced"] is True
    h.engine.respond(1, "dismissed")
    assert st.restraint()["outstanding"] is None
    fresh = VisitorState(st.facts)
    fresh.restore({**st.restraint(), "outstanding": carried}, same_visit=False)
    assert fresh.carried is None  # a new visit carries no offer of the last one


def test_handing_the_visit_over_records_no_outcome_and_frees_the_slot() -> None:
    h = Harness(Slots(Sales=1), RULE)
    outcomes: list[str] = []
    h.engine.on_outcome = lambda v, r, o: outcomes.append(o)
    offered(h)
    assert h.engine.resources.outstanding["Sales"] == 1
    h.engine.forget(1, handed_over=True)
    assert outcomes == ["shown"] and h.engine.resources.outstanding["Sales"] == 0


def test_the_taking_node_adopts_it_answers_count_for_it_and_it_expires_on_time() -> None:
    old = Harness(Slots(Sales=1), RULE)
    written = offered(old).restraint()
    new = Harness(Slots(Sales=1), RULE)
    outcomes: list[str] = []
    new.engine.on_outcome = lambda v, r, o: outcomes.append(o)
    st = restored(new, written)
    assert st.outstanding is not None and st.offer_id == 41 and st.offer_tab == "tab-1"
    assert new.engine.resources.outstanding["Sales"] == 1  # paced here as it was there
    assert new.offers == []  # no second offer while this one is unanswered
    new.engine.respond(1, "dismissed")
    assert outcomes == ["dismissed"] and st.dismissed_at is not None

    again = Harness(Slots(Sales=1), RULE)
    outcomes.clear()
    again.engine.on_outcome = lambda v, r, o: outcomes.append(o)
    again.scheduler.advance(30)  # the visit moves 30 s after the offer was shown
    restored(again, written)
    expiry = again.engine.policy.invite_expiry
    again.scheduler.advance(expiry - 30 - 1)
    assert outcomes == []
    again.scheduler.advance(1)  # it runs out at its own time, not 2 minutes after the move
    assert outcomes == ["ignored"]
