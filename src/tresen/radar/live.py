"""The radar on one node: the engine fed by the visitor sockets this process holds.

Tracking frames update the engine's in-memory facts; page views are stored in batches; offers
are recorded and then sent to the visitor; agents get a live ``radar`` feed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import insert

from tresen.assist.bot import BOT_NAME
from tresen.conversations.actions import do_open_from_offer
from tresen.errors import NotFound
from tresen.principal import Principal
from tresen.radar import actions
from tresen.radar.capacity import DbCapacity
from tresen.radar.engine import Offer, RadarEngine
from tresen.radar.facts import VisitorFacts
from tresen.radar.rules import compile_rule
from tresen.realtime.bus import cancel_task
from tresen.realtime.protocol import OfferOut, RadarOut, TrackIn
from tresen.runtime import AGENTS_TOPIC, CAPACITY_TOPIC, Runtime, visitor_topic
from tresen.scheduler import LoopScheduler
from tresen.storage.models import PageView, RadarOffer, Visitor

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
CAPACITY_SECONDS = 2.0
RETURNING_AFTER = timedelta(minutes=30)
UTM_KEYS = ("source", "medium", "campaign", "term", "content")


class RadarService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.capacity = DbCapacity(rt)
        self.engine = RadarEngine(
            rt.clock,
            LoopScheduler(rt.clock),
            self.capacity,
            on_offer=self._on_offer,
            on_outcome=self._on_outcome,
        )
        self._sockets: dict[int, int] = {}
        self._offer_ids: dict[tuple[int, int], int] = {}
        self._views: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._refreshing = self._refresh_again = False

    async def start(self) -> None:
        await self.reload_rules()
        await self.rt.bus.subscribe(actions.RULES_TOPIC, self._rules_changed)
        await self.rt.bus.subscribe(CAPACITY_TOPIC, self._capacity_changed)
        await self.rt.bus.subscribe(AGENTS_TOPIC, self._conversation_changed)
        await self.capacity.refresh()
        self._loops = [
            asyncio.create_task(self._every(FLUSH_SECONDS, self.flush)),
            asyncio.create_task(self._every(CAPACITY_SECONDS, self.refresh_capacity)),
        ]

    async def stop(self) -> None:
        for task in self._loops:
            await cancel_task(task)
        await self.flush()

    async def reload_rules(self) -> None:
        rules = []
        for row in await actions.list_rules(self.rt):
            try:
                rules.append(compile_rule(row.id, row.site_id, row.spec))
            except ValueError:
                log.exception("rule %s no longer compiles; skipped", row.id)
        self.engine.set_rules(rules)

    async def refresh_capacity(self) -> None:
        for skill in await self.capacity.refresh():
            self.engine.capacity_changed(skill)

    # ---- visitors ----------------------------------------------------------------------------

    async def visitor_connected(self, who: Principal) -> None:
        self._sockets[who.id] = self._sockets.get(who.id, 0) + 1
        if self._sockets[who.id] > 1:
            return
        async with self.rt.db.read() as s:
            visitor = await s.get(Visitor, who.id)
        if visitor is None:
            return
        now = self.rt.clock.now()
        facts = VisitorFacts(
            who.id,
            visitor.site_id,
            site_started_at=now.timestamp(),
            page_started_at=now.timestamp(),
            returning=visitor.created_at < now - RETURNING_AFTER,
            attributes=dict(visitor.attributes) if visitor.external_id else {},
        )
        self.engine.track(facts)
        await self._publish_radar(who.id)

    async def visitor_disconnected(self, who: Principal) -> None:
        left = self._sockets.get(who.id, 0) - 1
        if left > 0:
            self._sockets[who.id] = left
            return
        self._sockets.pop(who.id, None)
        self.engine.forget(who.id)
        await self.rt.publish(AGENTS_TOPIC, RadarOut(visitor={"id": who.id}, gone=True).frame())

    async def track(self, who: Principal, frame: TrackIn) -> None:
        st = self.engine.visitors.get(who.id)
        if st is None:
            return
        if frame.kind == "page":
            self._page(st.facts, frame)
            await self._publish_radar(who.id)
        elif frame.kind == "form":
            self.engine.form_focus(who.id, frame.form)
        else:
            self.engine.custom_event(who.id, frame.name, frame.props)

    def _page(self, facts: VisitorFacts, frame: TrackIn) -> None:
        parts = urlsplit(frame.url)
        facts.device = frame.device or facts.device
        facts.language = frame.language or facts.language
        if frame.referrer and not facts.referrer:
            facts.referrer = frame.referrer
        utm = {
            k[4:]: v
            for k, v in parse_qsl(parts.query)
            if k[4:] in UTM_KEYS and k.startswith("utm_")
        }
        facts.utm = utm or frame.utm or facts.utm
        self._views.append(
            {
                "site_id": facts.site_id,
                "visitor_id": facts.visitor_id,
                "url": frame.url,
                "title": frame.title,
                "referrer": frame.referrer,
                "at": self.rt.clock.now(),
            }
        )
        self.engine.page_view(facts.visitor_id, frame.url, parts.path or "/", frame.title)

    async def flush(self) -> None:
        """Store the page views gathered since the last flush in one transaction."""
        views, self._views = self._views, []
        if not views:
            return
        try:
            async with self.rt.db.write() as s:
                await s.execute(insert(PageView), views)
        except Exception:
            log.exception("could not store %d page views", len(views))

    # ---- offers ------------------------------------------------------------------------------

    def _on_offer(self, offer: Offer) -> None:
        task = asyncio.create_task(self._send_offer(offer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_offer(self, offer: Offer) -> None:
        st = self.engine.visitors.get(offer.visitor_id)
        site_id = st.facts.site_id if st else 0
        offer_id = await actions.do_record_offer(
            self.rt,
            rule_id=offer.rule_id,
            site_id=site_id,
            visitor_id=offer.visitor_id,
            kind=offer.kind,
            text=offer.text,
            skill=offer.skill,
        )
        self._offer_ids[(offer.visitor_id, offer.rule_id)] = offer_id
        out = OfferOut(
            offer_id=offer_id,
            kind=offer.kind,
            text=offer.text,
            auto_open=offer.auto_open,
            quiet=offer.quiet,
            agent_name=offer.agent_name,
            agent_photo=offer.agent_photo,
        )
        await self.rt.publish(visitor_topic(offer.visitor_id), out.frame())
        await self._publish_radar(offer.visitor_id)

    def _on_outcome(self, visitor_id: int, rule_id: int, outcome: str) -> None:
        if outcome != "ignored":
            return
        offer_id = self._offer_ids.pop((visitor_id, rule_id), None)
        if offer_id is not None:
            task = asyncio.create_task(actions.do_record_outcome(self.rt, offer_id, "ignored"))
            self._tasks.add(task)  # type: ignore[arg-type]
            task.add_done_callback(self._tasks.discard)  # type: ignore[arg-type]

    async def reply(self, who: Principal, offer_id: int, outcome: str) -> int | None:
        """The visitor answered an offer. Accepting an invitation opens a conversation (the
        bot's offer one in bot mode, greeted by the bot)."""
        async with self.rt.db.read() as s:
            row = await s.get(RadarOffer, offer_id)
        if row is None or row.visitor_id != who.id:
            raise NotFound(f"no open offer {offer_id}", code="no_such_offer")
        if not await actions.do_record_outcome(self.rt, offer_id, outcome):
            raise NotFound(f"offer {offer_id} was already answered", code="no_such_offer")
        self.engine.respond(who.id, outcome)  # type: ignore[arg-type]
        self._offer_ids.pop((who.id, row.rule_id or 0), None)
        conversation_id = None
        if outcome == "accepted" and row.kind != "message":
            conv = await do_open_from_offer(
                self.rt,
                who,
                skill=row.skill,
                opening=row.text,
                assignee_id=row.agent_id,
                bot_name=BOT_NAME if row.kind == "bot" else None,
            )
            conversation_id = conv.id
            await actions.do_link_conversation(self.rt, offer_id, conv.id)
            self.engine.chat_started(who.id)  # also for agents' manual invitations
        await self._publish_radar(who.id)
        return conversation_id

    # ---- agents' feed ------------------------------------------------------------------------

    async def _publish_radar(self, visitor_id: int) -> None:
        view = self.snapshot(visitor_id)
        if view is not None:
            await self.rt.publish(AGENTS_TOPIC, RadarOut(visitor=view).frame())

    def snapshot(self, visitor_id: int) -> dict[str, Any] | None:
        st = self.engine.visitors.get(visitor_id)
        if st is None:
            return None
        f = st.facts
        return {
            "id": f.visitor_id,
            "site_id": f.site_id,
            "url": f.url,
            "title": f.title,
            "page_started_at": f.page_started_at,
            "site_started_at": f.site_started_at,
            "pages_viewed": f.pages_viewed,
            "device": f.device,
            "language": f.language,
            "returning": f.returning,
            "segment": f.attributes.get("segment"),
            "referrer": f.referrer,
            **st.snapshot(),
        }

    def snapshots(self) -> list[dict[str, Any]]:
        return [v for vid in list(self.engine.visitors) if (v := self.snapshot(vid))]

    def _rules_changed(self, topic: str, payload: str) -> None:
        self._spawn(self.reload_rules())

    def _conversation_changed(self, topic: str, payload: str) -> None:
        """A visitor here started chatting, or their chat ended: no offers meanwhile, and
        none for a while after (the policy's after-chat pause)."""
        if not payload.startswith('{"type":"conversation"'):
            return
        conv = json.loads(payload)["conversation"]
        vid = conv.get("visitor_id")
        st = self.engine.visitors.get(vid) if vid is not None else None
        if st is None:
            return
        active = conv["status"] == "open"
        if active and not st.chatting:
            self.engine.chat_started(vid)
        elif not active and st.chatting:
            self.engine.chat_ended(vid)
        else:
            return
        self._spawn(self._publish_radar(vid))

    def _capacity_changed(self, topic: str, payload: str) -> None:
        """Coalesced: one refresh at a time, and one more after it if anything changed
        meanwhile (a burst of assignments costs two refreshes, not one each)."""
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        self._spawn(self._refresh_coalesced())

    async def _refresh_coalesced(self) -> None:
        try:
            while True:
                self._refresh_again = False
                await self.refresh_capacity()
                if not self._refresh_again:
                    return
        finally:
            self._refreshing = False

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _every(self, seconds: float, fn: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await fn()
            except Exception:
                log.exception("radar periodic task failed")
