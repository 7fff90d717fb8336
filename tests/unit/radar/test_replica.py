"""The other nodes' live visitors on one node: changes replace, a census converges, rows of a
holder not heard of expire."""

from __future__ import annotations

from typing import Any

from tresen.radar.replica import CENSUS_MISSES, Replica

PERIOD = 10.0


def row(vid: int, site: int = 1, **more: Any) -> dict[str, Any]:
    return {"id": vid, "site_id": site, **more}


def test_a_holders_changes_replace_its_rows_and_its_leavers_go() -> None:
    r = Replica()
    r.changed("a", [row(1, pages_viewed=1), row(2)], {"1": "tab-1"}, [], now=0)
    r.changed("a", [row(1, pages_viewed=2)], {}, [2], now=1)
    assert r.rows() == [row(1, pages_viewed=2)]
    kept = r.get(1)
    assert kept is not None and kept.node == "a" and kept.tab is None and kept.seen == 1
    assert r.rows(skip=[1]) == []


def test_a_leaving_told_by_another_node_than_the_holder_is_not_believed() -> None:
    r = Replica()
    r.changed("b", [row(1)], {}, [], now=0)
    r.changed("a", [], {}, [1], now=1)  # a's idle copy left; b holds the visit now
    assert [v["id"] for v in r.rows()] == [1]


def test_a_census_adds_what_was_missed_but_never_overrides_another_holder() -> None:
    r = Replica()
    r.changed("b", [row(1, url="/b")], {}, [], now=0)
    r.changed("a", [row(1, url="/a-stale"), row(2)], {"2": "t"}, [], now=1, census=True)
    assert sorted((v["id"], v.get("url")) for v in r.rows()) == [(1, "/b"), (2, None)]
    got = r.get(2)
    assert got is not None and got.tab == "t"
    r.taken(1, "a")  # a took the visit: b's row is out of date
    assert r.get(1) is None
    r.changed("a", [row(1, url="/a")], {}, [], now=2, census=True)
    got = r.get(1)
    assert got is not None and got.row["url"] == "/a"


def test_rows_not_heard_of_for_some_census_periods_expire() -> None:
    r = Replica()
    r.changed("a", [row(1, site=1), row(2, site=2)], {}, [], now=0)  # a dies after this
    r.changed("b", [row(3)], {}, [], now=0)
    heard = CENSUS_MISSES * PERIOD  # b's census keeps its row fresh; nothing from a
    r.changed("b", [row(3)], {}, [], now=heard, census=True)
    assert r.expire(before=heard - CENSUS_MISSES * PERIOD) == []
    gone = r.expire(before=heard + 1 - CENSUS_MISSES * PERIOD)
    assert sorted(gone) == [(1, 1), (2, 2)]
    assert [v["id"] for v in r.rows()] == [3]


def test_an_idle_copys_last_change_does_not_replace_the_row_of_the_node_that_took_it() -> None:
    r = Replica()
    r.changed("b", [row(1, tabs=1)], {}, [], now=0)  # b took the visit
    r.changed("a", [row(1, tabs=0)], {}, [], now=1)  # a's copy closed its tab just before
    got = r.get(1)
    assert got is not None and got.node == "b"
    r.changed("a", [row(1, tabs=1)], {}, [], now=2)  # a took it back: a page load there
    got = r.get(1)
    assert got is not None and got.node == "a"
    r.forget(1)
    assert r.get(1) is None
