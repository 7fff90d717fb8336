"""How a live visitor looks to agents: one row per visitor, however many tabs are open."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tresen.radar.engine import RadarEngine
from tresen.radar.policy import VisitorState
from tresen.realtime.protocol import RadarOut
from tresen.realtime.topics import RADAR_TOPIC, radar_topic
from tresen.runtime import Runtime


def visitor_view(st: VisitorState, tabs: int, now: float) -> dict[str, Any]:
    """The live list's row: where the visitor is, the visit so far (pages in order with the
    focused time on each, the summed time on site), tabs open, invited or chatting."""
    f = st.facts
    journey = st.journey
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
        "tabs": tabs,
        "visit_id": journey.visit_id if journey else None,
        "entry_url": journey.entry_url if journey else f.url,
        "time_on_site": round(journey.focused_seconds(now), 1) if journey else 0.0,
        "pages": journey.pages_view(now) if journey else [],
        "focused": bool(journey and journey.focus_tab is not None),
        "at": now,
        "offers": journey.offers if journey else [],
        **st.snapshot(),
    }


class FeedDesk:
    """The live visitors feed of ``RadarService``: consoles with the visitors view open get the
    visitors that changed, coalesced to one ``radar`` frame per ``FEED_SECONDS``."""

    rt: Runtime
    engine: RadarEngine
    _dirty: set[int]
    _gone: set[int]
    _gone_sites: dict[int, int]  # a visitor who left -> their site, until the next feed frame
    _tabs: dict[int, dict[str, int]]

    if TYPE_CHECKING:

        def share_rows(self, rows: list[dict[str, Any]], gone: list[int]) -> None: ...

    def away(self, visitor_id: int) -> bool:
        """No tab of the visitor is open here (gone, or between two page loads)."""
        st = self.engine.visitors.get(visitor_id)
        return st is None or st.away

    def page_language(self, visitor_id: int) -> str:
        """The language of the page the visitor has open here (its ``<html lang>``), as sent
        with the last page view; "" when unknown (not on this node, or no page view yet)."""
        st = self.engine.visitors.get(visitor_id)
        return st.facts.language if st is not None else ""

    def tab_count(self, visitor_id: int) -> int:
        return len(self._tabs.get(visitor_id, {}))

    def changed(self, visitor_id: int) -> None:
        """The visitor's live state changed: in the next feed frame."""
        self._dirty.add(visitor_id)

    def send_feed(self) -> None:
        """One ``radar`` frame with every visitor that changed since the last one, to the
        consoles that have the visitors view open (none: nothing is built)."""
        if not (self._dirty or self._gone):
            return
        dirty, gone = self._dirty, self._gone
        self._dirty, self._gone = set(), set()
        gone_sites = {vid: self._gone_sites.pop(vid, None) for vid in gone}
        if not self._watched(gone_sites.values()) and not self.rt.settings.redis_url:
            return  # one node and nobody looking
        visitors = [v for vid in sorted(dirty) if (v := self.snapshot(vid))]
        self.share_rows(visitors, sorted(gone))  # the other nodes' replicas (``census``)
        frame = RadarOut(visitors=visitors, gone=sorted(gone)).frame()
        self.rt.bus.publish_nowait(RADAR_TOPIC, frame)
        # Each site's agents get that site's visitors (and those of its that left) only.
        by_site: dict[int, tuple[list[dict[str, Any]], list[int]]] = {}
        for v in visitors:
            by_site.setdefault(int(v["site_id"]), ([], []))[0].append(v)
        for vid in sorted(gone):
            site_id = gone_sites[vid]
            if site_id is not None:
                by_site.setdefault(site_id, ([], []))[1].append(vid)
        for site_id, (site_visitors, site_gone) in by_site.items():
            out = RadarOut(visitors=site_visitors, gone=site_gone).frame()
            self.rt.bus.publish_nowait(radar_topic(site_id), out)

    def _watched(self, gone_sites: Iterable[int | None]) -> bool:
        """Anyone on this node looking at the visitors of any site with news."""
        hub = self.rt.hub
        if hub.subscribers(RADAR_TOPIC) > 0:
            return True
        sites = {st.facts.site_id for st in self.engine.visitors.values()}
        sites |= {s for s in gone_sites if s is not None}
        return any(hub.subscribers(radar_topic(site_id)) > 0 for site_id in sites)

    def snapshot(self, visitor_id: int) -> dict[str, Any] | None:
        st = self.engine.visitors.get(visitor_id)
        if st is None:
            return None
        return visitor_view(st, self.tab_count(visitor_id), self.rt.clock.now().timestamp())

    def snapshots(self) -> list[dict[str, Any]]:
        return [v for vid in list(self.engine.visitors) if (v := self.snapshot(vid))]
