"""The radar on one node: the engine fed by the visitor sockets this process holds.

Tracking frames update the engine's in-memory facts; page views are stored in batches; offers
are recorded (``OfferShown``, delivered to the visitor by the gateway's listener). Consoles with
the visitors view open get a live ``radar`` feed, coalesced to one frame per ``FEED_SECONDS``.
What the radar hears from the rest of the product comes through listeners on every node
(``tresen.wiring``): conversations starting and ending, capacity, rule changes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select

from tresen.aio import spawn
from tresen.events import (
    ConversationEvent,
    Event,
    VisitorArrived,
    VisitorLeft,
)
from tresen.principal import Principal
from tresen.radar import actions
from tresen.radar.capacity import DbCapacity
from tresen.radar.census import CensusDesk
from tresen.radar.engine import RadarEngine
from tresen.radar.feed import FeedDesk
from tresen.radar.history import acceptance_rates, do_log_capacity, do_purge_history
from tresen.radar.holders import HolderDesk
from tresen.radar.offers import OfferDesk
from tresen.radar.periodic import every
from tresen.radar.policy import Policy, VisitorState
from tresen.radar.replica import Replica
from tresen.radar.rule_test import RuleTestDesk
from tresen.radar.rules import compile_rule
from tresen.radar.tracking import TrackingDesk
from tresen.radar.visits import do_start_visit
from tresen.runtime import Runtime
from tresen.scheduler import Repeating, TimerHandle
from tresen.storage.models import Site, Visitor

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
CAPACITY_SECONDS = 2.0
RATES_SECONDS = 300.0  # rules' acceptance rates, for pacing
RATES_DAYS = 14
PURGE_SECONDS = 3600.0  # history older than radar_history_days goes
FEED_SECONDS = 0.25  # the live visitors feed: at most four frames a second per node


class RadarService(TrackingDesk, OfferDesk, FeedDesk, HolderDesk, CensusDesk, RuleTestDesk):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._flushing = asyncio.Lock()
        self.capacity = DbCapacity(rt)
        self.engine = RadarEngine(
            rt.clock,
            rt.scheduler,
            self.capacity,
            on_offer=self._on_offer,
            on_outcome=self._on_outcome,
            on_held_out=self._on_held_out,
            pacing=rt.settings.radar_pacing,
            target_wait=rt.settings.radar_target_wait_seconds,
        )
        self._tabs: dict[int, dict[str, int]] = {}  # visitor -> tab -> sockets
        self._leaving: dict[int, TimerHandle] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._offer_tabs: dict[int, str] = {}
        self._unsaved: dict[int, VisitorState] = {}
        self._to_save: list[tuple[VisitorState, asyncio.Future[None]]] = []
        self._saving: asyncio.Task[None] | None = None
        self._tab_timers: dict[tuple[int, str], TimerHandle] = {}
        self.stopped = False
        self._offer_ids: dict[tuple[int, int], int] = {}
        self._asks = {}  # rule tests asked of other nodes (radar.rule_test)
        self._views: list[dict[str, Any]] = []
        self._loops: list[Repeating] = []
        self._busy: set[str] = set()
        self._refreshing = self._refresh_again = False
        self._dirty: set[int] = set()
        self._gone: set[int] = set()
        self._gone_sites: dict[int, int] = {}
        self._relayed: dict[int, str] = {}
        self._relay_tabs: dict[int, dict[str, int]] = {}
        self._consumer: asyncio.Task[None] | None = None
        self.replica = Replica()  # the other nodes' live visitors (``census``)
        self._census: Repeating | None = None

    async def start(self) -> None:
        await self.reload_rules()
        await self.capacity.refresh()
        await self.refresh_rates()
        self._loops = [
            self._every(RATES_SECONDS, self.refresh_rates),
            self._every(FLUSH_SECONDS, self.flush),
            self._every(CAPACITY_SECONDS, self.refresh_capacity),
            Repeating(self.rt.scheduler, self.rt.clock, FEED_SECONDS, self.send_feed),
            self._every(PURGE_SECONDS, self.purge),
        ]
        await self.start_holding()
        await self.start_census()

    async def stop(self) -> None:
        """No timer of this node fires any more (nor writes after the database closed); the
        visits it holds are written through."""
        self.stopped = True
        for loop in self._loops:
            loop.cancel()
        for handle in [*self._leaving.values(), *self._tab_timers.values()]:
            handle.cancel()
        for st in self.engine.visitors.values():
            st.cancel_timers()
            self._unsaved[st.facts.visitor_id] = st
        await self.flush()
        await self.stop_census()
        await self.stop_holding()

    async def purge(self) -> None:
        await do_purge_history(self.rt)

    async def reload_rules(self) -> None:
        async with self.rt.db.read() as s:
            sites = (await s.execute(select(Site.id, Site.radar_policy))).all()
        self.engine.site_policies = {sid: Policy.from_site(p or {}) for sid, p in sites}
        rules = []
        for row in await actions.list_rules(self.rt):
            try:
                rules.append(compile_rule(row.id, row.site_id, row.spec))
            except ValueError:
                log.exception("rule %s no longer compiles; skipped", row.id)
        self.engine.set_rules(rules)

    async def refresh_rates(self) -> None:
        self.engine.resources.rates = await acceptance_rates(self.rt, RATES_DAYS)

    async def refresh_capacity(self) -> None:
        changed = await self.capacity.refresh()
        for skill in changed:
            self.engine.capacity_changed(skill)
        await do_log_capacity(self.rt, self.capacity.sample(changed))

    # ---- visitors ----------------------------------------------------------------------------

    async def _hold_open(
        self, who: Principal, tab: str, visitor: Visitor | None = None, *, new: bool = False
    ) -> bool:
        """A socket of ``tab`` opened (here, or relayed from another node: ``holders``): the
        visit is picked up (from memory, or as stored). ``visitor``: the row, if just read;
        ``new``: a visitor created just now. False when an idle copy here turned out to be
        taken by another node meanwhile."""
        async with self._lock(who.id):
            idle = self.engine.visitors.get(who.id)
            if idle is not None and idle.away and not await self.still_mine(who.id):
                return False
            tabs = self._tabs.setdefault(who.id, {})
            tabs[tab] = tabs.get(tab, 0) + 1
            leaving = self._leaving.pop(who.id, None)
            if leaving is not None:
                leaving.cancel()
            st = self.engine.visitors.get(who.id)
            if st is None:
                st = await self._arrive(who, visitor, new=new)
                if st is None:
                    return True
            assert st.journey is not None
            st.journey.open_tab(tab, self.rt.clock.now().timestamp())
            if st.away:  # back within the grace period (a page load): the visit goes on
                st.away = False
                self.engine.evaluate(st)
            self.changed(who.id)
            return True

    async def _arrive(
        self, who: Principal, visitor: Visitor | None = None, *, new: bool = False
    ) -> VisitorState | None:
        if visitor is None or visitor.id != who.id:
            new = False
            async with self.rt.db.read() as s:
                visitor = await s.get(Visitor, who.id)
        if visitor is None:
            return None
        st = await do_start_visit(self.rt, visitor, new=new)
        await self.carry_offer(st)  # an offer the former holder made, still unanswered
        self.engine.track(st.facts, st)
        self.rt.events.emit([VisitorArrived(who.id, visitor.site_id, st.facts.returning)])
        return st

    async def _hold_close(self, who: Principal, tab: str) -> None:
        """A socket closed (here, or relayed). When it was the tab's last, the tab is gone (an
        offer shown there counts as ignored unless the tab is back within the grace period: a
        page load); when it was the visitor's last, the visit is written through, nothing is
        offered and other nodes may take it; the visitor leaves the live list after the grace
        period (unless a page load is back)."""
        async with self._lock(who.id):
            tabs = self._tabs.get(who.id, {})
            left = tabs.get(tab, 0) - 1
            if left > 0:
                tabs[tab] = left
                return
            tabs.pop(tab, None)
            st = self.engine.visitors.get(who.id)
            if st is None or st.journey is None:
                return
            now = self.rt.clock.now().timestamp()
            st.journey.close_tab(tab, now)
            grace = now + self.rt.settings.visit_grace_seconds
            if self._offer_tabs.get(who.id) == tab:
                self._tab_timers[(who.id, tab)] = self.rt.scheduler.call_at(
                    grace, lambda: self._tab_gone(who.id, tab)
                )
            self.changed(who.id)
            if tabs:
                return
            self._unsaved.pop(who.id, None)
            await self._save_one(st)  # written through before the visitor counts as away
            st.away = True
            await self.let_go(who.id)  # the next page load may land on any node
            self._leaving[who.id] = self.rt.scheduler.call_at(grace, lambda: self._left(who.id))

    def _tab_gone(self, visitor_id: int, tab: str) -> None:
        self._tab_timers.pop((visitor_id, tab), None)
        if self._offer_tabs.get(visitor_id) == tab and tab not in self._tabs.get(visitor_id, {}):
            self._offer_tabs.pop(visitor_id, None)
            self.engine.withdraw(visitor_id)

    def _left(self, vid: int) -> None:
        """No tab came back: the visitor left. The visit was written when the last tab closed
        (not again here: another node may have picked it up meanwhile)."""
        self._leaving.pop(vid, None)
        if self._tabs.get(vid):
            return  # back meanwhile
        st = self.engine.visitors.get(vid)
        if st is None:
            return
        self._tabs.pop(vid, None)
        self._offer_tabs.pop(vid, None)
        self.engine.forget(vid)
        self._unsaved.pop(vid, None)  # the outcome is on the offer; the visit may be elsewhere
        self._dirty.discard(vid)
        self._gone.add(vid)
        self._gone_sites[vid] = st.facts.site_id
        self._locks.pop(vid, None)
        self.replica.forget(vid)  # held here to the end: another node's row of it is old
        self.rt.events.emit([VisitorLeft(vid, st.facts.site_id)])

    def _lock(self, visitor_id: int) -> asyncio.Lock:
        return self._locks.setdefault(visitor_id, asyncio.Lock())

    # ---- listeners (on every node) -----------------------------------------------------------

    def on_rules_changed(self, event: Event) -> None:
        if self.stopped:
            return
        spawn(self.reload_rules(), name="radar-rules")

    def on_conversation(self, event: ConversationEvent) -> None:
        """A visitor here started chatting, or their chat ended: no offers meanwhile, and
        none for a while after (the policy's after-chat pause). Capacity may differ too."""
        self.on_capacity(event)
        conv = event.conversation
        st = self.engine.visitors.get(conv.visitor_id)
        if st is None:
            return
        active = conv.status == "open"
        if active and not st.chatting:
            self.engine.chat_started(conv.visitor_id)
        elif not active and st.chatting:
            self.engine.chat_ended(conv.visitor_id)
        else:
            return
        self.changed(conv.visitor_id)

    def on_capacity(self, event: Event) -> None:
        """Coalesced: one refresh at a time, and one more after it if anything changed
        meanwhile (a burst of assignments costs two refreshes, not one each)."""
        if self.stopped:
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        spawn(self._refresh_coalesced(), name="radar-capacity")

    async def _refresh_coalesced(self) -> None:
        try:
            while True:
                self._refresh_again = False
                await self.refresh_capacity()
                if not self._refresh_again:
                    return
        finally:
            self._refreshing = False

    def _every(self, seconds: float, fn: Any) -> Repeating:
        return every(self.rt, self._busy, seconds, fn)
