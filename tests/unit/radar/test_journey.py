"""The visit's journey: pages in order, focused time per page, tabs and page loads."""

from __future__ import annotations

from tresen.radar.journey import MAX_PAGES, MAX_VIEWS, Journey


def test_focused_time_goes_to_the_page_of_the_focused_tab() -> None:
    j = Journey(started_at=0, last_seen_at=0)
    j.open_tab("a", 0)
    assert j.page("a", "v1", "https://s/1", "One", 0)
    j.focus("a", True, 0)
    j.open_tab("b", 5)
    j.page("b", "v2", "https://s/2", "Two", 5)  # opened in the background
    j.focus("b", True, 20)  # a had 20 s; now b gathers
    j.focus("b", False, 30)  # 10 s on b; nobody focused
    j.focus("a", True, 100)
    assert j.page("a", "v3", "https://s/3", "Three", 104)  # a navigates: 4 s more on page 1
    assert [p.url[-1] for p in j.pages] == ["1", "2", "3"]
    assert [j.page_seconds(n, 110) for n in (1, 2, 3)] == [24.0, 10.0, 6.0]
    assert j.focused_seconds(110) == 40.0
    assert j.entry_url == "https://s/1" and j.page_count == 3


def test_the_same_page_load_reported_again_is_not_a_new_page_view() -> None:
    j = Journey(started_at=0, last_seen_at=0)
    j.open_tab("a", 0)
    assert j.page("a", "v1", "https://s/1", "One", 0)
    assert not j.page("a", "v1", "https://s/1", "One", 3)  # after a reconnect
    assert j.page("a", "", "https://s/1", "One", 4)  # no view id: always a page view
    assert j.page_count == 2


def test_closing_the_focused_tab_stops_its_clock_and_settling_keeps_the_sum() -> None:
    j = Journey(started_at=0, last_seen_at=0)
    j.open_tab("a", 0)
    j.page("a", "v1", "https://s/1", "One", 0)
    j.focus("a", True, 0)
    j.settled(7)
    assert j.pages[0].focused == 7.0 and j.focused_seconds(9) == 9.0
    j.close_tab("a", 9)
    assert j.focus_tab is None and j.focused_seconds(50) == 9.0 and j.tabs == {}


def test_old_pages_are_dropped_but_counted() -> None:
    j = Journey(started_at=0, last_seen_at=0)
    j.open_tab("a", 0)
    j.focus("a", True, 0)
    for i in range(MAX_PAGES + 5):
        j.page("a", f"v{i}", f"https://s/{i}", "", float(i))
    assert j.page_count == MAX_PAGES + 5 and len(j.pages) == MAX_PAGES
    assert j.entry(1) is None and j.entry(MAX_PAGES + 5) is j.pages[-1]
    assert j.page_seconds(MAX_PAGES + 5, MAX_PAGES + 9) == 5.0


def test_a_page_load_reported_again_after_its_socket_closed_is_not_a_new_page_view() -> None:
    """A tab whose socket dropped (a network blip, a restart) reports its page again."""
    j = Journey(started_at=0, last_seen_at=0)
    j.open_tab("a", 0)
    assert j.page("a", "v1", "https://s/1", "One", 0)
    j.close_tab("a", 5)
    j.open_tab("a", 6)
    assert not j.page("a", "v1", "https://s/1", "One", 6)
    assert j.page("a", "v2", "https://s/2", "Two", 7)  # the tab navigated
    assert j.page_count == 2


def test_closed_tabs_view_ids_are_bounded() -> None:
    j = Journey(started_at=0, last_seen_at=0)
    for n in range(MAX_VIEWS + 5):
        j.open_tab(f"t{n}", n)
        j.page(f"t{n}", f"v{n}", "https://s/1", "One", n)
        j.close_tab(f"t{n}", n)
    assert len(j.views) == MAX_VIEWS
    assert "t0" not in j.views and j.views[f"t{MAX_VIEWS + 4}"] == f"v{MAX_VIEWS + 4}"
