"""Tracking frames on one node (``RadarService``): a frame updates the visitor's facts and
visit in memory; page views and the visits that changed are stored in batches (``flush``)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import insert

from tresen.aio import spawn
from tresen.events import PageViewed
from tresen.principal import Principal
from tresen.radar.engine import RadarEngine
from tresen.radar.facts import VisitorFacts
from tresen.radar.policy import VisitorState
from tresen.radar.visits import do_save_visits
from tresen.realtime.protocol import TrackIn
from tresen.runtime import Runtime
from tresen.storage.models import PageView, Visitor

log = logging.getLogger("tresen.radar.live")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")


class TrackingDesk:
    """The tracking frames and their storing, for ``RadarService``."""

    rt: Runtime
    engine: RadarEngine
    _flushing: asyncio.Lock
    _views: list[dict[str, Any]]
    _unsaved: dict[int, VisitorState]
    _to_save: list[tuple[VisitorState, asyncio.Future[None]]]
    _saving: asyncio.Task[None] | None

    if TYPE_CHECKING:

        def relay_track(self, who: Principal, frame: TrackIn, tab: str) -> bool: ...

        def changed(self, visitor_id: int) -> None: ...

        def _lock(self, visitor_id: int) -> asyncio.Lock: ...

        async def _arrive(
            self, who: Principal, visitor: Visitor | None = None, *, new: bool = False
        ) -> VisitorState | None: ...

    async def track(self, who: Principal, frame: TrackIn, tab: str = "") -> None:
        if self.relay_track(who, frame, tab):
            return
        st = self.engine.visitors.get(who.id)
        if st is None or st.journey is None:
            return
        now = self.rt.clock.now().timestamp()
        if now - st.journey.last_seen_at >= self.rt.settings.visit_timeout_seconds:
            st = await self._renew(who, st)
            if st is None or st.journey is None:
                return
        journey = st.journey
        assert journey is not None
        journey.last_seen_at = now
        if frame.kind == "page":
            new = journey.page(tab, frame.view, frame.url, frame.title, now)
            journey.focus(tab, frame.focused, now)
            if new:
                self._page(st.facts, frame)
            self.changed(who.id)
        elif frame.kind == "focus":
            journey.focus(tab, frame.focused, now)
            self.changed(who.id)
        elif frame.kind == "form":
            journey.form_step(frame.form, now)
            self.engine.form_focus(who.id, frame.form)
        else:
            self.engine.custom_event(who.id, frame.name, frame.props)
            journey.goal_event(frame.name, frame.props, now)
        self._unsaved[who.id] = st

    async def _renew(self, who: Principal, old: VisitorState) -> VisitorState | None:
        """Inactive past the visit timeout with a tab still open: that visit ends, a new one
        begins (keeping the restraint), in the same tabs."""
        async with self._lock(who.id):
            assert old.journey is not None
            tabs = list(old.journey.tabs)
            self._unsaved.pop(who.id, None)
            await self._save([old])
            self.engine.forget(who.id)
            st = await self._arrive(who)
            if st is not None and st.journey is not None:
                for tab in tabs:
                    st.journey.open_tab(tab, self.rt.clock.now().timestamp())
            return st

    def _page(self, facts: VisitorFacts, frame: TrackIn) -> None:
        parts = urlsplit(frame.url)
        facts.device = frame.device or facts.device
        facts.language = frame.language or facts.language
        if frame.referrer and not facts.referrer:
            facts.referrer = frame.referrer
            st = self.engine.visitors[facts.visitor_id]
            if st.journey is not None and not st.journey.referrer:
                st.journey.referrer = frame.referrer
        utm = {
            k[4:]: v
            for k, v in parse_qsl(parts.query)
            if k[4:] in UTM_KEYS and k.startswith("utm_")
        }
        facts.utm = utm or frame.utm or facts.utm
        viewed = PageViewed(
            facts.visitor_id,
            facts.site_id,
            frame.url,
            frame.title,
            frame.referrer,
            self.rt.clock.now(),
        )
        self._views.append(
            {
                "site_id": viewed.site_id,
                "visitor_id": viewed.visitor_id,
                "url": viewed.url,
                "title": viewed.title,
                "referrer": viewed.referrer,
                "at": viewed.at,
            }
        )
        self.engine.page_view(facts.visitor_id, frame.url, parts.path or "/", frame.title)
        self.rt.events.emit([viewed])

    async def flush(self) -> None:
        """Store the page views gathered since the last flush in one transaction, and write
        the visits that changed through. One flush at a time: when it returns, what was
        gathered before it is stored, even if the periodic flush had taken it first."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        views, self._views = self._views, []
        unsaved, self._unsaved = list(self._unsaved.values()), {}
        await self._save(unsaved)
        if not views:
            return
        try:
            async with self.rt.db.write() as s:
                await s.execute(insert(PageView), views)
        except Exception:
            log.exception("could not store %d page views", len(views))

    async def _save(self, states: list[VisitorState]) -> None:
        try:
            await do_save_visits(self.rt, states)
        except Exception:
            log.exception("could not write %d visits through", len(states))

    async def _save_one(self, st: VisitorState) -> None:
        """Write one visit through now (a last tab closed, a "no thanks"), in one transaction
        with the others asked for meanwhile: when thousands of visitors leave at once (a
        node's sockets closing), a transaction each was a burst that stalled the loop."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_save.append((st, done))
        if self._saving is None:
            self._saving = spawn(self._save_gathered(), name="radar-save")
        await done

    async def _save_gathered(self) -> None:
        batch: list[tuple[VisitorState, asyncio.Future[None]]] = []
        try:
            while self._to_save:
                await asyncio.sleep(0)  # the closes of this turn join
                batch, self._to_save = self._to_save, []
                await self._save([st for st, _ in batch])  # logs its own failure
                _resolve(batch)
                batch = []
        finally:
            self._saving = None
            _resolve(batch)  # cancelled while writing: nobody waits for ever


def _resolve(batch: list[tuple[VisitorState, asyncio.Future[None]]]) -> None:
    for _, done in batch:
        if not done.done():
            done.set_result(None)
