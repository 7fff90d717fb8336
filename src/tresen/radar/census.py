"""The whole live list on every node: each node keeps a replica of the rows the others hold.

With Redis, each node's feed (``radar.feed``) also sends its changed rows and the visitors
that left to the other nodes (``radar:replica``), with the visitor's focused tab; every
``radar_census_seconds`` each node sends all the visits it holds (in parts), and a node that
starts asks for a census at once. So ``GET /api/radar/visitors`` and a manual invitation see
every node's visitors wherever they are asked: a node started later, or one that missed a
frame, converges within a census; the rows of a holder that died (or of a visitor whose leaving
was missed) expire after ``CENSUS_MISSES`` periods without news, and this node's consoles are
told they are gone. On one node (no Redis) there is nothing to share.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from tresen.radar.engine import RadarEngine
from tresen.radar.replica import CENSUS_MISSES, Entry, Replica
from tresen.realtime.protocol import RadarOut
from tresen.realtime.topics import RADAR_TOPIC, radar_topic
from tresen.runtime import Runtime
from tresen.scheduler import Repeating

log = logging.getLogger(__name__)
REPLICA_TOPIC = "radar:replica"  # rows between nodes (never to consoles)
CENSUS_PART = 100  # rows per census message


class CensusDesk:
    """Part of ``RadarService`` (``radar.live``): the replica of the other nodes' rows."""

    rt: Runtime
    engine: RadarEngine
    replica: Replica
    _census: Repeating | None

    if TYPE_CHECKING:

        @property
        def clustered(self) -> bool: ...

        def snapshot(self, visitor_id: int) -> dict[str, Any] | None: ...

        def snapshots(self) -> list[dict[str, Any]]: ...

        def _focused_tab(self, visitor_id: int) -> str | None: ...

    # ---- what this node tells ----------------------------------------------------------------

    def share_rows(self, rows: list[dict[str, Any]], gone: list[int]) -> None:
        """This node's feed frame, for the other nodes' replicas."""
        if self.clustered and (rows or gone):
            self._publish_rows(rows, gone, census=False)

    def send_census(self) -> None:
        """Every visit held here, in parts; then rows not heard of for a while expire."""
        if not self.clustered:
            return
        rows = self.snapshots()
        for i in range(0, len(rows), CENSUS_PART):
            self._publish_rows(rows[i : i + CENSUS_PART], [], census=True)
        self.expire_replica()

    def _publish_rows(self, rows: list[dict[str, Any]], gone: list[int], *, census: bool) -> None:
        tabs = {str(v["id"]): self._focused_tab(int(v["id"])) for v in rows}
        msg: dict[str, Any] = {"node": self._node_name, "rows": rows, "tabs": tabs, "gone": gone}
        if census:
            msg["census"] = True
        self.rt.bus.publish_nowait(REPLICA_TOPIC, json.dumps(msg))

    @property
    def _node_name(self) -> str:
        return self.rt.settings.node_name

    # ---- what the others tell ----------------------------------------------------------------

    async def start_census(self) -> None:
        if not self.clustered:
            return
        await self.rt.bus.subscribe(REPLICA_TOPIC, self._on_rows)
        seconds = self.rt.settings.radar_census_seconds
        self._census = Repeating(self.rt.scheduler, self.rt.clock, seconds, self.send_census)
        hello = {"node": self._node_name, "op": "hello"}  # the others' census, now
        self.rt.bus.publish_nowait(REPLICA_TOPIC, json.dumps(hello))

    async def stop_census(self) -> None:
        if self._census is not None:
            self._census.cancel()
            self._census = None
            await self.rt.bus.unsubscribe(REPLICA_TOPIC, self._on_rows)

    def _on_rows(self, topic: str, payload: str) -> None:
        try:
            msg = json.loads(payload)
            node = str(msg["node"])
            if node == self._node_name:
                return
            if msg.get("op") == "hello":
                self.send_census()
                return
            now = self.rt.clock.now().timestamp()
            rows = [r for r in msg.get("rows", []) if isinstance(r, dict)]
            gone = [int(v) for v in msg.get("gone", [])]
            census = bool(msg.get("census"))
            self.replica.changed(node, rows, msg.get("tabs") or {}, gone, now, census=census)
        except (ValueError, KeyError, TypeError):
            log.warning("radar: a replica message that does not parse was dropped")

    def expire_replica(self) -> None:
        """Rows of another node not heard of for ``CENSUS_MISSES`` census periods go; this
        node's consoles with the visitors view open are told (the other nodes tell theirs)."""
        period = self.rt.settings.radar_census_seconds
        before = self.rt.clock.now().timestamp() - CENSUS_MISSES * period
        gone = [(v, s) for v, s in self.replica.expire(before) if v not in self.engine.visitors]
        if not gone:
            return
        hub = self.rt.hub
        hub.deliver(RADAR_TOPIC, RadarOut(gone=sorted(v for v, _ in gone)).frame())
        by_site: dict[int, list[int]] = {}
        for vid, site_id in gone:
            by_site.setdefault(site_id, []).append(vid)
        for site_id, vids in by_site.items():
            hub.deliver(radar_topic(site_id), RadarOut(gone=sorted(vids)).frame())

    # ---- reading -----------------------------------------------------------------------------

    def live_rows(self) -> list[dict[str, Any]]:
        """Every live visitor: the visits held here, and the other nodes' as last told."""
        return self.snapshots() + self.replica.rows(skip=self.engine.visitors)

    def live_row(self, visitor_id: int) -> dict[str, Any] | None:
        """The visitor's row, held here or elsewhere; None when not on the site now."""
        row = self.snapshot(visitor_id)
        if row is None and (kept := self.replica.get(visitor_id)) is not None:
            row = kept.row
        return row

    def held_elsewhere(self, visitor_id: int) -> Entry | None:
        """The replica's row of a visitor another node holds (None: held here, or not live)."""
        if visitor_id in self.engine.visitors:
            return None
        return self.replica.get(visitor_id)
