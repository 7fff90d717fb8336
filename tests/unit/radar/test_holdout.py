"""Holdout assignment and lift statistics against hand-computed numbers."""

from __future__ import annotations

import pytest

from tresen.radar.holdout import Group, held_out, lift, sample_size


def test_the_control_share_is_kept_and_sticky_per_visitor_and_rule() -> None:
    held = [v for v in range(20_000) if held_out(7, v, 0.1)]
    assert 1_800 <= len(held) <= 2_200  # 10 % of 20,000, within 1 point
    assert held == [v for v in range(20_000) if held_out(7, v, 0.1)]  # sticky
    other = {v for v in range(20_000) if held_out(8, v, 0.1)}
    assert 100 <= len(other & set(held)) <= 300  # independent: about 10 % of 10 %
    assert not any(held_out(7, v, 0.0) for v in range(1000))
    assert all(held_out(7, v, 1.0) for v in range(1000))
    # A larger share keeps everyone a smaller share held out (the same visitors, more).
    assert set(held) <= {v for v in range(20_000) if held_out(7, v, 0.2)}


def test_lift_with_its_confidence_interval_and_sample_size() -> None:
    # By hand: invited 30/200 = 0.15, held out 10/100 = 0.10, difference 0.05.
    # se = sqrt(0.15*0.85/200 + 0.10*0.90/100) = sqrt(0.0006375 + 0.0009) = 0.0392110
    # 95 %: 0.05 -+ 1.959964 * 0.0392110 = [-0.026852, 0.126852]: not significant.
    # n = (1.959964 + 0.841621)^2 * (0.1275 + 0.09) / 0.05^2 = 7.848879 * 87 = 682.85 -> 683
    result = lift(Group(200, 30, 3870.0), Group(100, 10, 1290.0))
    assert result is not None
    assert result.difference == pytest.approx(0.05)
    assert result.relative == pytest.approx(0.5)
    assert result.low == pytest.approx(-0.026852, abs=1e-6)
    assert result.high == pytest.approx(0.126852, abs=1e-6)
    assert result.needed_per_group == 683
    assert result.significant is False
    assert Group(200, 30, 3870.0).value_per_visitor == pytest.approx(19.35)


def test_a_clear_lift_is_significant() -> None:
    # 300/1000 = 0.30 vs 200/1000 = 0.20: se = sqrt(0.21/1000 + 0.16/1000) = 0.0192354,
    # 0.10 -+ 0.0377006 = [0.0622994, 0.1377006]
    result = lift(Group(1000, 300), Group(1000, 200))
    assert result is not None and result.significant
    assert (result.low, result.high) == pytest.approx((0.0622994, 0.1377006), abs=1e-6)
    # n = 7.848879 * (0.21 + 0.16) / 0.01 = 290.41 -> 291
    assert result.needed_per_group == 291


def test_no_lift_without_both_groups_or_without_a_difference() -> None:
    assert lift(Group(10, 1), Group(0, 0)) is None
    assert sample_size(0.1, 0.1) is None
    result = lift(Group(10, 0), Group(10, 0))
    assert result is not None and result.relative is None and result.needed_per_group is None
