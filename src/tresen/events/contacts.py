"""Contacts and retention."""

from __future__ import annotations

from dataclasses import dataclass

from tresen.events.base import Event


class ContactEvent(Event):
    __slots__ = ()
    contact_id: int

    @property
    def key(self) -> object:
        return ("ct", self.contact_id)


@dataclass(frozen=True, slots=True)
class ContactCreated(ContactEvent):
    contact_id: int
    site_id: int
    via: str  # visitor | identify | email | api | import | split


@dataclass(frozen=True, slots=True)
class ContactUpdated(ContactEvent):
    """Fields, identities, notes or tags of a contact changed (``fields`` names which)."""

    contact_id: int
    site_id: int
    fields: tuple[str, ...]
    via: str  # identify | api | import | merge | split | email


@dataclass(frozen=True, slots=True)
class ContactsMerged(ContactEvent):
    """``merged_id`` was folded into ``contact_id`` and no longer exists."""

    contact_id: int
    site_id: int
    merged_id: int
    by: int | None


@dataclass(frozen=True, slots=True)
class ContactErased(ContactEvent):
    """A person was erased (GDPR): their contact no longer exists."""

    contact_id: int
    site_id: int
    by: int | None


@dataclass(frozen=True, slots=True)
class ConversationsPurged(Event):
    """The retention deleted ``count`` old conversations of a site; ``created_hours``: the hours
    (since the epoch) they were created in, whose report rollups are recomputed."""

    site_id: int
    count: int
    created_hours: tuple[int, ...]
