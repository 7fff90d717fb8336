"""Never aggressive: when a visitor may not be offered anything, and until when."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tresen.radar.facts import VisitorFacts
from tresen.radar.journey import Journey

if TYPE_CHECKING:
    from tresen.radar.engine import Offer
    from tresen.scheduler import TimerHandle

DAY = 24 * 3600.0
FOREVER = float("inf")


@dataclass(frozen=True)
class Policy:
    dismiss_cooldown: float = DAY  # after "no thanks", leave them alone this long
    after_chat: float = 4 * 3600.0  # no invitations for this long after a chat
    invite_expiry: float = 120.0  # an unanswered invitation counts as ignored after this
    max_per_day: int = 3  # frequency cap per visitor

    def blocked_until(self, st: VisitorState, now: float) -> float | None:
        """None if an offer may be made now; else when to look again (inf: on a new event)."""
        return _blocked_until(self, st, now)

    @classmethod
    def from_site(cls, data: dict[str, Any]) -> Policy:
        """A site's ``radar_policy`` (hours, counts; see ``POLICY_KEYS``) over the defaults."""
        base = cls()
        return cls(
            dismiss_cooldown=float(data.get("dismiss_hours", base.dismiss_cooldown / 3600)) * 3600,
            after_chat=float(data.get("after_chat_hours", base.after_chat / 3600)) * 3600,
            invite_expiry=float(data.get("invite_expiry_seconds", base.invite_expiry)),
            max_per_day=int(data.get("max_per_day", base.max_per_day)),
        )


POLICY_KEYS = ("dismiss_hours", "after_chat_hours", "invite_expiry_seconds", "max_per_day")


@dataclass(slots=True)
class VisitorState:
    facts: VisitorFacts
    chatting: bool = False
    chat_ended_at: float | None = None
    dismissed_at: float | None = None
    offered_page_view: int = -1
    offers: deque[float] = field(default_factory=lambda: deque(maxlen=32))
    outstanding: Offer | None = None
    paced: bool = False
    paced_weight: float = 0.0  # what this offer counts in pacing (1, or its rule's rate)
    timer: TimerHandle | None = None
    expiry: TimerHandle | None = None
    waiting_on: set[str | None] = field(default_factory=set)
    journey: Journey | None = None  # the visit's pages and tabs (None: engine-only tests)
    away: bool = False  # no tab open (a page load, or gone): nothing is offered
    held_out: set[int] = field(default_factory=set)  # rules this visit was held out of
    # the outstanding offer's row (once stored), when it was made and the tab showing it
    offer_id: int | None = None
    offer_at: float = 0.0
    offer_tab: str | None = None
    carried: dict[str, Any] | None = None  # an unanswered offer read back with the visit

    def record_offer(self, offer: Offer, now: float) -> None:
        self.outstanding = offer
        self.offer_id, self.offer_at, self.offer_tab = None, now, None
        self.offered_page_view = self.facts.page_view
        self.offers.append(now)

    def cancel_timers(self) -> None:
        for handle in (self.timer, self.expiry):
            if handle is not None:
                handle.cancel()
        self.timer = self.expiry = None

    def restraint(self) -> dict[str, Any]:
        """What must hold beyond this process and this visit (written with the visit)."""
        return {
            "chat_ended_at": self.chat_ended_at,
            "dismissed_at": self.dismissed_at,
            "offered_page_view": self.offered_page_view,
            "offers": list(self.offers),
            "held_out": sorted(self.held_out),
            "outstanding": self._outstanding(),
        }

    def _outstanding(self) -> dict[str, Any] | None:
        """The unanswered offer, so the node that takes the visit next carries it on."""
        offer = self.outstanding
        if offer is None or self.offer_id is None:
            return None
        return {
            "id": self.offer_id,
            "rule_id": offer.rule_id,
            "kind": offer.kind,
            "text": offer.text,
            "skill": offer.skill,
            "at": self.offer_at,
            "tab": self.offer_tab,
            "paced": self.paced,
        }

    def restore(self, data: dict[str, Any], *, same_visit: bool) -> None:
        self.chat_ended_at = data.get("chat_ended_at")
        self.dismissed_at = data.get("dismissed_at")
        self.offers.extend(float(t) for t in data.get("offers", []))
        if same_visit:
            self.offered_page_view = int(data.get("offered_page_view", -1))
            self.held_out = {int(r) for r in data.get("held_out", [])}
            carried = data.get("outstanding")
            self.carried = carried if isinstance(carried, dict) and "id" in carried else None

    def snapshot(self) -> dict[str, Any]:
        return {
            "chatting": self.chatting,
            "invited": self.outstanding is not None,
            "offers_today": len(self.offers),
        }


def _blocked_until(policy: Policy, st: VisitorState, now: float) -> float | None:
    if st.chatting or st.outstanding is not None or st.away:
        return FOREVER  # re-evaluated when the chat ends or the offer is answered
    if st.offered_page_view == st.facts.page_view:
        return FOREVER  # one offer per page view; the next page view re-evaluates
    ends = []
    if st.chat_ended_at is not None and now < st.chat_ended_at + policy.after_chat:
        ends.append(st.chat_ended_at + policy.after_chat)
    if st.dismissed_at is not None and now < st.dismissed_at + policy.dismiss_cooldown:
        ends.append(st.dismissed_at + policy.dismiss_cooldown)
    recent = [t for t in st.offers if now - t < DAY]
    if len(recent) >= policy.max_per_day:
        ends.append(recent[-policy.max_per_day] + DAY)
    return max(ends) if ends else None
