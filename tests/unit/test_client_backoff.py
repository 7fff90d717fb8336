"""TresenClient's waits before reconnecting: jittered, so clients dropped together (a node's
rolling restart, an outage) come back spread out instead of all at once."""

from __future__ import annotations

import random

from tresen.client import RETRY_CAP, restart_delay, retry_delay


def test_restart_reconnects_are_spread_over_the_window() -> None:
    random.seed(17)
    delays = [restart_delay(2.0) for _ in range(2000)]
    assert all(0.0 <= d <= 2.0 for d in delays)
    # Spread over the whole window, not bunched at its start: every quarter gets its share.
    quarters = [sum(1 for d in delays if q * 0.5 <= d < (q + 1) * 0.5) for q in range(4)]
    assert all(400 <= n <= 600 for n in quarters), quarters
    assert restart_delay(0.0) == 0.0  # a spread of 0: at once, as before


def test_failed_attempts_back_off_exponentially_with_jitter() -> None:
    random.seed(18)
    for failures in range(12):
        full = min(RETRY_CAP, 0.2 * 2**failures)
        delays = [retry_delay(0.2, failures) for _ in range(200)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert len({round(d, 6) for d in delays}) > 150  # jittered, not one value for all
    assert max(retry_delay(0.2, 60) for _ in range(50)) <= RETRY_CAP
