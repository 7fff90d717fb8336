"""The Web Radar engine: evaluates compiled rules on each visitor event and on scheduled wake-ups.

It lives in memory on the node that holds the visitor's socket. Rules are compiled once; an
event re-evaluates one visitor; a time condition schedules one timer at the moment it can
become true; a change of free capacity for a skill re-evaluates only the visitors waiting on it.
Offers are paced. With ``slots`` pacing an outstanding invitation holds one slot of its skill
until it is accepted, dismissed or ignored, so accepted invitations never exceed what agents can
take. With ``predicted_wait`` pacing (the default) it counts with its rule's acceptance rate, and
"an agent is free" means that an invitation accepted now would be answered within the target
wait (``pacing.predicted_wait``: the queue, the acceptances still expected, the free slots and
the handling time): invitations flow while the accepted ones can be answered in time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from tresen.clock import Clock
from tresen.radar.compiled import Ctx, never
from tresen.radar.facts import TrackedEvent, VisitorFacts
from tresen.radar.holdout import held_out
from tresen.radar.pacing import PRIOR_RATE, TARGET_WAIT, Load, may_invite
from tresen.radar.policy import Policy, VisitorState
from tresen.radar.rules import Rule, pick_text
from tresen.scheduler import Scheduler

Outcome = Literal["shown", "accepted", "dismissed", "ignored"]


class Capacity(Protocol):
    """What the router knows: free chat slots and the expected wait per skill (None = any)."""

    def free_slots(self, skill: str | None) -> int: ...

    def queue_wait(self, skill: str | None) -> float: ...


class LoadedCapacity(Capacity, Protocol):
    """Capacity that also knows the slots, load, queue and handling time per skill."""

    def load(self, skill: str | None, expected: float) -> Load | None: ...


@dataclass(frozen=True, slots=True)
class Offer:
    visitor_id: int
    rule_id: int
    kind: Literal["invite", "message", "bot"]
    text: str
    skill: str | None
    auto_open: bool
    quiet: bool
    agent_name: str | None
    agent_photo: str | None


class PacedResources:
    """Resources as rules see them, with the invitations still outstanding counted in."""

    def __init__(
        self, capacity: Capacity, pacing: str = "slots", target: float = TARGET_WAIT
    ) -> None:
        self.capacity, self.pacing, self.target = capacity, pacing, target
        self.outstanding: dict[str | None, int] = defaultdict(int)
        self.expected: dict[str | None, float] = defaultdict(float)
        self.rates: dict[int, float] = {}  # rule -> acceptance rate (PRIOR_RATE when unknown)
        self.rate = PRIOR_RATE  # of the rule being tested

    def predicting(self) -> bool:
        return self.pacing == "predicted_wait" and hasattr(self.capacity, "load")

    def weight(self, rule_id: int) -> float:
        return self.rates.get(rule_id, PRIOR_RATE) if self.predicting() else 1.0

    def agent_free(self, skill: str | None) -> bool:
        if not self.predicting():
            return self.capacity.free_slots(skill) - self.outstanding[skill] > 0
        load = cast(LoadedCapacity, self.capacity).load(skill, self.expected[skill])
        return load is not None and may_invite(load, self.rate, self.target)

    def queue_wait(self, skill: str | None) -> float:
        return self.capacity.queue_wait(skill)


class RadarEngine:
    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        capacity: Capacity,
        on_offer: Callable[[Offer], None],
        on_outcome: Callable[[int, int, Outcome], None] | None = None,
        policy: Policy | None = None,
        on_held_out: Callable[[int, Rule], None] | None = None,
        pacing: str = "slots",
        target_wait: float = TARGET_WAIT,
    ) -> None:
        self.clock, self.scheduler = clock, scheduler
        self.resources = PacedResources(capacity, pacing, target_wait)
        self.on_offer, self.on_outcome = on_offer, on_outcome or (lambda v, r, o: None)
        self.policy = policy or Policy()
        self.on_held_out = on_held_out or (lambda v, r: None)
        self.site_policies: dict[int, Policy] = {}
        self.visitors: dict[int, VisitorState] = {}
        self._rules: dict[int | None, list[Rule]] = {}
        self._by_site: dict[int, list[Rule]] = {}
        self._waiting: dict[str | None, dict[int, None]] = defaultdict(dict)

    # ---- rules and visitors ------------------------------------------------------------------

    def set_rules(self, rules: Iterable[Rule]) -> None:
        by_site: dict[int | None, list[Rule]] = defaultdict(list)
        for rule in sorted(rules, key=lambda r: (r.spec.priority, r.id)):
            if rule.spec.enabled:
                by_site[rule.site_id].append(rule)
        self._rules = dict(by_site)
        self._by_site = {}
        for state in list(self.visitors.values()):
            self.evaluate(state)

    def policy_for(self, site_id: int) -> Policy:
        return self.site_policies.get(site_id, self.policy)

    def track(self, facts: VisitorFacts, state: VisitorState | None = None) -> VisitorState:
        st = state or VisitorState(facts)
        st.facts = facts
        self.visitors[facts.visitor_id] = st
        self.evaluate(st)
        return st

    def forget(self, visitor_id: int, *, handed_over: bool = False) -> None:
        """The visitor left (an offer still unanswered counts as ignored), or another node
        took the visit (``handed_over``: the offer goes on there, no outcome here)."""
        st = self.visitors.pop(visitor_id, None)
        if st is not None:
            st.cancel_timers()
            self._unwait(st)
            if st.outstanding is not None:
                self._resolve(st, None if handed_over else "ignored")

    def adopt(self, st: VisitorState, carried: dict[str, Any]) -> Offer:
        """An offer the visit's former holder made, still unanswered (``VisitorState.carried``):
        outstanding here (counted in pacing as there) until answered, or ignored when its
        time runs out as it would have there."""
        offer = Offer(
            visitor_id=st.facts.visitor_id,
            rule_id=int(carried.get("rule_id") or 0),
            kind=carried.get("kind", "invite"),
            text=str(carried.get("text", "")),
            skill=carried.get("skill"),
            auto_open=False,
            quiet=False,
            agent_name=None,
            agent_photo=None,
        )
        st.outstanding = offer
        st.offer_id, st.offer_at = int(carried["id"]), float(carried.get("at", self._now()))
        st.offer_tab = carried.get("tab")
        if carried.get("paced"):
            st.paced, st.paced_weight = True, self.resources.weight(offer.rule_id)
            self.resources.outstanding[offer.skill] += 1
            self.resources.expected[offer.skill] += st.paced_weight
        due = st.offer_at + self.policy_for(st.facts.site_id).invite_expiry
        st.expiry = self.scheduler.call_at(max(due, self._now()), lambda: self._expire(st))
        return offer

    # ---- events ------------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def page_view(self, visitor_id: int, url: str, path: str, title: str = "") -> None:
        st = self.visitors[visitor_id]
        st.facts.page(url, path, title, self._now())
        self.evaluate(st)

    def form_focus(self, visitor_id: int, form: str | None) -> None:
        st = self.visitors[visitor_id]
        if form is None:
            st.facts.blur(self._now())
        else:
            st.facts.focus(form, self._now())
        self.evaluate(st)

    def custom_event(self, visitor_id: int, name: str, props: dict[str, Any]) -> None:
        st = self.visitors[visitor_id]
        now = self._now()
        st.facts.events.append(TrackedEvent(name, now, props))
        if name == "product_viewed" and "sku" in props:
            st.facts.products.add(str(props["sku"]))
        self.evaluate(st)

    def chat_started(self, visitor_id: int) -> None:
        st = self.visitors.get(visitor_id)
        if st is not None:
            st.chatting = True
            self.evaluate(st)

    def chat_ended(self, visitor_id: int) -> None:
        st = self.visitors.get(visitor_id)
        if st is not None:
            st.chatting, st.chat_ended_at = False, self._now()
            self.evaluate(st)

    def respond(self, visitor_id: int, outcome: Literal["accepted", "dismissed"]) -> Offer | None:
        """The visitor accepted or dismissed the outstanding invitation."""
        st = self.visitors.get(visitor_id)
        if st is None or st.outstanding is None:
            return None
        offer = st.outstanding
        self._resolve(st, outcome)
        if outcome == "dismissed":
            st.dismissed_at = self._now()
        else:
            st.chatting = True
        self.evaluate(st)
        return offer

    def withdraw(self, visitor_id: int) -> None:
        """The tab showing the outstanding offer went away: it counts as ignored."""
        st = self.visitors.get(visitor_id)
        if st is not None and st.outstanding is not None:
            self._resolve(st, "ignored")
            self.evaluate(st)

    def capacity_changed(self, skill: str | None = None) -> None:
        """Free capacity for ``skill`` changed: re-evaluate only the visitors waiting on it."""
        queues = (
            list(self._waiting.values())
            if skill is None
            else [self._waiting.get(skill, {}), self._waiting.get(None, {})]
        )
        for vid in [v for q in queues for v in q]:
            if skill is not None and not self.resources.agent_free(skill):
                return  # the freed capacity is taken; the rest keep waiting, first come first
            st = self.visitors.get(vid)
            if st is not None:
                self.evaluate(st)

    # ---- evaluation --------------------------------------------------------------------------

    def evaluate(self, st: VisitorState) -> Offer | None:
        if st.timer is not None:
            st.timer.cancel()
            st.timer = None
        if st.waiting_on:
            self._unwait(st)
        now = self._now()
        blocked_until = self.policy_for(st.facts.site_id).blocked_until(st, now)
        if blocked_until is not None:
            if blocked_until != float("inf"):
                st.timer = self.scheduler.call_at(blocked_until, lambda: self.evaluate(st))
            return None
        ctx = Ctx(st.facts, now, self.resources, optimistic=True)
        wake: float | None = None
        for rule in self._rules_for(st.facts.site_id):
            self.resources.rate = self.resources.rates.get(rule.id, PRIOR_RATE)
            behaviour = rule.behaviour
            if not behaviour.test(ctx):
                if behaviour.wake is not never:
                    w = behaviour.wake(ctx)
                    if w is not None and (wake is None or w < wake):
                        wake = w
                continue
            if rule.needs is None:
                return self._fire(st, rule, now)
            ctx.optimistic = False
            if rule.needs.test(ctx):
                return self._fire(st, rule, now)
            ctx.optimistic = True
            self._wait(st, rule.cond.skills)
        if wake is not None:
            st.timer = self.scheduler.call_at(wake, lambda: self.evaluate(st))
        return None

    def _rules_for(self, site_id: int) -> list[Rule]:
        rules = self._by_site.get(site_id)
        if rules is None:
            merged = self._rules.get(site_id, []) + self._rules.get(None, [])
            rules = self._by_site[site_id] = sorted(merged, key=lambda r: (r.spec.priority, r.id))
        return rules

    def _fire(self, st: VisitorState, rule: Rule, now: float) -> Offer | None:
        if held_out(rule.id, st.facts.visitor_id, rule.spec.control):
            # The control group: not invited (nor by a later rule), recorded once per visit.
            st.offered_page_view = st.facts.page_view
            if rule.id not in st.held_out:
                st.held_out.add(rule.id)
                self.on_held_out(st.facts.visitor_id, rule)
            return None
        action = rule.spec.action
        offer = Offer(
            visitor_id=st.facts.visitor_id,
            rule_id=rule.id,
            kind=action.type,
            text=pick_text(action.text, st.facts.language),
            skill=rule.skill,
            auto_open=getattr(action, "auto_open", False) and st.facts.device != "mobile",
            quiet=st.facts.device == "mobile",
            agent_name=getattr(action, "agent_name", None),
            agent_photo=getattr(action, "agent_photo", None),
        )
        st.record_offer(offer, now)
        if rule.paced:
            st.paced, st.paced_weight = True, self.resources.weight(rule.id)
            self.resources.outstanding[rule.skill] += 1
            self.resources.expected[rule.skill] += st.paced_weight
        st.expiry = self.scheduler.call_at(
            now + self.policy_for(st.facts.site_id).invite_expiry, lambda: self._expire(st)
        )
        self.on_offer(offer)
        self.on_outcome(offer.visitor_id, offer.rule_id, "shown")
        return offer

    def _expire(self, st: VisitorState) -> None:
        if st.outstanding is not None:
            self._resolve(st, "ignored")
            self.evaluate(st)

    def _resolve(self, st: VisitorState, outcome: Outcome | None) -> None:
        """The outstanding offer is answered, ignored, or (None) handed to another node."""
        offer = st.outstanding
        if offer is None:
            return
        if st.expiry is not None:
            st.expiry.cancel()
            st.expiry = None
        st.outstanding, st.offer_id, st.offer_tab = None, None, None
        if outcome is not None:
            self.on_outcome(offer.visitor_id, offer.rule_id, outcome)
        if st.paced:
            st.paced = False
            left = self.resources.outstanding[offer.skill] - 1
            self.resources.outstanding[offer.skill] = max(0, left)
            expected = self.resources.expected[offer.skill] - st.paced_weight
            self.resources.expected[offer.skill] = max(0.0, expected) if left > 0 else 0.0
            self.capacity_changed(offer.skill)

    def _wait(self, st: VisitorState, skills: frozenset[str | None]) -> None:
        for skill in skills:
            self._waiting[skill].setdefault(st.facts.visitor_id)
            st.waiting_on.add(skill)

    def _unwait(self, st: VisitorState) -> None:
        for skill in st.waiting_on:
            self._waiting[skill].pop(st.facts.visitor_id, None)
        st.waiting_on.clear()
