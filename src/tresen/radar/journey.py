"""A visit's journey across pages and tabs: pages in order with the focused time on each.

Pure bookkeeping (times are epoch seconds of the injected clock), kept in memory by the node
that serves the visitor and written through with the visit (``radar.visits``). A tab is one
browser tab (the widget keeps its id in the tab's session storage, so it survives navigation);
a page load in it has a view id, so a socket that reconnects and reports the same page again is
not a new page view: after its socket closed too (the tab's last view id is kept, a few dozen
tabs at most), and after a restart or a move to another node (kept with the visit). At most
one tab has the focus: its current page gathers focused time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_PAGES = 200  # pages kept per visit (the count goes on)
MAX_GOALS = 100
MAX_FORM_STEPS = 200  # form focus changes kept per visit (for replay)
MAX_VIEWS = 20  # tabs whose last page load is remembered (a reconnect reports it again)


@dataclass(slots=True)
class PageEntry:
    url: str
    title: str
    at: float
    focused: float = 0.0

    def as_row(self) -> list[Any]:
        return [self.url, self.title, round(self.at, 3), round(self.focused, 3)]

    @classmethod
    def from_row(cls, row: list[Any]) -> PageEntry:
        return cls(str(row[0]), str(row[1]), float(row[2]), float(row[3]))


@dataclass(slots=True)
class Journey:
    started_at: float
    last_seen_at: float
    visit_id: int | None = None
    entry_url: str = ""
    referrer: str = ""
    page_count: int = 0
    pages: list[PageEntry] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)
    # The visitor's custom events (name and value): with the pages, rules' goals are matched
    # against them when the rules' figures are computed (``radar.figures``).
    goals: list[dict[str, Any]] = field(default_factory=list)
    # Form focus as it changed: [at, form id or None (blurred)], so a replay can add up the
    # dwell on each form as the live engine did (values are never sent).
    forms: list[list[Any]] = field(default_factory=list)
    tabs: dict[str, int] = field(default_factory=dict)  # tab -> page number (0: none yet)
    views: dict[str, str] = field(default_factory=dict)  # tab -> view id of its page load
    focus_tab: str | None = None
    focus_since: float = 0.0

    # ---- tabs --------------------------------------------------------------------------------

    def open_tab(self, tab: str, now: float) -> None:
        self.tabs.setdefault(tab, 0)
        self.last_seen_at = now

    def close_tab(self, tab: str, now: float) -> None:
        if self.focus_tab == tab:
            self.focus(tab, False, now)
        self.tabs.pop(tab, None)
        self.last_seen_at = now  # the tab's view id stays: its socket may reconnect

    def page(self, tab: str, view: str, url: str, title: str, now: float) -> bool:
        """A page in ``tab``; False when it is the page load the tab reported already."""
        if view and self.views.get(tab) == view:
            return False
        focused = self.focus_tab == tab
        if focused:
            self._settle(now)
        self.page_count += 1
        if not self.pages:
            self.entry_url = url
        self.pages.append(PageEntry(url, title, now))
        if len(self.pages) > MAX_PAGES:
            del self.pages[0]
        self.tabs[tab] = self.page_count
        if view:
            self.views.pop(tab, None)  # the newest last: the oldest tab is forgotten first
            self.views[tab] = view
            if len(self.views) > MAX_VIEWS:
                del self.views[next(iter(self.views))]
        self.last_seen_at = now
        return True

    def goal_event(self, name: str, props: dict[str, Any], now: float) -> None:
        """Keep a custom event for goal attribution (its name and value only)."""
        value = props.get("value")
        amount = (
            float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
        )
        if len(self.goals) < MAX_GOALS:
            self.goals.append({"name": name, "value": amount, "at": round(now, 3)})

    def form_step(self, form: str | None, now: float) -> None:
        """The visitor's focus entered ``form`` (None: left the form it was in)."""
        if len(self.forms) < MAX_FORM_STEPS:
            self.forms.append([round(now, 3), form])

    def focus(self, tab: str, focused: bool, now: float) -> None:
        if focused and self.focus_tab != tab:
            self._settle(now)
            self.focus_tab, self.focus_since = tab, now
        elif not focused and self.focus_tab == tab:
            self._settle(now)
            self.focus_tab = None
        self.last_seen_at = now

    # ---- reading -----------------------------------------------------------------------------

    def entry(self, number: int) -> PageEntry | None:
        """Page number ``number`` (1-based, over the whole visit) if it is still kept."""
        i = number - (self.page_count - len(self.pages)) - 1
        return self.pages[i] if 0 <= i < len(self.pages) else None

    def page_seconds(self, number: int, now: float) -> float:
        page = self.entry(number)
        if page is None:
            return 0.0
        running = 0.0
        if self.focus_tab is not None and self.tabs.get(self.focus_tab) == number:
            running = now - self.focus_since
        return page.focused + running

    def focused_seconds(self, now: float) -> float:
        """Time on site: the focused time of every page, the running one included."""
        total = sum(p.focused for p in self.pages)
        if self.focus_tab is not None and self.entry(self.tabs.get(self.focus_tab, 0)):
            total += now - self.focus_since
        return total

    def pages_view(self, now: float) -> list[dict[str, Any]]:
        first = self.page_count - len(self.pages) + 1
        return [
            {"url": p.url, "title": p.title, "at": p.at, "seconds": self.page_seconds(n, now)}
            for n, p in enumerate(self.pages, start=first)
        ]

    def settled(self, now: float) -> Journey:
        """Fold the running focus into its page (before the visit is written)."""
        self._settle(now)
        return self

    def _settle(self, now: float) -> None:
        if self.focus_tab is None:
            return
        page = self.entry(self.tabs.get(self.focus_tab, 0))
        if page is not None:
            page.focused += max(0.0, now - self.focus_since)
        self.focus_since = now
