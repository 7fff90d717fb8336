"""Visitors and Web Radar: arrivals, page views, offers and their answers, rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tresen.events.base import Event


class VisitorEvent(Event):
    __slots__ = ()
    visitor_id: int

    @property
    def key(self) -> object:
        return ("v", self.visitor_id)


@dataclass(frozen=True, slots=True)
class VisitorArrived(VisitorEvent):
    """The visitor's first socket on this node opened."""

    visitor_id: int
    site_id: int
    returning: bool


@dataclass(frozen=True, slots=True)
class PageViewed(VisitorEvent):
    visitor_id: int
    site_id: int
    url: str
    title: str | None
    referrer: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class VisitorLeft(VisitorEvent):
    """The visitor's last socket on this node closed."""

    visitor_id: int
    site_id: int


@dataclass(frozen=True, slots=True)
class OfferShown(VisitorEvent):
    """An invitation, message or bot offer was recorded and is shown to the visitor.
    ``agent_id`` marks an agent's manual invitation."""

    offer_id: int
    visitor_id: int
    site_id: int
    rule_id: int | None
    kind: str
    text: str
    auto_open: bool = False
    quiet: bool = False
    agent_id: int | None = None
    agent_name: str | None = None
    agent_photo: str | None = None
    tab: str | None = None  # shown in this tab only (the focused one); None: every tab


@dataclass(frozen=True, slots=True)
class OfferHeldOut(VisitorEvent):
    """A rule matched a visitor of its control group: nothing was shown (for the lift)."""

    offer_id: int
    visitor_id: int
    site_id: int
    rule_id: int | None


@dataclass(frozen=True, slots=True)
class OfferAccepted(VisitorEvent):
    offer_id: int
    visitor_id: int
    rule_id: int | None
    conversation_id: int | None


@dataclass(frozen=True, slots=True)
class OfferDismissed(VisitorEvent):
    offer_id: int
    visitor_id: int
    rule_id: int | None


@dataclass(frozen=True, slots=True)
class OfferIgnored(VisitorEvent):
    """Shown and left unanswered until the visitor moved on."""

    offer_id: int
    visitor_id: int
    rule_id: int | None


@dataclass(frozen=True, slots=True)
class RulesChanged(Event):
    """A radar rule was created, changed, reordered or deleted."""

    rule_id: int | None
