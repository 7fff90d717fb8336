"""Email blending: chats always go first (hypothesis properties of ``plan_email``)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tresen.routing.blend import email_rules
from tresen.routing.strategies import (
    AgentLoad,
    EmailItem,
    EmailRules,
    Request,
    chat_limit_for_email,
    plan,
    plan_email,
    qualified,
)
from tresen.settings import Settings

SKILLS = ["Sales", "Support", "Billing"]
NOW = 1000.0

agents_st = st.lists(
    st.builds(
        AgentLoad,
        id=st.integers(1, 50),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=3),
        max_chats=st.integers(1, 5),
        load=st.integers(0, 5),
        idle_since=st.floats(0, NOW),
        email_load=st.integers(0, 2),
        takes_email=st.booleans(),
    ),
    max_size=8,
    unique_by=lambda a: a.id,
)
requests_st = st.lists(
    st.builds(
        Request,
        id=st.integers(1, 100_000),
        queued_at=st.floats(0, NOW),
        skill=st.one_of(st.none(), st.sampled_from(SKILLS)),
    ),
    max_size=6,
    unique_by=lambda r: r.id,
)
items_st = st.lists(
    st.builds(
        EmailItem,
        id=st.integers(1, 100_000),
        queued_at=st.floats(0, NOW),
        skill=st.one_of(st.none(), st.sampled_from(SKILLS)),
        assignee=st.one_of(st.none(), st.integers(1, 50)),
        touched=st.booleans(),
    ),
    max_size=12,
    unique_by=lambda i: i.id,
)
rules_st = st.builds(
    EmailRules,
    slots=st.integers(0, 3),
    chat_reserve=st.integers(0, 3),
    yield_untouched=st.booleans(),
)


def _pass(
    agents: list[AgentLoad], reqs: list[Request], items: list[EmailItem], rules: EmailRules
) -> tuple[list[AgentLoad], list[int], list[tuple[int, int]]]:
    """A dispatch pass as run_pass does it: chats first, then email against the chats that
    waited when the pass began. Email loads are made consistent with the items held."""
    held = Counter(i.assignee for i in items if i.assignee is not None)
    agents = [
        AgentLoad(
            a.id,
            a.skills,
            a.max_chats,
            a.load,
            a.idle_since,
            email_load=held[a.id],
            takes_email=a.takes_email,
        )
        for a in agents
    ]
    pairs = plan(agents, reqs, NOW)
    extra = Counter(a for _, a in pairs)
    after = [
        AgentLoad(
            a.id,
            a.skills,
            a.max_chats,
            a.load + extra[a.id],
            a.idle_since,
            email_load=a.email_load,
            takes_email=a.takes_email,
        )
        for a in agents
    ]
    back, email = plan_email(after, items, reqs, rules)
    return after, back, email


@settings(max_examples=400, deadline=None)
@given(agents_st, requests_st, items_st, rules_st)
def test_never_email_while_a_chat_the_agent_could_serve_waits(
    agents: list[AgentLoad], reqs: list[Request], items: list[EmailItem], rules: EmailRules
) -> None:
    after, _, email = _pass(agents, reqs, items, rules)
    by_id = {a.id: a for a in after}
    for _, agent_id in email:
        assert not any(qualified(by_id[agent_id], r.skill, r.department) for r in reqs)


@settings(max_examples=400, deadline=None)
@given(agents_st, requests_st, items_st, rules_st)
def test_email_slots_reserve_and_the_toggle_hold(
    agents: list[AgentLoad], reqs: list[Request], items: list[EmailItem], rules: EmailRules
) -> None:
    after, back, email = _pass(agents, reqs, items, rules)
    by_id = {a.id: a for a in after}
    got = Counter(a for _, a in email)
    items_by_id = {i.id: i for i in items}
    for agent_id, n in got.items():
        a = by_id[agent_id]
        assert a.takes_email
        assert a.load < chat_limit_for_email(a, rules)  # the reserve, after this pass's chats
        kept = sum(1 for i in items if i.assignee == agent_id and i.id not in back)
        assert kept + n <= rules.slots  # never beyond the email slots
    for item_id, agent_id in email:
        item = items_by_id[item_id]
        assert item.assignee is None or item_id in back  # only backlog items are handed out
        assert qualified(by_id[agent_id], item.skill, item.department)
    assert len({i for i, _ in email}) == len(email)  # each item to one agent


@settings(max_examples=400, deadline=None)
@given(agents_st, requests_st, items_st, rules_st)
def test_only_untouched_items_go_back_for_chats_chat_only_or_offline(
    agents: list[AgentLoad], reqs: list[Request], items: list[EmailItem], rules: EmailRules
) -> None:
    after, back, _ = _pass(agents, reqs, items, rules)
    by_id = {a.id: a for a in after}
    items_by_id = {i.id: i for i in items}
    if not rules.yield_untouched:
        assert back == []
    for item_id in back:
        item = items_by_id[item_id]
        assert not item.touched and item.assignee is not None
        a = by_id.get(item.assignee)  # None: the agent is not online
        assert (
            a is None or not a.takes_email or any(qualified(a, r.skill, r.department) for r in reqs)
        )


@settings(max_examples=300, deadline=None)
@given(agents_st, items_st, rules_st)
def test_quiet_means_email_work_conserving(
    agents: list[AgentLoad], items: list[EmailItem], rules: EmailRules
) -> None:
    """No chat waits: afterwards no backlog item has an agent with room who could take it."""
    after, back, email = _pass(agents, [], items, rules)
    got = Counter(a for _, a in email)
    served = {i for i, _ in email}
    for a in after:
        held = sum(1 for i in items if i.assignee == a.id and i.id not in back) + got[a.id]
        has_room = a.takes_email and held < rules.slots and a.load < chat_limit_for_email(a, rules)
        for item in items:
            if (item.assignee is None or item.id in back) and item.id not in served:
                assert not (
                    has_room and qualified(a, item.skill, item.department) and item.assignee != a.id
                )


def test_chat_first_then_email_when_quiet() -> None:
    anna = AgentLoad(1, {"Sales": 1}, 2, load=0, idle_since=0, email_load=1)
    mail = [EmailItem(10, 1, "Sales", assignee=1), EmailItem(11, 2, "Sales")]
    chat = Request(5, 3, skill="Sales")
    assert plan([anna], [chat], NOW) == [(5, 1)]
    busy = AgentLoad(1, {"Sales": 1}, 2, load=1, idle_since=0, email_load=1)
    assert plan_email([busy], mail, [chat]) == ([10], [])  # held back, untouched item returns
    touched = [EmailItem(10, 1, "Sales", assignee=1, touched=True), mail[1]]
    assert plan_email([busy], touched, [chat]) == ([], [])  # started work stays
    idle = AgentLoad(1, {"Sales": 1}, 2, load=0, idle_since=0, email_load=0)
    backlog = [EmailItem(10, 1, "Sales"), mail[1]]
    assert plan_email([idle], backlog, []) == ([], [(10, 1)])  # quiet: oldest first, one slot
    assert plan_email([busy], backlog, [], EmailRules(slots=2)) == ([], [])  # reserve: 1 < 1


def test_chat_only_agent_never_gets_email_and_returns_untouched() -> None:
    ben = AgentLoad(2, {"Sales": 1}, 4, load=0, idle_since=0, email_load=1, takes_email=False)
    mail = [EmailItem(10, 1, "Sales", assignee=2), EmailItem(11, 2, "Sales")]
    assert plan_email([ben], mail, []) == ([10], [])


def test_items_of_agents_gone_offline_go_back_unless_started() -> None:
    ben = AgentLoad(2, {"Sales": 1}, 4, load=0, idle_since=0)
    mail = [
        EmailItem(10, 1, "Sales", assignee=7),
        EmailItem(11, 2, "Sales", assignee=8, touched=True),
    ]
    assert plan_email([ben], mail, []) == ([10], [(10, 2)])


def test_email_rules_come_from_settings() -> None:
    custom = Settings(email_slots=3, email_chat_reserve=0, email_yield=False)
    assert email_rules(custom) == EmailRules(slots=3, chat_reserve=0, yield_untouched=False)
    assert email_rules(Settings()) == EmailRules()  # the defaults agree
