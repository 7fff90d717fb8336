"""Never aggressive: pacing, one offer per page view, cooldowns, chats, mobile, caps."""

from __future__ import annotations

from tests.unit.radar.test_seed_rules import Harness, Slots

PRODUCT_RULE = {
    "name": "Product page help",
    "when": {"all": [{"url": {"glob": "/p/*"}}, {"agent_free": {"skill": "Sales"}}]},
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Questions?"}},
}
AUTO_OPEN = {**PRODUCT_RULE, "action": {**PRODUCT_RULE["action"], "auto_open": True}}


def view(h: Harness, v: int, path: str = "/p/1") -> None:
    h.engine.page_view(v, "https://shop.example" + path, path)


def test_pacing_holds_a_slot_per_outstanding_invitation() -> None:
    h = Harness(Slots(Sales=1), PRODUCT_RULE)
    a, b = h.visitor(1), h.visitor(2)
    view(h, a)
    view(h, b)
    assert [o.visitor_id for _, o in h.offers] == [a]
    h.engine.respond(a, "dismissed")
    assert [o.visitor_id for _, o in h.offers] == [a, b]


def test_ignored_invitation_expires_and_frees_the_slot() -> None:
    h = Harness(Slots(Sales=1), PRODUCT_RULE)
    outcomes: list[tuple[int, str]] = []
    h.engine.on_outcome = lambda v, r, o: outcomes.append((v, o))
    a, b = h.visitor(1), h.visitor(2)
    view(h, a)
    view(h, b)
    h.scheduler.advance(h.engine.policy.invite_expiry)
    assert (a, "ignored") in outcomes
    assert [o.visitor_id for _, o in h.offers] == [a, b]


def test_one_offer_per_page_view_and_dismissal_cooldown() -> None:
    h = Harness(Slots(Sales=5), PRODUCT_RULE)
    v = h.visitor()
    view(h, v)
    h.engine.respond(v, "dismissed")
    view(h, v, "/p/2")
    h.scheduler.advance(23 * 3600)
    view(h, v, "/p/3")
    assert len(h.offers) == 1
    h.scheduler.advance(3600)
    view(h, v, "/p/4")
    assert len(h.offers) == 2


def test_no_offers_while_chatting_or_soon_after() -> None:
    h = Harness(Slots(Sales=5), PRODUCT_RULE)
    v = h.visitor()
    h.engine.chat_started(v)
    view(h, v)
    h.engine.chat_ended(v)
    view(h, v, "/p/2")
    assert h.offers == []
    h.scheduler.advance(h.engine.policy.after_chat)
    view(h, v, "/p/3")
    assert len(h.offers) == 1


def test_accepting_counts_as_chatting() -> None:
    h = Harness(Slots(Sales=5), PRODUCT_RULE)
    v = h.visitor()
    view(h, v)
    offer = h.engine.respond(v, "accepted")
    assert offer is not None and offer.skill == "Sales"
    view(h, v, "/p/2")
    assert len(h.offers) == 1


def test_mobile_gets_a_quiet_offer_and_never_auto_open() -> None:
    h = Harness(Slots(Sales=5), AUTO_OPEN)
    phone, desk = h.visitor(1, device="mobile"), h.visitor(2)
    view(h, phone)
    view(h, desk)
    by_visitor = {o.visitor_id: o for _, o in h.offers}
    assert by_visitor[phone].quiet and not by_visitor[phone].auto_open
    assert by_visitor[desk].auto_open and not by_visitor[desk].quiet


def test_frequency_cap_per_day() -> None:
    h = Harness(Slots(Sales=5), PRODUCT_RULE)
    v = h.visitor()
    for i in range(5):
        view(h, v, f"/p/{i}")
        h.scheduler.advance(h.engine.policy.invite_expiry)  # ignored each time
    assert len(h.offers) == h.engine.policy.max_per_day
    state = h.engine.visitors[v]
    h.engine.forget(v)  # left the site
    h.scheduler.advance(24 * 3600)
    h.engine.track(state.facts, state)  # back the next day
    view(h, v, "/p/next-day")
    assert len(h.offers) == h.engine.policy.max_per_day + 1
