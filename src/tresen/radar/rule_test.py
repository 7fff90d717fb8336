"""Would a rule hold for a live visitor right now? Asked on any node, answered by the node that
holds the visit, for its engine alone has the visit's facts (``radar.holders``): on one node at
once; with several, the asking node sends the rule to the holder over the bus and waits for its
answer (``ASK_SECONDS``, then a clear 503)."""

from __future__ import annotations

import asyncio
import math
import secrets
from typing import TYPE_CHECKING, Any

from tresen.errors import Unavailable
from tresen.radar.compiled import Ctx
from tresen.radar.engine import RadarEngine
from tresen.radar.policy import VisitorState
from tresen.radar.rules import compile_rule
from tresen.runtime import Runtime

if TYPE_CHECKING:
    from tresen.radar.replica import Entry

ASK_SECONDS = 3.0


def rule_test_on(
    engine: RadarEngine, st: VisitorState, rule: dict[str, Any], now: float
) -> dict[str, Any]:
    """``rule``: ``{"id", "site_id", "spec"}`` (id 0 and site None: a draft not yet saved)."""
    compiled = compile_rule(int(rule["id"]), rule["site_id"], rule["spec"])
    ctx = Ctx(st.facts, now, engine.resources)
    behaviour = compiled.behaviour.test(Ctx(ctx.facts, ctx.now, ctx.resources, optimistic=True))
    holds = compiled.cond.test(ctx)
    blocked = engine.policy_for(st.facts.site_id).blocked_until(st, ctx.now)
    return {
        "holds": holds,
        "behaviour": behaviour,
        "resources": holds or not behaviour,
        # JSON has no infinity: "blocked" with no time means until the next event (an answer,
        # a new page view, the chat's end)
        "blocked": blocked is not None,
        "blocked_until": blocked if blocked is not None and math.isfinite(blocked) else None,
    }


class RuleTestDesk:
    """Part of ``RadarService`` (``radar.live``)."""

    rt: Runtime
    engine: RadarEngine
    _asks: dict[str, asyncio.Future[dict[str, Any] | None]]

    if TYPE_CHECKING:

        @property
        def _node(self) -> str: ...

        def held_elsewhere(self, visitor_id: int) -> Entry | None: ...

        def _send(self, node: str, msg: dict[str, Any]) -> None: ...

    def is_live(self, visitor_id: int) -> bool:
        """On the site now, held here or by another node."""
        return visitor_id in self.engine.visitors or self.held_elsewhere(visitor_id) is not None

    async def test_rule(self, visitor_id: int, rule: dict[str, Any]) -> dict[str, Any] | None:
        """The test's answer, from whichever node holds the visit (None: not on the site)."""
        st = self.engine.visitors.get(visitor_id)
        if st is not None:
            return rule_test_on(self.engine, st, rule, self.rt.clock.now().timestamp())
        elsewhere = self.held_elsewhere(visitor_id)
        if elsewhere is None:
            return None
        ask = secrets.token_hex(8)
        answer: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._asks[ask] = answer
        msg = {"op": "test_rule", "v": visitor_id, "ask": ask, "to": self._node, "rule": rule}
        self._send(elsewhere.node, msg)
        try:
            return await asyncio.wait_for(answer, ASK_SECONDS)
        except TimeoutError:
            raise Unavailable(
                "the node holding that visit did not answer; try again", code="holder_unavailable"
            ) from None
        finally:
            self._asks.pop(ask, None)

    def answer_rule_test(self, msg: dict[str, Any]) -> None:
        """Another node asks: the test on the visit held here (None: no longer held here)."""
        st = self.engine.visitors.get(int(msg["v"]))
        result = None
        if st is not None:
            result = rule_test_on(self.engine, st, msg["rule"], self.rt.clock.now().timestamp())
        self._send(
            str(msg["to"]),
            {"op": "rule_tested", "v": msg["v"], "ask": msg["ask"], "result": result},
        )

    def rule_tested(self, msg: dict[str, Any]) -> None:
        answer = self._asks.get(str(msg.get("ask")))
        if answer is not None and not answer.done():
            answer.set_result(msg.get("result"))
