"""The one write path for rules and offers; each change records its events (``RulesChanged``,
``OfferShown``, ``OfferAccepted``/``Dismissed``/``Ignored``) in its transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update

from tresen.agents.scope import Sites
from tresen.auth.audit import record_audit, snapshot
from tresen.errors import MAX_ID, Invalid, NotFound
from tresen.events import (
    Event,
    OfferAccepted,
    OfferDismissed,
    OfferHeldOut,
    OfferIgnored,
    OfferShown,
    RulesChanged,
    record,
)
from tresen.principal import Principal
from tresen.radar.compiled import RuleError
from tresen.radar.policy import POLICY_KEYS, Policy
from tresen.radar.rules import RuleSpec, parse_rule
from tresen.runtime import Runtime
from tresen.storage.models import RadarOffer, RadarRule, Site


def check_rule_spec(data: Any) -> RuleSpec:
    try:
        return parse_rule(data)
    except RuleError as exc:
        raise Invalid(str(exc), code="invalid_rule") from exc


async def check_create_rule(
    rt: Runtime, site_id: int | None, data: Any, *, actor: Principal | None = None
) -> RadarRule:
    spec = check_rule_spec(data)
    now = rt.clock.now()
    rule = RadarRule(
        site_id=site_id,
        name=spec.name,
        enabled=spec.enabled,
        priority=spec.priority,
        spec=spec.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    async with rt.db.write() as s:
        await _check_site(s, site_id)
        s.add(rule)
        await s.flush()
        record(s, RulesChanged(rule.id))
        record_audit(s, actor, "rule.create", f"rule:{rule.id}", None, rule, at=now)
    return rule


async def check_update_rule(
    rt: Runtime, rule_id: int, changes: dict[str, Any], *, actor: Principal | None = None
) -> RadarRule:
    async with rt.db.write() as s:
        rule = await access_rule_by_id(s, rule_id)
        before = snapshot(rule)
        site_id = changes.pop("site_id", rule.site_id)
        if site_id is not None and not isinstance(site_id, int):
            raise Invalid("site_id: a site's id or null")
        await _check_site(s, site_id)
        spec = check_rule_spec({**rule.spec, **changes})
        rule.site_id, rule.name, rule.enabled = site_id, spec.name, spec.enabled
        rule.priority, rule.spec = spec.priority, spec.model_dump(mode="json")
        rule.updated_at = rt.clock.now()
        record(s, RulesChanged(rule.id))
        record_audit(s, actor, "rule.update", f"rule:{rule.id}", before, rule, at=rule.updated_at)
    return rule


async def _check_site(s: Any, site_id: int | None) -> None:
    """A rule names an existing site, or none (every site)."""
    if site_id is not None and (not 1 <= site_id <= MAX_ID or await s.get(Site, site_id) is None):
        raise Invalid(f"site_id: no site {site_id}", code="no_such_site")


async def do_delete_rule(rt: Runtime, rule_id: int, *, actor: Principal | None = None) -> None:
    async with rt.db.write() as s:
        rule = await access_rule_by_id(s, rule_id)
        record_audit(s, actor, "rule.delete", f"rule:{rule_id}", rule, None, at=rt.clock.now())
        await s.delete(rule)
        record(s, RulesChanged(rule_id))


async def do_order_rules(
    rt: Runtime, rule_ids: list[int], *, actor: Principal | None = None
) -> None:
    """Priorities 10, 20, 30 ... in the given order."""
    async with rt.db.write() as s:
        before, after = {}, {}
        for i, rule_id in enumerate(rule_ids):
            rule = await access_rule_by_id(s, rule_id)
            before[str(rule_id)] = rule.priority
            rule.priority = (i + 1) * 10
            rule.spec = {**rule.spec, "priority": rule.priority}
            after[str(rule_id)] = rule.priority
        record(s, RulesChanged(None))
        record_audit(s, actor, "rule.order", "rules", before, after, at=rt.clock.now())


async def check_set_policy(
    rt: Runtime, site_id: int, changes: dict[str, Any], *, actor: Principal | None = None
) -> dict[str, Any]:
    """Change a site's restraint (validated by the caller's model); every node reloads it."""
    async with rt.db.write() as s:
        site = await s.get(Site, site_id)
        if site is None:
            raise NotFound(f"no site {site_id}")
        before = _policy_view(site.radar_policy)
        site.radar_policy = {
            k: v for k, v in {**site.radar_policy, **changes}.items() if k in POLICY_KEYS
        }
        record(s, RulesChanged(None))
        after = _policy_view(site.radar_policy)
        record_audit(s, actor, "policy.update", f"site:{site_id}", before, after, at=rt.clock.now())
        return after


async def access_policy(rt: Runtime, site_id: int) -> dict[str, Any]:
    async with rt.db.read() as s:
        site = await s.get(Site, site_id)
        if site is None:
            raise NotFound(f"no site {site_id}")
        return _policy_view(site.radar_policy)


def _policy_view(data: dict[str, Any]) -> dict[str, Any]:
    p = Policy.from_site(data)
    return {
        "dismiss_hours": p.dismiss_cooldown / 3600,
        "after_chat_hours": p.after_chat / 3600,
        "invite_expiry_seconds": p.invite_expiry,
        "max_per_day": p.max_per_day,
    }


async def access_rule_by_id(s: Any, rule_id: int) -> RadarRule:
    rule = await s.get(RadarRule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule  # type: ignore[no-any-return]


async def list_rules(rt: Runtime, sites: Sites = None) -> list[RadarRule]:
    """Every rule, or those of ``sites`` and those for every site (``site_id`` null)."""
    async with rt.db.read() as s:
        stmt = select(RadarRule).order_by(RadarRule.priority, RadarRule.id)
        if sites is not None:
            stmt = stmt.where(
                or_(RadarRule.site_id.is_(None), RadarRule.site_id.in_(sorted(sites)))
            )
        return list((await s.execute(stmt)).scalars())


async def do_record_offer(
    rt: Runtime,
    *,
    rule_id: int | None,
    site_id: int,
    visitor_id: int,
    kind: str,
    text: str,
    skill: str | None = None,
    agent_id: int | None = None,
    agent_name: str | None = None,
    agent_photo: str | None = None,
    auto_open: bool = False,
    quiet: bool = False,
    tab: str | None = None,
) -> int:
    """Store an offer; once stored it is shown (``OfferShown``). ``agent_id`` marks an agent's
    manual invitation."""
    async with rt.db.write() as s:
        row = RadarOffer(
            rule_id=rule_id,
            site_id=site_id,
            visitor_id=visitor_id,
            kind=kind,
            manual=agent_id is not None,
            text=text,
            skill=skill,
            agent_id=agent_id,
            shown_at=rt.clock.now(),
        )
        s.add(row)
        await s.flush()
        record(
            s,
            OfferShown(
                offer_id=row.id,
                visitor_id=visitor_id,
                site_id=site_id,
                rule_id=rule_id,
                kind=kind,
                text=text,
                auto_open=auto_open,
                quiet=quiet,
                agent_id=agent_id,
                agent_name=agent_name,
                agent_photo=agent_photo,
                tab=tab,
            ),
        )
        return row.id


async def do_record_held_out(
    rt: Runtime, *, rule_id: int, site_id: int, visitor_id: int, kind: str
) -> int:
    """A matching visitor of the rule's control group: stored with outcome ``held_out``."""
    async with rt.db.write() as s:
        row = RadarOffer(
            rule_id=rule_id,
            site_id=site_id,
            visitor_id=visitor_id,
            kind=kind,
            outcome="held_out",
            shown_at=rt.clock.now(),
        )
        s.add(row)
        await s.flush()
        record(s, OfferHeldOut(row.id, visitor_id, site_id, rule_id))
        return row.id


async def do_record_outcome(
    rt: Runtime, offer_id: int, outcome: str, *, opens_chat: bool = False
) -> bool:
    """Only a shown offer can be answered, once: False if it was answered already. With
    ``opens_chat`` the acceptance is announced by ``do_link_conversation``, with its chat."""
    async with rt.db.write() as s:
        row = (
            await s.execute(
                update(RadarOffer)
                .where(RadarOffer.id == offer_id, RadarOffer.outcome == "shown")
                .values(outcome=outcome, answered_at=rt.clock.now())
                .returning(RadarOffer.visitor_id, RadarOffer.rule_id)
            )
        ).first()
        if row is not None and not opens_chat:
            record(s, _outcome_event(offer_id, outcome, row.visitor_id, row.rule_id, None))
    return row is not None


async def do_link_conversation(rt: Runtime, offer_id: int, conversation_id: int) -> None:
    """The chat an accepted invitation opened."""
    async with rt.db.write() as s:
        row = (
            await s.execute(
                update(RadarOffer)
                .where(RadarOffer.id == offer_id)
                .values(conversation_id=conversation_id)
                .returning(RadarOffer.visitor_id, RadarOffer.rule_id)
            )
        ).one()
        record(s, OfferAccepted(offer_id, row.visitor_id, row.rule_id, conversation_id))


def _outcome_event(
    offer_id: int, outcome: str, visitor_id: int, rule_id: int | None, conversation_id: int | None
) -> Event:
    if outcome == "accepted":
        return OfferAccepted(offer_id, visitor_id, rule_id, conversation_id)
    if outcome == "ignored":
        return OfferIgnored(offer_id, visitor_id, rule_id)
    return OfferDismissed(offer_id, visitor_id, rule_id)
