"""Rule conditions: JSON trees (all / any / not over leaves) compiled once into closures.

Each compiled node answers two questions about a visitor at a moment:
``test(ctx)`` — is it true now? and ``wake(ctx)`` — the earliest future moment at which its
value can change without a new event (a dwell reaching its threshold, an event ageing out of
its window), so the engine schedules one timer instead of polling visitors.
"""

from __future__ import annotations

from typing import Any

from tresen.radar.compiled import Compiled, Ctx, RuleError, Test, never
from tresen.radar.leaves import LEAVES


def compile_condition(tree: Any, path: str = "when") -> Compiled:
    """Validate and compile one condition tree; RuleError names the path of a fault."""
    if not isinstance(tree, dict) or len(tree) != 1:
        raise RuleError(path, 'a condition is an object with exactly one key, e.g. {"all": [...]}')
    ((key, arg),) = tree.items()
    if key in ("all", "any"):
        return _compile_group(key, arg, f"{path}.{key}")
    if key == "not":
        inner = compile_condition(arg, f"{path}.not")
        return Compiled(lambda c: not inner.test(c), inner.wake, inner.skills)
    leaf = LEAVES.get(key)
    if leaf is None:
        known = ", ".join(sorted(["all", "any", "not", *LEAVES]))
        raise RuleError(path, f"unknown condition {key!r}; known: {known}")
    return leaf(arg, f"{path}.{key}")


def _compile_group(key: str, arg: Any, path: str) -> Compiled:
    if not isinstance(arg, list) or not arg:
        raise RuleError(path, "expects a non-empty list of conditions")
    parts = tuple(compile_condition(c, f"{path}[{i}]") for i, c in enumerate(arg))
    tests = tuple(p.test for p in parts)
    wakes = tuple(p.wake for p in parts if p.wake is not never)
    skills: frozenset[str | None] = frozenset().union(*(p.skills for p in parts))
    test = _all(tests) if key == "all" else _any(tests)

    if not wakes:
        return Compiled(test, never, skills)
    if key == "any":

        def wake(c: Ctx) -> float | None:
            times = [w for w in (f(c) for f in wakes) if w is not None]
            return min(times) if times else None

        return Compiled(test, wake, skills)
    static = _all(tuple(p.test for p in parts if p.wake is never) or (_true,))

    def wake_all(c: Ctx) -> float | None:
        # A part that only a new event can change, false now, keeps the whole false: no timer.
        if not static(c):
            return None
        soonest = None
        for f in wakes:
            w = f(c)
            if w is not None and (soonest is None or w < soonest):
                soonest = w
        return soonest

    return Compiled(test, wake_all, skills)


def _true(c: Ctx) -> bool:
    return True


def _all(tests: tuple[Test, ...]) -> Test:
    # Unrolled for the common small groups: this runs for every rule on every event.
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda c: a(c) and b(c)
    if len(tests) == 3:
        a, b, d = tests
        return lambda c: a(c) and b(c) and d(c)
    return lambda c: all(t(c) for t in tests)


def _any(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda c: a(c) or b(c)
    return lambda c: any(t(c) for t in tests)
