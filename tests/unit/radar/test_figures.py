"""Per-rule figures on a seeded history with known answers."""

from __future__ import annotations

import pytest

from tresen.radar.figures import Exposure, VisitRecord, figures
from tresen.radar.rules import Goal

PURCHASE = Goal(event="purchase")


def visit(vid: int, start: float, end: float, *goals: tuple[str, float, float]) -> VisitRecord:
    pages = [[f"https://shop.example/p{i}", "", start + i, 0.0] for i in range(3)]
    return VisitRecord(
        vid, start, end, pages, [{"name": n, "value": v, "at": t} for n, v, t in goals]
    )


def test_groups_goals_and_lift() -> None:
    exposures = [
        # invited: 1 accepted with a chat and buys 100; 2 dismissed and buys 50; 3 ignores
        Exposure(1, "accepted", 10, conversation_id=7),
        Exposure(2, "dismissed", 20),
        Exposure(3, "ignored", 30),
        Exposure(4, "shown", 40),
        # held out: 5 buys 80; 6 does not
        Exposure(5, "held_out", 15),
        Exposure(6, "held_out", 25),
        Exposure(1, "dismissed", 500),  # a second exposure, in a later visit: counted once
    ]
    visits = [
        visit(1, 0, 100, ("purchase", 100.0, 60)),
        visit(1, 400, 600, ("purchase", 30.0, 550)),  # not the visit of the first exposure
        visit(2, 0, 100, ("purchase", 50.0, 90), ("newsletter", 0, 95)),
        visit(3, 0, 100, ("purchase", 20.0, 5)),  # before the exposure: not attributed
        visit(4, 0, 100),
        visit(5, 0, 100, ("purchase", 80.0, 70)),
        visit(6, 0, 100),
    ]
    f = figures(exposures, visits, PURCHASE)
    assert (f["matched"], f["shown"], f["held_out"], f["accepted"], f["chats"]) == (6, 4, 2, 1, 1)
    assert f["invited_group"] == {
        "visitors": 4,
        "converted": 2,
        "rate": 0.5,
        "value": 150.0,
        "value_per_visitor": 37.5,
    }
    assert f["held_out_group"]["rate"] == 0.5 and f["held_out_group"]["value_per_visitor"] == 40
    lift = f["lift"]
    assert lift["difference"] == 0 and lift["relative"] == 0
    # se = sqrt(0.25/4 + 0.25/2) = sqrt(0.1875) = 0.4330127; 1.959964 * se = 0.8486893
    assert lift["ci95"] == pytest.approx([-0.8486893, 0.8486893], abs=1e-6)
    assert lift["needed_per_group"] is None and lift["significant"] is False


def test_a_url_goal_counts_pages_after_the_exposure() -> None:
    goal = Goal(url="/p2")
    exposures = [Exposure(1, "shown", 1.5), Exposure(2, "held_out", 2.5)]
    visits = [visit(1, 0, 10), visit(2, 0, 10)]  # pages p0, p1, p2 at 0, 1, 2
    f = figures(exposures, visits, goal)
    assert f["invited_group"]["converted"] == 1  # p2 at 2 >= 1.5
    assert f["held_out_group"]["converted"] == 0  # p2 at 2 < 2.5
    assert f["lift"]["difference"] == 1.0


def test_no_lift_without_a_control_group() -> None:
    f = figures([Exposure(1, "shown", 1)], [visit(1, 0, 10)], PURCHASE)
    assert f["lift"] is None and f["held_out"] == 0 and f["shown"] == 1
