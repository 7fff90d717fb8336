"""Replay of a draft rule over seeded history, with known answers."""

from __future__ import annotations

from tresen.radar.replay import StepTimeline, StoredVisit, first_match, replay
from tresen.radar.rules import compile_rule

LINGER = compile_rule(
    0,
    None,
    {
        "name": "draft: a minute on a product, Sales free",
        "when": {
            "all": [
                {"url": {"glob": "/shop/products/*"}},
                {"time_on_page": {"gte": 60}},
                {"agent_free": {"skill": "Sales"}},
            ]
        },
        "action": {"type": "invite", "skill": "Sales", "text": {"en": "Can I help?"}},
    },
)
# Sales: one free slot until 1500, none until 2100, then two.
SALES = StepTimeline({"Sales": [(0.0, 1, 30.0), (1500.0, 0, 300.0), (2100.0, 2, 10.0)]})
SHOP = "https://shop.example"


def visit(vid: int, visit_id: int, *pages: tuple[str, float]) -> StoredVisit:
    return StoredVisit(
        vid, visit_id, pages[0][1], [(SHOP + p, p, at) for p, at in pages], events=[]
    )


HISTORY = [
    visit(1, 1, ("/", 0), ("/shop/products/lamp", 100), ("/cart", 200)),  # at 160
    visit(2, 2, ("/shop/products/kettle", 1000), ("/", 1030)),  # 30 s only: no match
    visit(3, 3, ("/shop/products/sofa", 2000)),  # holds at 2060, Sales busy until 2100
    visit(4, 4, ("/shop/products/phone", 3000)),  # at 3060
    visit(4, 5, ("/shop/products/phone", 3070)),  # at 3130 (the same visitor, a later visit)
    visit(6, 6, ("/shop/products/phone", 3080)),  # at 3140: both slots held by invitations
]


def test_first_match_per_visit_at_the_exact_second() -> None:
    assert [first_match(LINGER, v, SALES) for v in HISTORY] == [
        160.0,
        None,
        2100.0,
        3060.0,
        3130.0,
        3140.0,
    ]


def test_replay_counts_visitors_and_what_pacing_lets_through() -> None:
    result = replay(LINGER, HISTORY, SALES, hold=120)
    assert result["visits"] == 6
    assert result["matched_visits"] == 5
    assert result["matched_visitors"] == 4  # visitor 4 matched in two visits
    # 160 (1 free), 2100 (2 free), 3060 (2 free, none outstanding), 3130 (2 free, 1
    # outstanding until 3180) go through; 3140 finds both slots held.
    assert result["let_through"] == 4
    assert [m["at"] for m in result["matches"]] == [160.0, 2100.0, 3060.0, 3130.0, 3140.0]


def test_an_event_rule_replays_on_stored_events_and_is_not_paced() -> None:
    promo = compile_rule(
        0,
        None,
        {
            "name": "draft: failed promo code",
            "when": {
                "event": {
                    "name": "checkout_code_failed",
                    "within": 60,
                    "props": {"code": {"op": "eq", "value": "SUMMER"}},
                }
            },
            "action": {"type": "message", "text": {"en": "Try WINTER15."}},
        },
    )
    visits = [
        StoredVisit(
            1,
            1,
            0,
            [(SHOP + "/checkout", "", 0)],
            [("checkout_code_failed", 30, {"code": "SUMMER"})],
        ),
        StoredVisit(
            2, 2, 0, [(SHOP + "/checkout", "", 0)], [("checkout_code_failed", 30, {"code": "X"})]
        ),
        StoredVisit(3, 3, 0, [(SHOP + "/checkout", "", 0)], []),
    ]
    result = replay(promo, visits, StepTimeline())
    assert (result["matched_visits"], result["let_through"]) == (1, 1)
    assert result["matches"] == [{"visitor_id": 1, "visit_id": 1, "at": 30}]
