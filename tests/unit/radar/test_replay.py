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


SEED = compile_rule(
    0,
    None,
    {
        "name": "draft: the seed's rule (contract form 3 min or phone X, Sales free)",
        "when": {
            "all": [
                {
                    "any": [
                        {"form_dwell": {"form": "contract", "gte": 180}},
                        {"url": {"glob": "/shop/product/phone-x*"}},
                    ]
                },
                {"agent_free": {"skill": "Sales"}},
            ]
        },
        "action": {"type": "invite", "skill": "Sales", "text": {"en": "Can I help?"}},
    },
)
ALWAYS = StepTimeline({"Sales": [(0.0, 5, 10.0)]})


def form_visit(vid: int, forms: list[tuple[float, str | None]] | None) -> StoredVisit:
    pages = [(SHOP + "/contract", "", 0.0), (SHOP + "/contract/2", "", 500.0)]
    return StoredVisit(vid, vid, 0.0, pages, [], forms=forms)


def test_form_dwell_is_replayed_from_the_kept_form_focus() -> None:
    visits = [
        # 100 s, out for 50 s, back: 180 s reached at 100 + 50 + 80 = 230
        form_visit(1, [(0.0, "contract"), (100.0, None), (150.0, "contract")]),
        # 120 s in "contract", then another form: never 180 s
        form_visit(2, [(0.0, "contract"), (120.0, "newsletter")]),
        # in the form at 400, the page load at 500 ends the focus (as live): 100 s only
        form_visit(3, [(400.0, "contract")]),
        # no form focus at all, recorded as such
        form_visit(4, []),
    ]
    assert [first_match(SEED, v, ALWAYS) for v in visits] == [230.0, None, None, None]
    result = replay(SEED, visits, ALWAYS)
    assert result["matched_visits"] == 1 and result["not_evaluated"] == []


def test_what_a_visit_cannot_answer_is_named_per_condition() -> None:
    old = form_visit(5, None)  # stored before form focus was kept
    events = [("x", float(i), {}) for i in range(50)]  # as many as are kept: cut
    busy = StoredVisit(6, 6, 0.0, [(SHOP + "/", "", 0.0)], events, forms=[])
    result = replay(SEED, [old, busy, form_visit(7, [])], ALWAYS)
    assert result["not_evaluated"] == [
        {
            "path": "when.all[0].any[0].form_dwell",
            "condition": "form_dwell",
            "visits": 1,
            "reason": "visits stored before form focus was kept: taken as no time in forms",
        }
    ]
    on_events = compile_rule(
        0,
        None,
        {
            "name": "draft",
            "when": {"not": {"any": [{"event": {"name": "x"}}, {"viewed": {"product": "P"}}]}},
            "action": {"type": "message", "text": {"en": "Hi"}},
        },
    )
    paths = [c["path"] for c in replay(on_events, [old, busy], ALWAYS)["not_evaluated"]]
    assert paths == ["when.not.any[0].event", "when.not.any[1].viewed"]


def test_utm_returning_and_attributes_replay_as_stored() -> None:
    rule = compile_rule(
        0,
        None,
        {
            "name": "draft",
            "when": {
                "all": [
                    {"utm": {"campaign": "spring"}},
                    {"returning": True},
                    {"attr": {"name": "segment", "value": "gold"}},
                ]
            },
            "action": {"type": "message", "text": {"en": "Hi"}},
        },
    )
    page = [(SHOP + "/?utm_campaign=spring", "", 10.0)]

    def v(vid: int, **kw: object) -> StoredVisit:
        return StoredVisit(vid, vid, 10.0, page, [], forms=[], **kw)  # type: ignore[arg-type]

    gold = {"segment": "gold"}
    visits = [
        v(1, utm={"campaign": "spring"}, returning=True, attributes=gold),
        v(2, utm={"campaign": "autumn"}, returning=True, attributes=gold),
        v(3, utm={"campaign": "spring"}, returning=False, attributes=gold),
        v(4, utm={"campaign": "spring"}, returning=True, attributes={}),
    ]
    assert [m["visitor_id"] for m in replay(rule, visits, ALWAYS)["matches"]] == [1]
