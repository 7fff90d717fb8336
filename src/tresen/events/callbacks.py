"""Callbacks as work items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tresen.events.base import Event


class CallbackEvent(Event):
    __slots__ = ()
    callback_id: int

    @property
    def key(self) -> object:
        return ("cb", self.callback_id)


@dataclass(frozen=True, slots=True)
class CallbackChanged(CallbackEvent):
    """A callback was requested (``created``), taken, rescheduled, noted or done."""

    callback_id: int
    site_id: int
    owner_id: int | None
    status: str
    remind_at: datetime | None
    created: bool = False


@dataclass(frozen=True, slots=True)
class CallbackDue(CallbackEvent):
    """A callback's reminder time came: its owner (or, unowned, every console) is told."""

    callback_id: int
    site_id: int
    owner_id: int | None
    phone: str
    conversation_id: int | None
