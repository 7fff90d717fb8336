"""The seed's examples, exactly, with an injected clock and scheduler (no sleeping)."""

from __future__ import annotations

import pytest

from tresen.clock import ManualClock
from tresen.radar.engine import Offer, RadarEngine
from tresen.radar.facts import VisitorFacts
from tresen.radar.rules import compile_rule
from tresen.scheduler import ManualScheduler

FORM_MINUTES = 3
SALES_RULE = {
    "name": "Help with the contract form or product P",
    "priority": 10,
    "when": {
        "all": [
            {
                "any": [
                    {"form_dwell": {"form": "contract", "gte": FORM_MINUTES * 60}},
                    {"url": {"glob": "/shop/product/phone-x*"}},
                ]
            },
            {"agent_free": {"skill": "Sales"}},
        ]
    },
    "action": {
        "type": "invite",
        "skill": "Sales",
        "text": {"en": "Can I help you choose?", "de": "Kann ich Ihnen bei der Wahl helfen?"},
    },
}
PROMO_RULE = {
    "name": "Promo code failed",
    "priority": 1,
    "when": {"event": {"name": "checkout_code_failed", "within": 60}},
    "action": {"type": "message", "text": {"en": "Sorry! Try WELCOME10 instead."}},
}


class Slots:
    """Free chat slots per skill, as the router would report them."""

    def __init__(self, **free: int) -> None:
        self.free = free

    def free_slots(self, skill: str | None) -> int:
        return self.free.get(skill or "any", 0)

    def queue_wait(self, skill: str | None) -> float:
        return 0.0


class Harness:
    def __init__(self, capacity: Slots, *rules: dict) -> None:
        self.clock = ManualClock()
        self.scheduler = ManualScheduler(self.clock)
        self.offers: list[tuple[float, Offer]] = []
        self.engine = RadarEngine(
            self.clock,
            self.scheduler,
            capacity,
            on_offer=lambda o: self.offers.append((self.clock.now().timestamp(), o)),
        )
        self.engine.set_rules(compile_rule(i + 1, 1, r) for i, r in enumerate(rules))
        self.t0 = self.clock.now().timestamp()

    def visitor(self, vid: int = 1, language: str = "de", device: str = "desktop") -> int:
        now = self.clock.now().timestamp()
        facts = VisitorFacts(
            vid, 1, site_started_at=now, page_started_at=now, language=language, device=device
        )
        self.engine.track(facts)
        return vid

    def elapsed_at_offer(self, index: int = 0) -> float:
        return self.offers[index][0] - self.t0


def test_form_dwell_fires_at_the_exact_second() -> None:
    h = Harness(Slots(Sales=1), SALES_RULE)
    v = h.visitor()
    h.engine.page_view(v, "https://shop.example/contract", "/contract", "Vertrag")
    h.engine.form_focus(v, "contract")
    h.scheduler.advance(FORM_MINUTES * 60 - 1)
    assert h.offers == []
    h.scheduler.advance(1)
    assert len(h.offers) == 1
    assert h.elapsed_at_offer() == FORM_MINUTES * 60
    offer = h.offers[0][1]
    assert offer.text == "Kann ich Ihnen bei der Wahl helfen?"
    assert offer.skill == "Sales" and offer.kind == "invite" and offer.auto_open is False


def test_dwell_accumulates_across_focus_changes() -> None:
    h = Harness(Slots(Sales=1), SALES_RULE)
    v = h.visitor()
    h.engine.form_focus(v, "contract")
    h.scheduler.advance(100)
    h.engine.form_focus(v, None)  # wandered off
    h.scheduler.advance(500)
    assert h.offers == []
    h.engine.form_focus(v, "contract")
    h.scheduler.advance(79)
    assert h.offers == []
    h.scheduler.advance(1)
    assert len(h.offers) == 1


def test_viewing_product_p_fires_immediately() -> None:
    h = Harness(Slots(Sales=2), SALES_RULE)
    v = h.visitor(language="en")
    h.engine.page_view(v, "https://shop.example/shop/product/phone-x", "/shop/product/phone-x")
    assert len(h.offers) == 1 and h.elapsed_at_offer() == 0
    assert h.offers[0][1].text == "Can I help you choose?"


def test_other_product_does_not_fire() -> None:
    h = Harness(Slots(Sales=2), SALES_RULE)
    v = h.visitor()
    h.engine.page_view(v, "https://shop.example/shop/product/tablet", "/shop/product/tablet")
    h.scheduler.advance(3600)
    assert h.offers == []


@pytest.mark.parametrize("free", [Slots(), Slots(Support=3)])
def test_and_fails_without_a_free_sales_agent(free: Slots) -> None:
    h = Harness(free, SALES_RULE)
    v = h.visitor()
    h.engine.page_view(v, "https://shop.example/shop/product/phone-x", "/shop/product/phone-x")
    h.engine.form_focus(v, "contract")
    h.scheduler.advance(FORM_MINUTES * 60 + 30)
    assert h.offers == []


def test_sales_agent_becoming_free_invites_the_waiting_visitor() -> None:
    capacity = Slots()
    h = Harness(capacity, SALES_RULE)
    v = h.visitor()
    h.engine.page_view(v, "https://shop.example/shop/product/phone-x", "/shop/product/phone-x")
    assert h.offers == []
    h.scheduler.advance(42)
    capacity.free["Sales"] = 1
    h.engine.capacity_changed("Sales")
    assert len(h.offers) == 1 and h.elapsed_at_offer() == 42


def test_promo_code_failure_sends_a_new_code_right_away() -> None:
    h = Harness(Slots(), PROMO_RULE, SALES_RULE)
    v = h.visitor(language="en")
    h.engine.page_view(v, "https://shop.example/shop/checkout", "/shop/checkout")
    h.scheduler.advance(5)
    h.engine.custom_event(v, "checkout_code_failed", {"code": "SUMMER"})
    assert len(h.offers) == 1
    offer = h.offers[0][1]
    assert offer.kind == "message" and "WELCOME10" in offer.text
    assert h.elapsed_at_offer() == 5
