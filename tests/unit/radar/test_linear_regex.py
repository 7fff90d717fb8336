"""Rule regexes run visitor-chosen URLs through admin-written patterns on the event loop: the
engine is RE2 (linear time), so a catastrophic pattern cannot block the server."""

from __future__ import annotations

import asyncio

import pytest

from tresen.radar.compiled import RuleError
from tresen.radar.leaves import MAX_MATCHED_CHARS, Match, compile_matcher
from tresen.radar.rules import parse_rule


async def test_a_catastrophic_pattern_answers_at_once() -> None:
    test = compile_matcher(Match(regex="^(a+)+$"), on_path=False)
    url = "a" * 60 + "!"  # exponential for a backtracking engine
    # A deadline, not a bound: a backtracking engine would not finish in a lifetime.
    assert await asyncio.wait_for(asyncio.to_thread(test, url, url), 30) is False
    assert test("aaa", "aaa") is True


def test_patterns_re2_cannot_run_in_linear_time_are_refused() -> None:
    rule = {
        "name": "backref",
        "when": {"url": {"regex": "(a)\\1"}},
        "action": {"type": "message", "text": {"en": "hi"}},
    }
    with pytest.raises(RuleError, match="bad regex"):
        parse_rule(rule)


def test_only_the_first_characters_of_a_long_url_are_matched() -> None:
    test = compile_matcher(Match(regex="needle"), on_path=False)
    far = "x" * MAX_MATCHED_CHARS + "needle"
    assert test(far, far) is False
    assert test("needle", "needle") is True
