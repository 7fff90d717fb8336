"""Holdout and lift: is a rule's invitation worth it?

Each rule keeps a control share of the visitors it matches: they are not invited and are
recorded as held out. The assignment is a hash of (rule, visitor), so it is sticky (the same
visitor is always in the same group for that rule, on every node and after restarts) and
independent between rules. Goals (a named event with an optional value, or a URL) are
attributed to the visit; comparing the goal rate of invited and held-out visitors gives the
lift, with a 95 % confidence interval and the sample size needed to be sure.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95 %
Z80 = 0.8416212335729143  # 80 % power


def held_out(rule_id: int, visitor_id: int, share: float) -> bool:
    """Is this visitor in the rule's control group? Sticky and uniform over visitors."""
    if share <= 0:
        return False
    digest = hashlib.blake2b(f"{rule_id}:{visitor_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


@dataclass(frozen=True, slots=True)
class Group:
    """Visitors of one group (invited or held out) and what they did."""

    visitors: int
    converted: int
    value: float = 0.0

    @property
    def rate(self) -> float:
        return self.converted / self.visitors if self.visitors else 0.0

    @property
    def value_per_visitor(self) -> float:
        return self.value / self.visitors if self.visitors else 0.0


@dataclass(frozen=True, slots=True)
class Lift:
    difference: float  # goal rate invited - held out (absolute, 0.05 = 5 points)
    relative: float | None  # difference / held-out rate (None if that rate is 0)
    low: float  # 95 % confidence interval of the difference
    high: float
    needed_per_group: int | None  # visitors per group to detect this difference (80 % power)
    significant: bool


def lift(invited: Group, control: Group) -> Lift | None:
    """The difference of goal rates with a Wald 95 % interval; None without both groups."""
    if invited.visitors == 0 or control.visitors == 0:
        return None
    p1, p2 = invited.rate, control.rate
    diff = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / invited.visitors + p2 * (1 - p2) / control.visitors)
    low, high = diff - Z95 * se, diff + Z95 * se
    return Lift(
        difference=diff,
        relative=diff / p2 if p2 else None,
        low=low,
        high=high,
        needed_per_group=sample_size(p1, p2),
        significant=low > 0 or high < 0,
    )


def sample_size(p1: float, p2: float) -> int | None:
    """Visitors per group to tell ``p1`` from ``p2`` (two-sided 5 %, power 80 %)."""
    if p1 == p2:
        return None
    n = (Z95 + Z80) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    return math.ceil(n)
