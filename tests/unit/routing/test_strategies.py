"""Property tests of the assignment rules (hypothesis) and examples of each rule."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tresen.routing.estimate import competes, expected_wait, positions
from tresen.routing.strategies import AgentLoad, Request, choose, eligible, plan, queue_order

SKILLS = ["Sales", "Support", "Billing"]
NOW = 1000.0

agents_st = st.lists(
    st.builds(
        AgentLoad,
        id=st.integers(1, 10_000),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=3),
        max_chats=st.integers(1, 5),
        load=st.integers(0, 5),
        idle_since=st.floats(0, NOW),
    ),
    max_size=10,
    unique_by=lambda a: a.id,
)
requests_st = st.lists(
    st.builds(
        Request,
        id=st.integers(1, 100_000),
        queued_at=st.floats(0, NOW),
        skill=st.one_of(st.none(), st.sampled_from(SKILLS)),
        priority=st.integers(0, 2),
    ),
    max_size=30,
    unique_by=lambda r: r.id,
)


@settings(max_examples=300, deadline=None)
@given(agents_st, requests_st)
def test_plan_never_exceeds_capacity(agents: list[AgentLoad], reqs: list[Request]) -> None:
    assigned = Counter(agent_id for _, agent_id in plan(agents, reqs, NOW))
    for a in agents:
        assert a.load + assigned[a.id] <= max(a.max_chats, a.load)


@settings(max_examples=300, deadline=None)
@given(agents_st, requests_st)
def test_plan_is_work_conserving(agents: list[AgentLoad], reqs: list[Request]) -> None:
    """Afterwards no waiting request has a capable agent with a free slot."""
    pairs = plan(agents, reqs, NOW)
    served = {r for r, _ in pairs}
    extra = Counter(a for _, a in pairs)
    after = [AgentLoad(a.id, a.skills, a.max_chats, a.load + extra[a.id], a.idle_since)
             for a in agents]
    for req in reqs:
        if req.id not in served:
            assert not any(eligible(a, req) for a in after)


@settings(max_examples=300, deadline=None)
@given(agents_st, requests_st)
def test_assignments_match_skills_and_queue_order(
    agents: list[AgentLoad], reqs: list[Request]
) -> None:
    by_id = {a.id: a for a in agents}
    reqs_by_id = {r.id: r for r in reqs}
    pairs = plan(agents, reqs, NOW)
    for req_id, agent_id in pairs:
        skill = reqs_by_id[req_id].skill
        assert skill is None or skill in by_id[agent_id].skills
    served = {r for r, _ in pairs}
    # A waiting request never has an equally demanding one behind it that was served.
    for waiting in (r for r in reqs if r.id not in served):
        for other in reqs:
            if other.id in served and other.skill == waiting.skill:
                assert (-other.priority, other.queued_at, other.id) < (
                    -waiting.priority, waiting.queued_at, waiting.id)


def test_skill_level_then_least_busy_then_longest_idle() -> None:
    a = AgentLoad(1, {"Sales": 1}, 4, load=0, idle_since=10)
    b = AgentLoad(2, {"Sales": 2}, 4, load=3, idle_since=500)
    c = AgentLoad(3, {"Sales": 2}, 4, load=1, idle_since=900)
    d = AgentLoad(4, {"Sales": 2}, 4, load=1, idle_since=100)
    req = Request(1, 0, skill="Sales")
    assert choose([a, b, c, d], req, NOW).id == 4  # level 2, load 1, idle longest
    assert choose([a, b, c, d], req, NOW, "longest_idle").id == 4
    assert choose([a, b, c], req, NOW, "longest_idle").id == 2


def test_sticky_waits_for_previous_agent_then_anyone() -> None:
    anna = AgentLoad(1, {"Sales": 1}, 1, load=1, idle_since=0)  # busy
    ben = AgentLoad(2, {"Sales": 1}, 4, load=0, idle_since=0)
    req = Request(1, 0, skill="Sales", preferred_agent=1, sticky_until=NOW + 30)
    assert choose([anna, ben], req, NOW) is None
    assert choose([anna, ben], req, NOW + 30).id == 2
    free_anna = AgentLoad(1, {"Sales": 1}, 4, load=0, idle_since=0)
    assert choose([free_anna, ben], req, NOW).id == 1


def test_priority_jumps_the_queue() -> None:
    anna = AgentLoad(1, {"Sales": 1}, 1, load=0, idle_since=0)
    early = Request(1, queued_at=1, skill="Sales")
    gold = Request(2, queued_at=50, skill="Sales", priority=1)
    assert plan([anna], [early, gold], NOW) == [(2, 1)]
    assert positions([early, gold]) == {2: 1, 1: 2}


def test_declined_agent_is_skipped() -> None:
    anna = AgentLoad(1, {"Sales": 1}, 4, load=0, idle_since=0)
    req = Request(1, 0, skill="Sales", declined=frozenset({1}))
    assert choose([anna], req, NOW) is None


def test_expected_wait_model() -> None:
    full = AgentLoad(1, {"Sales": 1}, 4, load=4, idle_since=0)
    req = Request(1, 0, skill="Sales")
    assert expected_wait([full], req, position=1, handling_seconds=240) == 60.0
    assert expected_wait([full], req, position=2, handling_seconds=240) == 120.0
    assert expected_wait([], req, position=1, handling_seconds=240) is None
    half = AgentLoad(2, {"Sales": 1}, 4, load=2, idle_since=0)
    assert expected_wait([half], req, position=2, handling_seconds=240) == 0.0


def test_positions_count_within_each_queue_as_the_definition_does() -> None:
    rng = random.Random(5)
    waiting = [
        Request(
            i,
            queued_at=rng.randrange(100),
            skill=rng.choice([None, "Sales", "Support"]),
            department=rng.choice([None, "DE", "DK"]),
            priority=rng.choice([0, 0, 1]),
        )
        for i in range(300)
    ]
    ordered = sorted(waiting, key=queue_order)
    by_definition = {
        r.id: 1 + sum(1 for o in ordered[:k] if competes(r, o)) for k, r in enumerate(ordered)
    }
    assert positions(waiting) == by_definition
    assert sorted(positions(waiting).values())[-1] < 300  # several queues, not one
