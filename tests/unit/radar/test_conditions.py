"""Each condition leaf, and rule validation errors that say where the fault is."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.radar.test_seed_rules import Slots

from tresen.radar.compiled import Ctx, RuleError
from tresen.radar.conditions import compile_condition
from tresen.radar.engine import PacedResources
from tresen.radar.facts import TrackedEvent, VisitorFacts
from tresen.radar.rules import parse_rule

NOW = 10_000.0


def facts(**kw: Any) -> VisitorFacts:
    f = VisitorFacts(1, 1, site_started_at=NOW - 600, page_started_at=NOW - 30)
    f.url, f.path, f.title = "https://shop.example/p/phone?utm=x", "/p/phone", "Phone X"
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def holds(cond: dict, f: VisitorFacts | None = None, slots: Slots | None = None) -> bool:
    resources = PacedResources(slots or Slots())
    return compile_condition(cond).test(Ctx(f or facts(), NOW, resources))


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({"url": {"glob": "/p/*"}}, True),
        ({"url": {"glob": "/cart"}}, False),
        ({"url": {"regex": r"utm=\w+"}}, True),
        ({"url": {"contains": "phone"}}, True),
        ({"url": {"eq": "/p/phone"}}, True),
        ({"title": {"contains": "Phone"}}, True),
        ({"time_on_page": {"gte": 30}}, True),
        ({"time_on_page": {"gte": 31}}, False),
        ({"time_on_site": {"gte": 600}}, True),
        ({"pages_viewed": {"gte": 1}}, False),
        ({"not": {"url": {"glob": "/cart"}}}, True),
        ({"any": [{"url": {"glob": "/cart"}}, {"title": {"eq": "Phone X"}}]}, True),
        ({"all": [{"url": {"glob": "/cart"}}, {"title": {"eq": "Phone X"}}]}, False),
        ({"returning": False}, True),
        ({"device": ["mobile", "tablet"]}, False),
        ({"device": "desktop"}, True),
    ],
)
def test_leaves(cond: dict, expected: bool) -> None:
    assert holds(cond) is expected


def test_attributes_events_and_utm() -> None:
    f = facts(
        attributes={"segment": "gold", "lifetime_value": 1200},
        language="de-DE",
        utm={"source": "newsletter"},
        referrer="https://search.example/?q=tarif",
    )
    f.events.append(TrackedEvent("cart_updated", NOW - 10, {"value": 250}))
    assert holds({"attr": {"name": "segment", "value": "gold"}}, f)
    assert holds({"attr": {"name": "lifetime_value", "op": "gt", "value": 1000}}, f)
    assert not holds({"attr": {"name": "lifetime_value", "op": "lt", "value": 1000}}, f)
    assert holds({"attr": {"name": "segment", "op": "in", "value": ["gold", "platinum"]}}, f)
    assert not holds({"attr": {"name": "missing", "op": "ne", "value": 1}}, f)
    assert holds({"language": "de"}, f) and not holds({"language": ["en", "da"]}, f)
    assert holds({"utm": {"source": "newsletter"}}, f)
    assert holds({"referrer": {"contains": "search.example"}}, f)
    assert holds(
        {"event": {"name": "cart_updated", "props": {"value": {"op": "gte", "value": 200}}}}, f
    )
    assert not holds({"event": {"name": "cart_updated", "within": 5}}, f)
    assert holds({"event": {"name": "cart_updated", "within": 10}}, f)


def test_resources() -> None:
    assert holds({"agent_free": {"skill": "Sales"}}, slots=Slots(Sales=1))
    assert not holds({"agent_free": {"skill": "Sales"}}, slots=Slots(Support=1))
    assert holds({"queue_wait": {"skill": "Sales", "lt": 30}}, slots=Slots())


def test_wake_is_the_moment_a_dwell_completes() -> None:
    f = facts(form="contract", form_since=NOW - 50)
    node = compile_condition({"form_dwell": {"form": "contract", "gte": 120}})
    assert node.wake(Ctx(f, NOW, PacedResources(Slots()))) == NOW + 70


@pytest.mark.parametrize(
    ("rule_when", "path"),
    [
        (
            {"any": [{"url": {"glob": "/x"}}, {"time_on_page": {"gte": "soon"}}]},
            "when.any[1].time_on_page.gte",
        ),
        ({"all": []}, "when.all"),
        ({"url": {"glob": "/a", "regex": "b"}}, "when.url"),
        ({"url": {"regex": "(["}}, "when.url"),
        ({"colour": "red"}, "when"),
        ({"url": {"glob": "/x"}, "title": {"eq": "y"}}, "when"),
        ({"attr": {"name": "x", "op": "like"}}, "when.attr.op"),
    ],
)
def test_invalid_rules_say_where(rule_when: dict, path: str) -> None:
    rule = {"name": "r", "when": rule_when, "action": {"type": "invite", "text": {"en": "Hi"}}}
    with pytest.raises(RuleError) as err:
        parse_rule(rule)
    assert err.value.path == path


def test_invalid_action_is_rejected() -> None:
    with pytest.raises(RuleError) as err:
        parse_rule({"name": "r", "when": {"returning": True}, "action": {"type": "popup"}})
    assert err.value.path.startswith("action")
