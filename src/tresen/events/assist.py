"""Agent assist: knowledge base, canned responses, suggestions, deflection."""

from __future__ import annotations

from dataclasses import dataclass

from tresen.events.base import Event
from tresen.events.visitors import VisitorEvent


@dataclass(frozen=True, slots=True)
class ArticleChanged(Event):
    """A knowledge-base article was created, changed or deleted (``deleted``)."""

    article_id: int
    site_id: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class CannedChanged(Event):
    """A canned response was created, changed or deleted (``deleted``)."""

    canned_id: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class SuggestionPicked(Event):
    """An agent inserted a suggestion (``source`` kb | canned | answer) into a reply."""

    agent_id: int
    conversation_id: int | None
    source: str
    item_id: int


@dataclass(frozen=True, slots=True)
class ArticleRead(VisitorEvent):
    """A visitor opened a knowledge-base article in the widget."""

    visitor_id: int
    site_id: int
    article_id: int


@dataclass(frozen=True, slots=True)
class ChatDeflected(VisitorEvent):
    """A visitor said an article answered their question, without starting a chat."""

    visitor_id: int
    site_id: int
    article_id: int
