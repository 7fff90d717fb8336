"""The live visitors other nodes hold, as their holders last told (``radar.census``).

Pure bookkeeping over the receiving node's clock. A row comes with the node that holds the
visit and the visitor's focused tab (where an invitation made on this node is shown). A
holder's changed rows replace what was kept; its census (every ``radar_census_seconds``, all
the visits it holds) refreshes its rows and adds those this node missed, but never replaces
another node's fresher row (an idle copy elsewhere may still be counted in a census sent before
the node that took the visit was heard of), nor does an idle copy's row (no tab) replace a row
with tabs open. A row not heard of for ``CENSUS_MISSES`` census
periods goes: its visitor left without this node hearing it, or its holder died.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CENSUS_MISSES = 3  # census periods without news before another node's row expires


@dataclass(slots=True)
class Entry:
    node: str  # the node holding the visit
    row: dict[str, Any]  # as in the live list (``radar.feed.visitor_view``)
    tab: str | None  # the visitor's focused tab (else the one opened last)
    seen: float  # when this node last heard of it (its own clock)


class Replica:
    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}

    def changed(
        self,
        node: str,
        rows: Iterable[dict[str, Any]],
        tabs: dict[str, str | None],
        gone: Iterable[int],
        now: float,
        *,
        census: bool = False,
    ) -> None:
        """``node`` sent rows (its feed, or a census part) and the visitors it saw leave."""
        for row in rows:
            vid = int(row["id"])
            kept = self.entries.get(vid)
            if kept is not None and kept.node != node:
                if census:
                    continue  # the other node's row is the one it sent on a change: newer
                if not row.get("tabs") and kept.row.get("tabs"):
                    continue  # an idle copy's last change, sent before it heard of the taking
            self.entries[vid] = Entry(node, row, tabs.get(str(vid)), now)
        for vid in gone:
            kept = self.entries.get(int(vid))
            if kept is not None and kept.node == node:
                del self.entries[int(vid)]

    def taken(self, visitor_id: int, node: str) -> None:
        """``node`` took the visit: another node's row of it is out of date."""
        kept = self.entries.get(visitor_id)
        if kept is not None and kept.node != node:
            del self.entries[visitor_id]

    def forget(self, visitor_id: int) -> None:
        """The visitor left this node, which held the visit: any other row of it is old."""
        self.entries.pop(visitor_id, None)

    def expire(self, before: float) -> list[tuple[int, int]]:
        """Drop rows not heard of since ``before``: (visitor, site) of each."""
        old = [vid for vid, e in self.entries.items() if e.seen < before]
        return [(vid, int(self.entries.pop(vid).row["site_id"])) for vid in old]

    def get(self, visitor_id: int) -> Entry | None:
        return self.entries.get(visitor_id)

    def rows(self, skip: Iterable[int] = ()) -> list[dict[str, Any]]:
        """Every row kept, but those of ``skip`` (the visits this node holds)."""
        held = set(skip)
        return [e.row for vid, e in self.entries.items() if vid not in held]
