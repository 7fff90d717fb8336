"""Inbox work and channels: tags, snooze, deliveries, transcripts, mailboxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tresen.events.base import ConversationEvent, ConversationState, Event


@dataclass(frozen=True, slots=True)
class ConversationTagged(ConversationEvent):
    """Tags were added to or removed from a conversation; ``tags`` is the set after the change."""

    conversation: ConversationState
    added: tuple[str, ...]
    removed: tuple[str, ...]
    tags: tuple[str, ...]
    by_agent_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationSnoozed(ConversationEvent):
    """An agent snoozed it until ``conversation.snoozed_until``: out of the active views."""

    conversation: ConversationState
    by_agent_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationWoke(ConversationEvent):
    """A snooze ended: its time came (``time``), the visitor wrote, or an agent woke it."""

    conversation: ConversationState
    reason: Literal["time", "visitor", "agent"]


@dataclass(frozen=True, slots=True)
class MessageDeliveryChanged(ConversationEvent):
    """A message's delivery on its channel (an email) moved: ``sending`` again after a failure
    (``retry``), ``sent``, ``failed`` for good (``error`` says why), or ``skipped`` (read in
    the chat before a follow-up mail was due)."""

    conversation: ConversationState
    message_id: int
    seq: int
    channel: str
    state: str  # retry | sent | failed | skipped
    attempts: int
    error: str | None
    external_id: str | None


@dataclass(frozen=True, slots=True)
class TranscriptRequested(ConversationEvent):
    """The visitor (at the end of a chat) or an agent asked for the chat's transcript by email:
    an outbox row for the note ``message_id`` is committed; the worker sends it now."""

    conversation: ConversationState
    message_id: int
    seq: int
    by: str  # visitor | agent


@dataclass(frozen=True, slots=True)
class MailboxChanged(Event):
    """A site's mailbox settings were saved: readers reconnect with them."""

    site_id: int

    @property
    def key(self) -> object:
        return ("s", self.site_id)
