"""Offers on one node: recorded when a rule fires (shown in the focused tab), answered by the
visitor (accepting an invitation opens a chat), ignored when left unanswered; each outcome is
noted in the visit. Part of ``RadarService`` (``radar.live``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tresen.aio import spawn
from tresen.conversations.actions import do_open_from_offer
from tresen.conversations.wire import BOT_NAME
from tresen.errors import NotFound
from tresen.principal import Principal
from tresen.radar import actions
from tresen.radar.engine import Offer, RadarEngine
from tresen.radar.policy import VisitorState
from tresen.radar.replica import Entry
from tresen.radar.rules import Rule
from tresen.runtime import Runtime
from tresen.scheduler import TimerHandle
from tresen.storage.models import RadarOffer


class OfferDesk:
    rt: Runtime
    engine: RadarEngine
    _tabs: dict[int, dict[str, int]]
    _unsaved: dict[int, VisitorState]
    _offer_ids: dict[tuple[int, int], int]
    _offer_tabs: dict[int, str]
    _tab_timers: dict[tuple[int, str], TimerHandle]
    stopped: bool

    if TYPE_CHECKING:

        def changed(self, visitor_id: int) -> None: ...

        def relay_reply(
            self, visitor_id: int, offer_id: int, rule_id: int, outcome: str
        ) -> bool: ...

        async def _save_one(self, st: VisitorState) -> None: ...

        def held_elsewhere(self, visitor_id: int) -> Entry | None: ...

        def _send(self, node: str, msg: dict[str, Any]) -> None: ...

        def _tab_gone(self, visitor_id: int, tab: str) -> None: ...

    def _on_offer(self, offer: Offer) -> None:
        if not self.stopped:
            spawn(self._send_offer(offer), name="radar-offer")

    async def _send_offer(self, offer: Offer) -> None:
        st = self.engine.visitors.get(offer.visitor_id)
        site_id = st.facts.site_id if st else 0
        tab = self._focused_tab(offer.visitor_id)
        if tab is not None:
            self._offer_tabs[offer.visitor_id] = tab
        offer_id = await actions.do_record_offer(
            self.rt,
            rule_id=offer.rule_id,
            site_id=site_id,
            visitor_id=offer.visitor_id,
            kind=offer.kind,
            text=offer.text,
            skill=offer.skill,
            auto_open=offer.auto_open,
            quiet=offer.quiet,
            agent_name=offer.agent_name,
            agent_photo=offer.agent_photo,
            tab=tab,
        )  # OfferShown: the gateway's listener shows it to the visitor (in that tab)
        self._offer_ids[(offer.visitor_id, offer.rule_id)] = offer_id
        if st is not None and st.outstanding is offer:  # written with the visit: carried on
            st.offer_id, st.offer_tab = offer_id, tab
        if st is not None and st.journey is not None:
            at = self.rt.clock.now().timestamp()
            entry = {"id": offer_id, "rule_id": offer.rule_id, "kind": offer.kind, "at": at}
            st.journey.offers.append({**entry, "outcome": "shown", "answered_at": None})
            self._unsaved[offer.visitor_id] = st
        self.changed(offer.visitor_id)

    async def carry_offer(self, st: VisitorState) -> None:
        """A visit read back with an offer its former holder made and nobody answered yet
        (a clean stop's hand-over, or a holder that died): outstanding here, so the answer
        counts for that offer and its time runs out here (called before the engine tracks it)."""
        carried, st.carried = st.carried, None
        if carried is None:
            return
        async with self.rt.db.read() as s:
            row = await s.get(RadarOffer, int(carried["id"]))
        if row is None or row.outcome != "shown":
            return  # answered (or ignored) meanwhile
        vid = st.facts.visitor_id
        offer = self.engine.adopt(st, carried)
        self._offer_ids[(vid, offer.rule_id)] = row.id
        tab = st.offer_tab
        if tab is not None:
            self._offer_tabs[vid] = tab
            if tab not in self._tabs.get(vid, {}):  # not open here (yet): as if just closed
                grace = self.rt.clock.now().timestamp() + self.rt.settings.visit_grace_seconds
                self._tab_timers[(vid, tab)] = self.rt.scheduler.call_at(
                    grace, lambda: self._tab_gone(vid, tab)
                )

    async def invite(
        self,
        visitor_id: int,
        site_id: int,
        text: str,
        *,
        agent_id: int,
        agent_name: str | None,
        agent_photo: str | None,
    ) -> int:
        """An agent's invitation, asked on any node: shown in the visitor's focused tab (as
        the holder knows it, or as its last row said when another node holds the visit), and
        noted in the visit by the holder."""
        elsewhere = self.held_elsewhere(visitor_id)
        tab = elsewhere.tab if elsewhere is not None else self._focused_tab(visitor_id)
        offer_id = await actions.do_record_offer(
            self.rt,
            rule_id=None,
            site_id=site_id,
            visitor_id=visitor_id,
            kind="invite",
            text=text,
            agent_id=agent_id,
            agent_name=agent_name,
            agent_photo=agent_photo,  # shown by the widget
            tab=tab,
        )  # OfferShown: published to the visitor's sockets on every node
        if elsewhere is None:
            self.invited(visitor_id, offer_id)
        else:
            self._send(elsewhere.node, {"op": "invited", "v": visitor_id, "offer": offer_id})
        return offer_id

    def invited(self, visitor_id: int, offer_id: int) -> bool:
        """The holder notes an agent's invitation in the visit (False: not held here)."""
        st = self.engine.visitors.get(visitor_id)
        if st is None or st.journey is None:
            return False
        at = self.rt.clock.now().timestamp()
        entry = {"id": offer_id, "rule_id": None, "kind": "invite", "at": at, "manual": True}
        st.journey.offers.append({**entry, "outcome": "shown", "answered_at": None})
        self._unsaved[visitor_id] = st
        self.changed(visitor_id)
        return True

    def _on_held_out(self, visitor_id: int, rule: Rule) -> None:
        if not self.stopped:
            spawn(self._record_held_out(visitor_id, rule), name="radar-held-out")

    async def _record_held_out(self, visitor_id: int, rule: Rule) -> None:
        st = self.engine.visitors.get(visitor_id)
        site_id = st.facts.site_id if st else rule.site_id or 0
        offer_id = await actions.do_record_held_out(
            self.rt,
            rule_id=rule.id,
            site_id=site_id,
            visitor_id=visitor_id,
            kind=rule.spec.action.type,
        )  # OfferHeldOut
        if st is not None and st.journey is not None:
            at = self.rt.clock.now().timestamp()
            st.journey.offers.append(
                {
                    "id": offer_id,
                    "rule_id": rule.id,
                    "kind": rule.spec.action.type,
                    "at": at,
                    "outcome": "held_out",
                    "answered_at": None,
                }
            )
            self._unsaved[visitor_id] = st

    def _focused_tab(self, visitor_id: int) -> str | None:
        """The tab with the focus, else the one opened last."""
        st = self.engine.visitors.get(visitor_id)
        if st is not None and st.journey is not None and st.journey.focus_tab is not None:
            return st.journey.focus_tab
        tabs = list(self._tabs.get(visitor_id, {}))
        return tabs[-1] if tabs else None

    def _answered(self, visitor_id: int, offer_id: int, outcome: str) -> VisitorState | None:
        st = self.engine.visitors.get(visitor_id)
        if st is None or st.journey is None:
            return None
        for entry in st.journey.offers:
            if entry.get("id") == offer_id:
                entry["outcome"], entry["answered_at"] = outcome, self.rt.clock.now().timestamp()
        self._unsaved[visitor_id] = st
        return st

    def _on_outcome(self, visitor_id: int, rule_id: int, outcome: str) -> None:
        if outcome != "ignored":
            return
        offer_id = self._offer_ids.pop((visitor_id, rule_id), None)
        if offer_id is not None and not self.stopped:
            self._offer_tabs.pop(visitor_id, None)
            self._answered(visitor_id, offer_id, "ignored")
            spawn(actions.do_record_outcome(self.rt, offer_id, "ignored"), name="radar-ignored")

    async def reply(self, who: Principal, offer_id: int, outcome: str) -> int | None:
        """The visitor answered an offer. Accepting an invitation opens a conversation (the
        bot's offer one in bot mode, greeted by the bot)."""
        async with self.rt.db.read() as s:
            row = await s.get(RadarOffer, offer_id)
        if row is None or row.visitor_id != who.id:
            raise NotFound(f"no open offer {offer_id}", code="no_such_offer")
        opens_chat = outcome == "accepted" and row.kind != "message"
        if not await actions.do_record_outcome(self.rt, offer_id, outcome, opens_chat=opens_chat):
            raise NotFound(f"offer {offer_id} was already answered", code="no_such_offer")
        if not self.relay_reply(who.id, offer_id, row.rule_id or 0, outcome):
            await self._replied(who.id, offer_id, row.rule_id or 0, outcome)
        conversation_id = None
        if opens_chat:
            conv = await do_open_from_offer(
                self.rt,
                who,
                skill=row.skill,
                opening=row.text,
                assignee_id=row.agent_id,
                bot_name=BOT_NAME if row.kind == "bot" else None,
                offer_id=offer_id,
            )
            conversation_id = conv.id
            await actions.do_link_conversation(self.rt, offer_id, conv.id)
            self.engine.chat_started(who.id)  # also for agents' manual invitations
        self.changed(who.id)
        return conversation_id

    async def _replied(self, visitor_id: int, offer_id: int, rule_id: int, outcome: str) -> None:
        """The holder of the visit notes the answer (given here or on a relaying node). The
        outstanding offer is answered only by an answer to it (its rule's; an agent's
        invitation has none)."""
        held = self.engine.visitors.get(visitor_id)
        if held is not None and held.outstanding is not None and rule_id:
            if held.outstanding.rule_id == rule_id:
                self.engine.respond(visitor_id, outcome)  # type: ignore[arg-type]
                self._offer_tabs.pop(visitor_id, None)
        self._offer_ids.pop((visitor_id, rule_id), None)
        st = self._answered(visitor_id, offer_id, outcome)
        if st is not None and outcome == "dismissed":
            self._unsaved.pop(visitor_id, None)
            await self._save_one(st)  # "no thanks" holds across restarts: written at once
        self.changed(visitor_id)
