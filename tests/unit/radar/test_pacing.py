"""Pacing by predicted wait, against hand-computed numbers."""

from __future__ import annotations

import pytest

from tresen.radar.pacing import Load, may_invite, predicted_wait


def test_no_wait_while_the_expected_acceptances_fit_the_free_slots() -> None:
    # 40 slots, 36 busy: 4 free; 1 queued + 2.2 expected + 0.4 for this one = 3.6 <= 4
    load = Load(slots=40, busy=36, queued=1, expected=2.2, handling=240)
    assert predicted_wait(load, 0.4) == 0.0
    assert may_invite(load, 0.4)


def test_the_wait_grows_with_the_chats_ahead_beyond_the_free_slots() -> None:
    # 2 free; ahead 3 + 1.6 + 0.4 = 5: 3 short; slots free at 40/240 a second -> 3 * 6 = 18 s
    load = Load(slots=40, busy=38, queued=3, expected=1.6, handling=240)
    assert predicted_wait(load, 0.4) == pytest.approx(18.0)
    assert may_invite(load, 0.4, target=20)
    # one more queued chat: 4 short -> 24 s, beyond the 20 s target
    assert predicted_wait(Load(40, 38, 4, 1.6, 240), 0.4) == pytest.approx(24.0)
    assert not may_invite(Load(40, 38, 4, 1.6, 240), 0.4, target=20)


def test_nobody_online_means_no_invitation() -> None:
    assert predicted_wait(Load(0, 0, 0, 0, 240), 0.3) == float("inf")
