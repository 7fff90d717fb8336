"""One copy of a visit across nodes: the node that holds it, and the others that relay to it.

With Redis (several nodes), a visitor's visit is held by one node at a time (``Presence.claim``
on ``visit:<visitor>``): its engine alone keeps the visit's state, evaluates the rules, counts
the tabs, makes the offers and writes the visit through. A socket of the visitor that lands on
another node is relayed: that node forwards the tab opening and closing, the tracking frames and
the answers to offers to the holder over the bus (``radar:node:<name>``, in order), and keeps no
state of its own; offers and chat frames reach every tab through the visitor's topic as before.
So two tabs on two nodes are one visit: one row in the live list, one tab count, one
invitation (in the focused tab), one "no thanks".

The holder lets go when the visitor has no tab open anywhere (after writing the visit through),
so the next page load may land anywhere and read the visit back; a node that then takes it tells
the others (``radar:visits``), and a node still keeping an idle copy drops it without a word. A
node that stops writes its visits through and hands them to the nodes relaying their tabs; a node
that died is taken over at the visitor's next page load once its heartbeat has lapsed
(``NODE_TTL``). On one node (no Redis) there is nothing to claim or relay.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from tresen.aio import cancel_task
from tresen.principal import Principal
from tresen.radar.engine import RadarEngine
from tresen.radar.replica import Replica
from tresen.realtime.protocol import TrackIn
from tresen.runtime import Runtime
from tresen.scheduler import TimerHandle

log = logging.getLogger(__name__)
NODE_TOPIC = "radar:node:"  # frames for the visits one node holds
VISITS_TOPIC = "radar:visits"  # which node took a visit, which node let its visits go


def visit_key(visitor_id: int) -> str:
    return f"visit:{visitor_id}"


class HolderDesk:
    """Part of ``RadarService`` (``radar.live``): who holds a visit, and relaying to it."""

    rt: Runtime
    engine: RadarEngine
    _tabs: dict[int, dict[str, int]]
    _leaving: dict[int, TimerHandle]
    _tab_timers: dict[tuple[int, str], TimerHandle]
    _offer_tabs: dict[int, str]
    _offer_ids: dict[tuple[int, int], int]
    replica: Replica
    _dirty: set[int]
    _unsaved: dict[int, Any]
    _locks: dict[int, asyncio.Lock]
    _relayed: dict[int, str]  # visitor -> the node holding the visit, for sockets relayed here
    _relay_tabs: dict[int, dict[str, int]]  # visitor -> tab -> sockets here, relayed
    _inbox: asyncio.Queue[dict[str, Any]]
    _consumer: asyncio.Task[None] | None

    if TYPE_CHECKING:

        async def _hold_open(
            self, who: Principal, tab: str, visitor: Any = None, *, new: bool = False
        ) -> bool: ...

        async def _hold_close(self, who: Principal, tab: str) -> None: ...

        async def track(self, who: Principal, frame: TrackIn, tab: str = "") -> None: ...

        async def _replied(
            self, visitor_id: int, offer_id: int, rule_id: int, outcome: str
        ) -> None: ...

        def invited(self, visitor_id: int, offer_id: int) -> bool: ...

        def answer_rule_test(self, msg: dict[str, Any]) -> None: ...

        def rule_tested(self, msg: dict[str, Any]) -> None: ...

    @property
    def clustered(self) -> bool:
        return bool(self.rt.settings.redis_url)

    # ---- the visitor's sockets on this node --------------------------------------------------

    async def visitor_connected(
        self, who: Principal, tab: str, visitor: Any = None, *, new: bool = False
    ) -> None:
        """A socket of ``tab`` opened here: the visit is held here (picked up from memory or
        as stored), or relayed to the node holding it. ``visitor``: the row, if just read;
        ``new``: created by this socket's handshake (no visit or chat of it to read back)."""
        holder = await self._holder(who)
        if holder is None and not await self._hold_open(who, tab, visitor, new=new):
            holder = await self._holder(who)  # an idle copy here was taken meanwhile
            if holder is None:
                await self._hold_open(who, tab, visitor, new=new)
        if holder is None:
            return
        tabs = self._relay_tabs.setdefault(who.id, {})
        tabs[tab] = tabs.get(tab, 0) + 1
        self._send(holder, {"op": "open", "v": who.id, "tab": tab})

    async def visitor_disconnected(self, who: Principal, tab: str) -> None:
        holder = self._relayed.get(who.id)
        if holder is None:
            await self._hold_close(who, tab)
            return
        tabs = self._relay_tabs.get(who.id, {})
        left = tabs.get(tab, 0) - 1
        if left > 0:
            tabs[tab] = left
        else:
            tabs.pop(tab, None)
        if not tabs:
            self._relay_tabs.pop(who.id, None)
            self._relayed.pop(who.id, None)
        self._send(holder, {"op": "close", "v": who.id, "tab": tab})

    def relayed_to(self, visitor_id: int) -> str | None:
        """The node holding the visit of a visitor whose sockets here are relayed, if any."""
        return self._relayed.get(visitor_id)

    def relay_track(self, who: Principal, frame: TrackIn, tab: str) -> bool:
        holder = self._relayed.get(who.id)
        if holder is not None:
            data = frame.model_dump(mode="json")
            self._send(holder, {"op": "track", "v": who.id, "tab": tab, "f": data})
        return holder is not None

    def relay_reply(self, visitor_id: int, offer_id: int, rule_id: int, outcome: str) -> bool:
        holder = self._relayed.get(visitor_id)
        if holder is not None:
            msg = {"op": "replied", "v": visitor_id, "offer": offer_id, "rule": rule_id}
            self._send(holder, {**msg, "outcome": outcome})
        return holder is not None

    async def _holder(self, who: Principal) -> str | None:
        """None when this node holds the visit (now); else the node that does."""
        if not self.clustered:
            return None
        st = self.engine.visitors.get(who.id)
        if st is not None and not st.away:
            return None  # held here with a tab open: never let go meanwhile
        try:
            holder = await self.rt.presence.claim(visit_key(who.id))
        except Exception:  # Redis away: this node keeps a copy of its own meanwhile
            log.warning("radar: could not claim visitor %s's visit; held here", who.id)
            holder = None
        if holder is None:
            moved = self._relay_tabs.pop(who.id, {})
            if self._relayed.pop(who.id, None) is not None or st is None:
                self._announce({"op": "taken", "v": who.id, "node": self._node})
                self.replica.taken(who.id, self._node)
            for tab, sockets in moved.items():  # the old holder is gone: its tabs are here
                for _ in range(sockets):
                    await self._hold_open(who, tab)
            return None
        if st is not None:
            await self._drop_copy(who.id)
        self._relayed[who.id] = holder
        return holder

    # ---- the bus -----------------------------------------------------------------------------

    @property
    def _node(self) -> str:
        return self.rt.settings.node_name

    async def start_holding(self) -> None:
        if not self.clustered:
            return
        self._inbox = asyncio.Queue()
        self._consumer = asyncio.get_running_loop().create_task(
            self._consume(), name="radar-holder"
        )
        await self.rt.bus.subscribe(NODE_TOPIC + self._node, self._on_bus)
        await self.rt.bus.subscribe(VISITS_TOPIC, self._on_bus)

    async def stop_holding(self) -> None:
        """After the visits were written through: the nodes relaying their tabs take them."""
        if not self.clustered:
            return
        for vid in list(self.engine.visitors):
            await self.let_go(vid)
            self._announce({"op": "released", "v": vid, "node": self._node})
        await self.rt.bus.flush()
        await self.rt.bus.unsubscribe(NODE_TOPIC + self._node, self._on_bus)
        await self.rt.bus.unsubscribe(VISITS_TOPIC, self._on_bus)
        await cancel_task(self._consumer)

    async def let_go(self, visitor_id: int) -> None:
        """No tab of the visitor is open anywhere and the visit is written: anyone may take it."""
        if self.clustered:
            try:
                await self.rt.presence.release(visit_key(visitor_id))
            except Exception:  # Redis away: still held here; a later claim here finds it so
                log.warning("radar: could not let go of visitor %s's visit", visitor_id)

    def _send(self, node: str, msg: dict[str, Any]) -> None:
        self.rt.bus.publish_nowait(NODE_TOPIC + node, json.dumps(msg))

    def _announce(self, msg: dict[str, Any]) -> None:
        self.rt.bus.publish_nowait(VISITS_TOPIC, json.dumps(msg))

    def _on_bus(self, topic: str, payload: str) -> None:
        try:
            msg = json.loads(payload)
        except ValueError:
            return
        if isinstance(msg, dict) and msg.get("node") != self._node:
            self._inbox.put_nowait(msg)

    async def _consume(self) -> None:
        """One message at a time, in the order they came: a tab's frames stay in order."""
        while True:
            msg = await self._inbox.get()
            try:
                await self._handle(msg)
            except Exception:
                log.exception("radar: could not handle %s from another node", msg.get("op"))

    async def _handle(self, msg: dict[str, Any]) -> None:
        op, who = msg.get("op"), Principal("visitor", int(msg["v"]))
        if op == "open":
            await self.visitor_connected(who, str(msg["tab"]))
        elif op == "close":
            await self.visitor_disconnected(who, str(msg["tab"]))
        elif op == "track":
            await self.track(who, TrackIn.model_validate(msg["f"]), str(msg["tab"]))
        elif op == "replied":
            outcome, rule_id = str(msg["outcome"]), int(msg["rule"])
            if not self.relay_reply(who.id, int(msg["offer"]), rule_id, outcome):
                await self._replied(who.id, int(msg["offer"]), rule_id, outcome)
        elif op == "invited":  # an agent on another node invited a visitor held here
            forward = self._relayed.get(who.id)
            if not self.invited(who.id, int(msg["offer"])) and forward is not None:
                self._send(forward, msg)  # the visit moved on meanwhile
        elif op == "test_rule":  # another node's rule test of a visitor held here
            self.answer_rule_test(msg)
        elif op == "rule_tested":
            self.rule_tested(msg)
        elif op == "taken":
            self.replica.taken(who.id, str(msg.get("node")))
            await self._drop_copy(who.id)
        elif op == "released" and self._relayed.get(who.id) == msg.get("node"):
            self._relayed.pop(who.id, None)
            holder = await self._holder(who)  # the first relaying node takes it
            if holder is not None:  # the others relay to it
                for tab, sockets in self._relay_tabs.get(who.id, {}).items():
                    for _ in range(sockets):
                        self._send(holder, {"op": "open", "v": who.id, "tab": tab})

    async def still_mine(self, visitor_id: int) -> bool:
        """Resuming an idle copy (its claim was let go): claim it again, or drop the copy when
        another node took the visit meanwhile (called under the visitor's lock)."""
        if not self.clustered:
            return True
        try:
            holder = await self.rt.presence.claim(visit_key(visitor_id))
        except Exception:
            log.warning("radar: could not claim visitor %s's visit; held here", visitor_id)
            return True
        if holder is not None:
            await self._drop_copy(visitor_id)
        return holder is None

    async def _drop_copy(self, visitor_id: int) -> None:
        """Another node took the visit: an idle copy kept here goes, without a word (the
        visitor did not leave)."""
        st = self.engine.visitors.get(visitor_id)
        if st is None or not st.away:
            return
        handle = self._leaving.pop(visitor_id, None)
        if handle is not None:
            handle.cancel()
        for key in [k for k in self._tab_timers if k[0] == visitor_id]:
            self._tab_timers.pop(key).cancel()
        self.engine.forget(visitor_id, handed_over=True)  # an unanswered offer goes on there
        for offered in [k for k in self._offer_ids if k[0] == visitor_id]:
            del self._offer_ids[offered]
        self._tabs.pop(visitor_id, None)
        self._offer_tabs.pop(visitor_id, None)
        self._dirty.discard(visitor_id)
        self._unsaved.pop(visitor_id, None)
        self._locks.pop(visitor_id, None)
