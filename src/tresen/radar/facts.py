"""What the radar knows about one live visitor, kept in memory on the node holding its socket."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_EVENTS = 50
MAX_VIEWED = 200


@dataclass(slots=True)
class TrackedEvent:
    name: str
    at: float
    props: dict[str, Any]


@dataclass(slots=True)
class VisitorFacts:
    """Times are epoch seconds of the injected clock."""

    visitor_id: int
    site_id: int
    site_started_at: float
    page_started_at: float
    url: str = ""
    path: str = ""
    title: str = ""
    referrer: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    device: str = "desktop"
    language: str = ""
    returning: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    pages_viewed: int = 0
    viewed: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_VIEWED))
    products: set[str] = field(default_factory=set)
    events: deque[TrackedEvent] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    form: str | None = None
    form_since: float = 0.0
    form_dwell: dict[str, float] = field(default_factory=dict)
    page_view: int = 0

    def dwell_on(self, form: str, now: float) -> float:
        """Seconds spent on ``form`` so far, the current focus included."""
        spent = self.form_dwell.get(form, 0.0)
        if self.form == form:
            spent += now - self.form_since
        return spent

    def page(self, url: str, path: str, title: str, now: float) -> None:
        self.blur(now)
        self.url, self.path, self.title = url, path, title
        self.page_started_at = now
        self.pages_viewed += 1
        self.page_view += 1
        self.viewed.append(path)

    def focus(self, form: str, now: float) -> None:
        if self.form != form:
            self.blur(now)
            self.form, self.form_since = form, now

    def blur(self, now: float) -> None:
        if self.form is not None:
            self.form_dwell[self.form] = self.dwell_on(self.form, now)
            self.form = None
