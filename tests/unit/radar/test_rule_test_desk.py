"""A rule test asked on a node that does not hold the visit is answered by the holder, over the
bus (here two desks wired to each other in memory); a holder that does not answer gives a clear
503 instead of a wait without end."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from tests.unit.radar.test_seed_rules import Harness, Slots

from tresen.errors import Unavailable
from tresen.radar import rule_test
from tresen.radar.replica import Entry
from tresen.radar.rule_test import RuleTestDesk

RULE = {
    "name": "Product page help",
    "when": {"all": [{"url": {"glob": "/p/*"}}, {"agent_free": {"skill": "Sales"}}]},
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Questions?"}},
}


class Desk(RuleTestDesk):
    def __init__(self, name: str, h: Harness) -> None:
        self.name, self.engine, self.rt = name, h.engine, SimpleNamespace(clock=h.clock)  # type: ignore[assignment]
        self._asks = {}
        self.peer: Desk | None = None
        self.holders: dict[int, str] = {}  # visitor -> the node the replica says holds it
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @property
    def _node(self) -> str:
        return self.name

    def held_elsewhere(self, visitor_id: int) -> Entry | None:
        node = self.holders.get(visitor_id)
        if visitor_id in self.engine.visitors or node is None:
            return None
        return Entry(node, {"id": visitor_id}, None, 0.0)

    def _send(self, node: str, msg: dict[str, Any]) -> None:
        self.sent.append((node, msg))
        peer = self.peer
        if peer is None:
            return  # nobody on the other end
        op = msg["op"]
        handle = peer.answer_rule_test if op == "test_rule" else peer.rule_tested
        asyncio.get_running_loop().call_soon(handle, msg)  # as the bus delivers: later


def two_nodes() -> tuple[Desk, Desk]:
    holder_h, other_h = Harness(Slots(Sales=1)), Harness(Slots(Sales=1))
    holder_h.visitor(7)
    holder_h.engine.page_view(7, "https://shop.example/p/1", "/p/1")
    a, b = Desk("a", holder_h), Desk("b", other_h)
    a.peer, b.peer, b.holders = b, a, {7: "a"}
    return a, b


async def test_the_holder_answers_a_test_asked_on_another_node() -> None:
    a, b = two_nodes()
    rule = {"id": 0, "site_id": None, "spec": RULE}
    here = await a.test_rule(7, rule)
    there = await b.test_rule(7, rule)
    assert here is not None and here["holds"] is True
    assert there == here
    assert [(node, m["op"]) for node, m in b.sent] == [("a", "test_rule")]
    assert [(node, m["op"]) for node, m in a.sent] == [("b", "rule_tested")]
    assert b._asks == {}  # nothing left waiting
    elsewhere = {**rule, "spec": {**RULE, "when": {"url": {"glob": "/checkout"}}}}
    assert (await b.test_rule(7, elsewhere) or {})["holds"] is False
    assert await b.test_rule(8, rule) is None  # live nowhere: no question asked
    assert len(b.sent) == 2


async def test_a_visit_gone_from_the_holder_meanwhile_answers_not_live() -> None:
    a, b = two_nodes()
    del a.engine.visitors[7]  # left between B's census row and the question
    assert await b.test_rule(7, {"id": 0, "site_id": None, "spec": RULE}) is None


async def test_a_holder_that_does_not_answer_is_a_clear_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, b = two_nodes()
    b.peer = None
    monkeypatch.setattr(rule_test, "ASK_SECONDS", 0.01)
    with pytest.raises(Unavailable) as err:
        await b.test_rule(7, {"id": 0, "site_id": None, "spec": RULE})
    assert err.value.status == 503 and err.value.code == "holder_unavailable"
    assert b._asks == {}
    b.rule_tested({"ask": b.sent[0][1]["ask"], "result": {"holds": True}})  # late: ignored
