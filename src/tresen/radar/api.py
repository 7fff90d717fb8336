"""Rules (admins), the live visitor list, rule tests and manual invitations (agents)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from tresen.agents.queries import avatar_path
from tresen.agents.scope import Sites, ensure_site_visible, site_ids_for, site_visible
from tresen.auth.deps import RT, AdminDep, AgentDep
from tresen.errors import NotFound
from tresen.principal import Principal
from tresen.radar import actions
from tresen.radar.funnel import access_rule_figures
from tresen.radar.history import access_replay
from tresen.storage.models import Agent, RadarRule
from tresen.storage.pagination import (
    cursor_int,
    decode_cursor,
    page_of,
    set_next_cursor,
)

router = APIRouter(prefix="/api/radar", tags=["radar"])


class RuleIn(BaseModel):
    site_id: int | None = None
    rule: dict[str, Any]


class RuleTestIn(BaseModel):
    visitor_id: int
    rule: dict[str, Any] | None = None
    rule_id: int | None = None


class OrderIn(BaseModel):
    rule_ids: list[int] = Field(max_length=1000)


class InviteIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)


class PolicyIn(BaseModel):
    """A site's restraint (docs/rules.md, "Order and restraint"); omitted keys keep theirs."""

    model_config = {"extra": "forbid"}
    dismiss_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    after_chat_hours: float | None = Field(default=None, ge=0, le=24 * 365)
    invite_expiry_seconds: float | None = Field(default=None, ge=10, le=3600)
    max_per_day: int | None = Field(default=None, ge=0, le=100)


def rule_view(rule: RadarRule) -> dict[str, Any]:
    return {"id": rule.id, "site_id": rule.site_id, **rule.spec}


async def _sites(rt: RT, who: Principal) -> Sites:
    async with rt.db.read() as s:
        return await site_ids_for(s, who)


@router.get("/rules")
async def get_rules(
    rt: RT, who: AgentDep, response: Response, limit: int = 500, cursor: str | None = None
) -> list[dict[str, Any]]:
    """In priority order: the rules of ``who``'s sites and those for every site."""
    limit = max(1, min(limit, 1000))
    skip = cursor_int(decode_cursor(cursor), "skip") or 0
    rules = (await actions.list_rules(rt, await _sites(rt, who)))[skip:]
    page, next_cursor = page_of(rules, limit, lambda _r: {"skip": skip + limit})
    set_next_cursor(response, next_cursor)
    return [rule_view(r) for r in page]


@router.post("/rules", status_code=201)
async def create_rule(body: RuleIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    return rule_view(await actions.check_create_rule(rt, body.site_id, body.rule, actor=who))


@router.patch("/rules/{rule_id}")
async def patch_rule(rule_id: int, body: dict[str, Any], rt: RT, who: AdminDep) -> dict[str, Any]:
    return rule_view(await actions.check_update_rule(rt, rule_id, body, actor=who))


@router.delete("/rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: int, rt: RT, who: AdminDep) -> None:
    await actions.do_delete_rule(rt, rule_id, actor=who)


@router.post("/rules/order")
async def order_rules(body: OrderIn, rt: RT, who: AdminDep) -> list[dict[str, Any]]:
    await actions.do_order_rules(rt, body.rule_ids, actor=who)
    return [rule_view(r) for r in await actions.list_rules(rt)]


class ReplayIn(BaseModel):
    rule: dict[str, Any]
    days: float = Field(default=7, gt=0, le=365)
    site_id: int | None = None


@router.post("/rules/replay")
async def replay_rule(body: ReplayIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    """What would this draft rule have done over the stored visits of the last ``days``?"""
    spec = actions.check_rule_spec(body.rule)
    return await access_replay(
        rt, spec.model_dump(mode="json"), days=body.days, site_id=body.site_id
    )


@router.get("/rules/{rule_id}/figures")
async def rule_figures(rule_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    """Matched, shown, accepted, chats; goal rate and value of invited vs held out; the lift."""
    return await access_rule_figures(rt, who, rule_id)


@router.get("/policy/{site_id}")
async def get_policy(site_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    ensure_site_visible(await _sites(rt, who), site_id, f"no site {site_id}")
    return await actions.access_policy(rt, site_id)


@router.patch("/policy/{site_id}")
async def patch_policy(site_id: int, body: PolicyIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    return await actions.check_set_policy(
        rt, site_id, body.model_dump(exclude_none=True), actor=who
    )


@router.post("/rules/test")
async def test_rule(body: RuleTestIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    """Would this rule hold for that visitor right now? (Admins, who write the rules; answered
    by the node holding the visit: ``radar.rule_test``.)"""
    if not rt.radar.is_live(body.visitor_id):
        raise NotFound("that visitor is not on the site now", code="visitor_not_live")
    if body.rule is not None:
        actions.check_rule_spec(body.rule)
        rule = {"id": 0, "site_id": None, "spec": body.rule}
    else:
        async with rt.db.read() as s:
            row = await actions.access_rule_by_id(s, body.rule_id or 0)
        rule = {"id": row.id, "site_id": row.site_id, "spec": row.spec}
    result = await rt.radar.test_rule(body.visitor_id, rule)
    if result is None:
        raise NotFound("that visitor is not on the site now", code="visitor_not_live")
    return result


@router.get("/visitors")
async def live_visitors(rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    """The visitors on ``who``'s sites now (in memory: one page), whichever node holds them
    (with several nodes, the others' as their last rows said: ``radar.census``)."""
    sites = await _sites(rt, who)
    return [v for v in rt.radar.live_rows() if site_visible(sites, v["site_id"])]


@router.post("/visitors/{visitor_id}/invite", status_code=201)
async def invite(visitor_id: int, body: InviteIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    """An agent invites a visitor by hand, whichever node holds the visit; accepting opens
    a chat."""
    row = rt.radar.live_row(visitor_id)
    if row is None or not site_visible(await _sites(rt, who), row["site_id"]):
        raise NotFound("that visitor is not on the site now", code="visitor_not_live")
    async with rt.db.read() as s:
        me = await s.get(Agent, who.id)
    offer_id = await rt.radar.invite(
        visitor_id,
        int(row["site_id"]),
        body.text,
        agent_id=who.id,
        agent_name=who.name,
        agent_photo=avatar_path(me) if me is not None else None,
    )
    return {"offer_id": offer_id}
