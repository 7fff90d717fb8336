"""Shapes shared by the condition compiler and its leaves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tresen.radar.facts import VisitorFacts


class RuleError(ValueError):
    """A rule is invalid; ``path`` says where (e.g. ``when.any[1].time_on_page.gte``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class Resources(Protocol):
    """Live capacity, as the router sees it."""

    def agent_free(self, skill: str | None) -> bool: ...

    def queue_wait(self, skill: str | None) -> float: ...


@dataclass(slots=True)
class Ctx:
    facts: VisitorFacts
    now: float
    resources: Resources
    optimistic: bool = False  # resource conditions count as met (to find who waits on a skill)


Test = Callable[[Ctx], bool]
Wake = Callable[[Ctx], float | None]


def never(ctx: Ctx) -> float | None:
    return None


@dataclass(frozen=True, slots=True)
class Compiled:
    test: Test
    wake: Wake = never
    skills: frozenset[str | None] = frozenset()
