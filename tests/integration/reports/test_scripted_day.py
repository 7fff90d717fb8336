"""A scripted morning driven through the actions with an injected clock: every metric equals
its hand-computed value (docs/reports.md has the formulas), on SQLite and PostgreSQL.

Timeline (seconds after 09:00:00; Anna has Sales, Ben Support, both online from 0, 4 chats each):
  C1   0 visitor writes (Sales) · 10 routed to Anna · 15 Anna answers · 35 visitor · 65 Anna
       · 125 resolved                       wait 10, first response 15, responses 15+30, handle 115
  C2 125 visitor writes (Sales) · 165 routed to Anna · 175 Anna answers, transfers to Ben
                                            wait 40, first response 50, 1 transfer
  C3 175 visitor writes (Billing: nobody) · 205 leaves the queue           abandoned after 30 s
  C4 205 visitor writes (Billing) · 210 leaves                             short abandon (5 s)
  C5 210 rule R1's invitation accepted · 215 routed to Anna · 220 visitor · 228 Anna
                                            wait 5, first response 8
  O2 228 R1's invitation to another visitor, dismissed at 230
  C6 230 R2's bot offer accepted · 235 visitor · 240 bot hands over (queued, nobody takes it)
  C7 240 R2's bot offer accepted · 245 visitor (the bot keeps it)
  C8 245 visitor writes (Billing) · 250 leaves a message for email          email backlog
  now = 300
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import ORIGIN, PASSWORD
from tests.support.server import test_settings

from tresen.agents.actions import check_create_agent, check_update_agent
from tresen.assist.bot import do_handover
from tresen.clock import ManualClock
from tresen.conversations.actions import check_send_message, check_set_status, do_open_from_offer
from tresen.conversations.wire import BOT_NAME
from tresen.principal import Principal
from tresen.radar.actions import (
    check_create_rule,
    do_link_conversation,
    do_record_offer,
    do_record_outcome,
)
from tresen.radar.funnel import funnel as invitation_funnel
from tresen.reports import metrics
from tresen.reports.metrics import Scope
from tresen.reports.store import ReportStore, backfill
from tresen.routing.actions import check_queue_choice, check_transfer
from tresen.routing.dispatcher import run_pass
from tresen.runtime import Runtime, build_runtime
from tresen.sites.actions import do_create_site
from tresen.storage.migrate import upgrade_async
from tresen.visitors.actions import check_open_visitor_session
from tresen.wiring import wire_reports

RULE = {
    "name": "help on the cart",
    "when": {"url": {"glob": "/cart"}},
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Need a hand?"}},
}


class Day:
    def __init__(self, rt: Runtime, clock: ManualClock, site: Any) -> None:
        self.rt, self.clock, self.site = rt, clock, site
        self.start = clock.now()
        self.n = 0

    def at(self, second: int) -> None:
        target = self.start + timedelta(seconds=second)
        self.clock.advance((target - self.clock.now()).total_seconds())

    async def visitor(self) -> Principal:
        vs = await check_open_visitor_session(self.rt, self.site.widget_key, ORIGIN, None)
        return Principal("visitor", vs.visitor.id, site_id=self.site.id)

    async def say(self, who: Principal, body: str, conv: int | None = None, **kw: Any) -> int:
        self.n += 1
        sent = await check_send_message(
            self.rt, who, body=body, client_msg_id=f"m{self.n}", conversation_id=conv, **kw
        )
        return sent.conversation.id

    async def offer(self, rule_id: int, visitor: Principal, kind: str = "invite") -> int:
        return await do_record_offer(
            self.rt,
            rule_id=rule_id,
            site_id=self.site.id,
            visitor_id=visitor.id,
            kind=kind,
            text="Need a hand?",
            skill="Sales",
        )

    async def accept(self, offer_id: int, visitor: Principal, bot: bool = False) -> int:
        assert await do_record_outcome(self.rt, offer_id, "accepted", opens_chat=True)
        conv = await do_open_from_offer(
            self.rt,
            visitor,
            skill="Sales",
            opening="Need a hand?",
            assignee_id=None,
            bot_name=BOT_NAME if bot else None,
            offer_id=offer_id,
        )
        await do_link_conversation(self.rt, offer_id, conv.id)
        return conv.id


@asynccontextmanager
async def open_day(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[Day, ReportStore, dict]]:
    """The shop of the morning on ``clock``: its report store wired, Anna and Ben."""
    await upgrade_async(database_url)
    rt = build_runtime(test_settings(tmp_path, database_url, sticky_seconds=0), clock)
    store = ReportStore(rt)
    wire_reports(rt, store)
    site = await do_create_site(rt, "Shop", [ORIGIN])
    anna = await check_create_agent(rt, "anna", PASSWORD, display_name="Anna", skills=["Sales"])
    ben = await check_create_agent(rt, "ben", PASSWORD, display_name="Ben", skills=["Support"])
    ids = {"anna": anna.id, "ben": ben.id}
    yield Day(rt, clock, site), store, ids
    await rt.close()


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Day, ReportStore, dict]]:
    async with open_day(database_url, tmp_path, ManualClock()) as world:
        yield world


async def played(d: Day, ids: dict[str, int], store: ReportStore) -> None:
    """The morning played (``_script``) and the report store caught up with all of it."""
    await _script(d, ids, store)
    await d.rt.events.drain()
    await store.flush()


async def _script(d: Day, ids: dict[str, int], store: ReportStore) -> dict[str, int]:
    """The morning; the report store is brought up to date now and then on the way, as its
    timer would (facts fold in only the new messages each time)."""
    rt = d.rt
    anna = Principal("agent", ids["anna"], name="Anna", role="admin")
    await check_update_agent(rt, ids["anna"], status="online")
    await check_update_agent(rt, ids["ben"], status="online")
    c: dict[str, int] = {}
    v1 = await d.visitor()
    c["C1"] = await d.say(v1, "Hallo", skill="Sales")
    d.at(10)
    await run_pass(rt)
    d.at(15)
    await d.say(anna, "Hi!", c["C1"])
    d.at(35)
    await d.say(v1, "Lieferzeit?", c["C1"])
    await store.flush()  # the visitor waits for an answer right now
    d.at(65)
    await d.say(anna, "Zwei Tage.", c["C1"])
    d.at(125)
    await check_set_status(rt, anna, c["C1"], "resolved")
    v2 = await d.visitor()
    c["C2"] = await d.say(v2, "Tarif?", skill="Sales")
    d.at(165)
    await run_pass(rt)
    d.at(175)
    await d.say(anna, "Moment", c["C2"])
    await check_transfer(rt, anna, c["C2"], agent_id=ids["ben"], note="contracts")
    await store.flush()
    v3 = await d.visitor()
    c["C3"] = await d.say(v3, "Rechnung?", skill="Billing")
    d.at(205)
    await check_queue_choice(rt, v3, c["C3"], "leave", {})
    v4 = await d.visitor()
    c["C4"] = await d.say(v4, "Rechnung!", skill="Billing")
    d.at(210)
    await check_queue_choice(rt, v4, c["C4"], "leave", {})
    r1 = (await check_create_rule(rt, d.site.id, RULE)).id
    r2 = (await check_create_rule(rt, d.site.id, {**RULE, "name": "bot"})).id
    c["R1"], c["R2"] = r1, r2
    v5 = await d.visitor()
    c["C5"] = await d.accept(await d.offer(r1, v5), v5)
    d.at(215)
    await run_pass(rt)
    d.at(220)
    await d.say(v5, "Ja bitte", c["C5"])
    d.at(228)
    await d.say(anna, "Gern", c["C5"])
    v6 = await d.visitor()
    o2 = await d.offer(r1, v6)
    d.at(230)
    assert await do_record_outcome(rt, o2, "dismissed")
    v7 = await d.visitor()
    c["C6"] = await d.accept(await d.offer(r2, v7, "bot"), v7, bot=True)
    d.at(235)
    await d.say(v7, "Mensch bitte", c["C6"])
    d.at(240)
    await do_handover(rt, c["C6"], "asked")
    await store.flush()
    v8 = await d.visitor()
    c["C7"] = await d.accept(await d.offer(r2, v8, "bot"), v8, bot=True)
    d.at(245)
    await d.say(v8, "Versand?", c["C7"])
    v9 = await d.visitor()
    c["C8"] = await d.say(v9, "Rückruf?", skill="Billing")
    d.at(250)
    await check_queue_choice(rt, v9, c["C8"], "message", {"email": "v9@example.de"})
    d.at(300)
    return c


def _scope(d: Day, **kw: Any) -> Scope:
    return Scope(d.start, d.start + timedelta(hours=1), now=d.clock.now(), **kw)


async def test_every_metric_of_a_scripted_morning(day: tuple[Day, ReportStore, dict]) -> None:
    d, store, ids = day
    c = await _script(d, ids, store)
    await d.rt.events.drain()  # the agents' status intervals
    assert await store.flush() > 0
    anna, ben = str(ids["anna"]), str(ids["ben"])
    async with d.rt.db.read() as s:
        got = await metrics.summary(s, _scope(d))
        agents = await metrics.agent_table(s, _scope(d))
        funnel = await invitation_funnel(s, d.start, d.start + timedelta(hours=1))
        abandoned = await metrics.drill_down(s, _scope(d), "abandoned", None, 10)
        missed = await metrics.drill_down(s, _scope(d), "sl_missed", None, 10)
        invited = await metrics.drill_down(s, _scope(d), "from_invitation", None, 10)
        timeline = await metrics.status_timeline(s, _scope(d, agent_id=ids["anna"]))
        sales = await metrics.summary(s, _scope(d, skill="Sales"))
        series = await metrics.series(s, _scope(d))

    assert got["volume"] == {
        "total": 8,
        "by_channel": {"web": 7, "email": 1},
        "by_site": {str(d.site.id): 8},
        "by_skill": {"Sales": 5, "Billing": 3},
        "by_agent": {anna: 2, ben: 1},
        "by_team": {},  # no teams (tests/integration/reports/test_rollups.py has them)
    }
    assert got["times"] == {
        "first_response_avg": pytest.approx(73 / 3),
        "first_response_p50": 15.0,
        "first_response_p90": 50.0,
        "response_avg": pytest.approx(103 / 4),
        "handle_avg": 115.0,
        "queue_wait_avg": pytest.approx(55 / 3),
        "queue_wait_p90": 40.0,
    }
    assert got["service"] == {
        "sl_seconds": 20.0,
        "offered": 6,  # C1 C2 C3 C5 C6 C8 (C4 abandoned within 10 s)
        "answered_in_time": 2,  # C1 (10 s), C5 (5 s)
        "service_level": pytest.approx(2 / 6),
        "service_level_without_abandoned": pytest.approx(2 / 5),
        "abandoned": 1,
        "short_abandoned": 1,
        "abandonment_rate": pytest.approx(1 / 6),
        "transfers": 1,
    }
    assert got["bot"] == {
        "conversations": 2,
        "handed_over": 1,
        "handover_rate": 0.5,
        "deflection_rate": 0.5,
    }
    assert got["email_backlog"] == {"pending": 1, "oldest_age_seconds": 55.0}
    # Anna: C1 [10, 125] + C5 [215, 300] = 200 chat-seconds of 300 s x 4; Ben: C2 [175, 300]
    assert got["occupancy"] == {
        "total": pytest.approx(325 / 2400),
        "by_agent": {anna: pytest.approx(200 / 1200), ben: pytest.approx(125 / 1200)},
    }
    assert [(a["agent"], a["conversations"], a["resolved"]) for a in agents] == [
        ("Anna", 2, 1),
        ("Ben", 1, 0),
    ]
    # per visitor (each counts once per rule); no goals in this morning: rates of 0, no lift
    nothing = {"goals": 0, "goal_rate": 0.0, "value": 0.0, "held_out_goals": 0}
    nothing |= {"held_out_goal_rate": None, "lift": None, "lift_relative": None}
    nothing |= {"lift_ci95_low": None, "lift_ci95_high": None, "significant": None}
    assert funnel == [
        {
            "rule_id": c["R1"],
            "rule": "help on the cart",
            "matched": 2,
            "held_out": 0,
            "shown": 2,
            "accepted": 1,
            "dismissed": 1,
            "ignored": 0,
            "chats": 1,
            "acceptance_rate": 0.5,
            **nothing,
        },
        {
            "rule_id": c["R2"],
            "rule": "bot",
            "matched": 2,
            "held_out": 0,
            "shown": 2,
            "accepted": 2,
            "dismissed": 0,
            "ignored": 0,
            "chats": 2,
            "acceptance_rate": 1.0,
            **nothing,
        },
    ]
    assert [r["conversation_id"] for r in abandoned] == [c["C4"], c["C3"]]
    assert {r["conversation_id"] for r in missed} == {c[k] for k in ("C2", "C3", "C4", "C6", "C8")}
    assert {r["conversation_id"] for r in invited} == {c["C5"], c["C6"], c["C7"]}
    start = d.start.isoformat()
    assert timeline == [
        {
            "agent_id": ids["anna"],
            "status": "online",
            "start": start,
            "end": d.clock.now().isoformat(),
        }
    ]
    assert sales["volume"]["total"] == 5 and sales["service"]["offered"] == 4
    assert series["bucket"] == "hour"
    assert series["points"] == [
        {
            "at": d.start.isoformat(),
            "conversations": 8,
            "abandoned": 1,
            "service_level": pytest.approx(2 / 6),
            "queue_wait_avg": pytest.approx(55 / 3),
        }
    ]


async def test_backfill_rebuilds_exactly_what_the_listeners_built(
    day: tuple[Day, ReportStore, dict],
) -> None:
    d, store, ids = day
    await played(d, ids, store)
    async with d.rt.db.read() as s:
        live = await metrics.summary(s, _scope(d))
    assert await backfill(d.rt) == 8
    async with d.rt.db.read() as s:
        rebuilt = await metrics.summary(s, _scope(d))
    assert rebuilt == live
