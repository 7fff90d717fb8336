"""How a live visitor looks to agents: one row per visitor, however many tabs are open."""

from __future__ import annotations

from typing import Any

from tresen.radar.policy import VisitorState


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
