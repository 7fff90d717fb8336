"""The invitation funnel of a range, matched -> shown -> accepted -> chat -> goal, with the lift
over held-out visitors: the same figures as the rule's own (``GET
/api/radar/rules/{id}/figures``), on SQLite and PostgreSQL, driven through the actions with an
injected clock; and over HTTP as CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import ORIGIN, running_scenario
from tests.support.server import test_settings

from tresen.clock import ManualClock
from tresen.conversations.actions import check_send_message, do_open_from_offer
from tresen.principal import Principal
from tresen.radar.actions import (
    check_create_rule,
    do_link_conversation,
    do_record_held_out,
    do_record_offer,
    do_record_outcome,
)
from tresen.radar.funnel import access_rule_figures, funnel
from tresen.radar.visits import do_save_visits, do_start_visit
from tresen.reports.store import ReportStore
from tresen.runtime import Runtime, build_runtime
from tresen.sites.actions import do_create_site
from tresen.storage.migrate import upgrade_async
from tresen.visitors.actions import check_open_visitor_session
from tresen.wiring import wire_reports

RULE = {
    "name": "cart help",
    "when": {"url": {"glob": "/cart"}},
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Need a hand?"}},
    "control": 0.5,
    "goal": {"event": "purchase"},
}


@pytest.fixture
async def rt(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    await upgrade_async(database_url)
    runtime = build_runtime(test_settings(tmp_path, database_url), ManualClock())
    yield runtime
    await runtime.close()


@pytest.fixture
def reports(rt: Runtime) -> ReportStore:
    """The report facts (the funnel's chats are the conversations the visitor wrote in)."""
    store = ReportStore(rt)
    wire_reports(rt, store)
    return store


async def _visitor(rt: Runtime, site: Any, buys: float | None, expose: Any) -> None:
    """A visit: exposed to the rule (``expose(visitor)``), then maybe a purchase."""
    vs = await check_open_visitor_session(rt, site.widget_key, ORIGIN, None)
    st = await do_start_visit(rt, vs.visitor)
    rt.clock.advance(5)  # type: ignore[attr-defined]
    await expose(vs.visitor)
    rt.clock.advance(30)  # type: ignore[attr-defined]
    assert st.journey is not None
    if buys is not None:
        st.journey.goal_event("purchase", {"value": buys}, rt.clock.now().timestamp())
    st.journey.last_seen_at = rt.clock.now().timestamp()
    await do_save_visits(rt, [st])


async def test_funnel_to_the_goal_with_the_lift(rt: Runtime, reports: ReportStore) -> None:
    site = await do_create_site(rt, "Shop", [ORIGIN])
    rule = (await check_create_rule(rt, site.id, RULE)).id
    start = rt.clock.now()
    n = 0

    def invited(outcome: str | None, writes: bool = False) -> Any:
        async def go(v: Any) -> None:
            nonlocal n
            offer = await do_record_offer(
                rt, rule_id=rule, site_id=site.id, visitor_id=v.id, kind="invite", text="Hi"
            )
            if outcome == "accepted":
                assert await do_record_outcome(rt, offer, "accepted", opens_chat=True)
                who = Principal("visitor", v.id, site_id=site.id)
                conv = await do_open_from_offer(
                    rt, who, skill="Sales", opening="Hi", assignee_id=None, offer_id=offer
                )
                await do_link_conversation(rt, offer, conv.id)
                if writes:
                    n += 1
                    await check_send_message(
                        rt, who, body="Ja", client_msg_id=f"m{n}", conversation_id=conv.id
                    )
            elif outcome is not None:
                assert await do_record_outcome(rt, offer, outcome)

        return go

    async def held(v: Any) -> None:
        await do_record_held_out(rt, rule_id=rule, site_id=site.id, visitor_id=v.id, kind="invite")

    # 4 invited: accepted and wrote (buys 100), accepted silent (buys 50), dismissed (buys 30),
    # ignored (no purchase); 2 held out: one buys 40
    await _visitor(rt, site, 100, invited("accepted", writes=True))
    await _visitor(rt, site, 50, invited("accepted"))
    await _visitor(rt, site, 30, invited("dismissed"))
    await _visitor(rt, site, None, invited("ignored"))
    await _visitor(rt, site, 40, held)
    await _visitor(rt, site, None, held)
    await rt.events.drain()
    await reports.flush()
    async with rt.db.read() as s:
        rows = await funnel(s, start, rt.clock.now() + timedelta(seconds=1))
        before = await funnel(s, start - timedelta(hours=1), start)
    figures = await access_rule_figures(rt, Principal("agent", 0, role="admin"), rule)
    assert before == []
    [row] = rows
    assert row == {
        "rule_id": rule,
        "rule": "cart help",
        "matched": 6,
        "held_out": 2,
        "shown": 4,
        "accepted": 2,
        "dismissed": 1,
        "ignored": 1,
        "chats": 1,  # the silent acceptance opened a conversation but is not a chat
        "goals": 3,
        "acceptance_rate": 0.5,
        "goal_rate": 0.75,
        "value": 180.0,
        "held_out_goals": 1,
        "held_out_goal_rate": 0.5,
        "lift": 0.25,
        "lift_relative": 0.5,
        "lift_ci95_low": row["lift_ci95_low"],
        "lift_ci95_high": row["lift_ci95_high"],
        "significant": False,
    }
    assert row["lift_ci95_low"] < 0.25 < row["lift_ci95_high"]
    # one formula: the rule's figures over all its offers say the same
    assert (figures["matched"], figures["shown"], figures["held_out"]) == (6, 4, 2)
    assert (figures["accepted"], figures["chats"]) == (2, 1)
    assert figures["invited_group"]["converted"] == 3
    assert figures["lift"]["difference"] == pytest.approx(row["lift"])


async def test_the_funnel_exports_as_csv(tmp_path: Path) -> None:
    async with running_scenario(tmp_path) as (_srv, sc):
        r = await sc.anna.http.get("/api/reports/funnel", params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert (await sc.ben.http.get("/api/reports/funnel")).status_code == 403
        bad = await sc.anna.http.get("/api/reports/funnel", params={"start": "2026-01-02"})
        assert bad.status_code == 422
