"""Full-text search across messages, for agents (docs/inbox.md).

The query is reduced to its words (letters and digits; everything else, FTS5 or tsquery syntax
included, is a separator), and a message matches when it holds every word. SQLite asks the FTS5
table ``messages_fts``; PostgreSQL the generated ``messages.search`` tsvector with
``websearch_to_tsquery('simple', ...)``; both tokenise the same way (lower case, diacritics
kept), so both find the same messages, newest first. Snippets and highlights are cut here, the
same way for both: plain text and offsets into it, never markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import site_ids_for
from tresen.errors import Invalid
from tresen.principal import Principal
from tresen.storage.models import Conversation, Message, Visitor

MAX_QUERY_CHARS = 500
MAX_TERMS = 12
MAX_RESULTS = 50
SNIPPET_CHARS = 160
WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Hit:
    conversation_id: int
    message_id: int
    seq: int
    author_kind: str
    internal: bool
    created_at: datetime
    visitor_name: str | None
    status: str
    snippet: str
    highlights: list[tuple[int, int]]  # [start, end) offsets into ``snippet``

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "seq": self.seq,
            "author_kind": self.author_kind,
            "internal": self.internal,
            "created_at": self.created_at.isoformat(),
            "visitor_name": self.visitor_name,
            "status": self.status,
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
        }


def terms_of(query: str) -> list[str]:
    """The words searched for, lower case, without repeats. A clear 400 for what cannot be."""
    if len(query) > MAX_QUERY_CHARS:
        raise Invalid(f"search: at most {MAX_QUERY_CHARS} characters", code="query_too_long")
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(query)))
    if not words:
        raise Invalid("search: give at least one word", code="empty_query")
    if len(words) > MAX_TERMS:
        raise Invalid(f"search: at most {MAX_TERMS} words", code="too_many_terms")
    return words


def quoted(terms: list[str]) -> str:
    """Each word a quoted string: neither FTS5 nor websearch_to_tsquery reads anything in it as
    syntax (terms hold no quotes), so "or", "near" or "not" are words like any other."""
    return " ".join(f'"{t}"' for t in terms)


async def search_messages(
    s: AsyncSession, who: Principal, query: str, *, limit: int = 20, before_id: int | None = None
) -> list[Hit]:
    terms = terms_of(query)
    limit = max(1, min(limit, MAX_RESULTS))
    sites = await site_ids_for(s, who)
    if s.get_bind().dialect.name == "sqlite":
        # Without a site scope the newest matches are taken inside FTS5 (its doclists run in
        # rowid order), so a common word does not first collect every message holding it.
        inner = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q"
        if before_id is not None:
            inner += " AND rowid < :before"
        if sites is None:
            inner += " ORDER BY rowid DESC LIMIT :n"
        match = text(f"messages.id IN ({inner})").bindparams(q=quoted(terms))
        if before_id is not None:
            match = match.bindparams(before=before_id)
        if sites is None:
            match = match.bindparams(n=limit)
    else:
        match = text("messages.search @@ websearch_to_tsquery('simple', :q)")
        match = match.bindparams(q=quoted(terms))
    stmt = (
        select(Message, Conversation.status, Visitor.name)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Visitor, Visitor.id == Conversation.visitor_id)
        .where(match)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if sites is not None:
        stmt = stmt.where(Conversation.site_id.in_(sites))
    if before_id is not None:
        stmt = stmt.where(and_(Message.id < before_id))
    rows = (await s.execute(stmt)).all()
    return [_hit(m, status, name, terms) for m, status, name in rows]


def _hit(m: Message, status: str, visitor_name: str | None, terms: list[str]) -> Hit:
    snippet, highlights = snippet_of(m.body, terms)
    return Hit(
        conversation_id=m.conversation_id,
        message_id=m.id,
        seq=m.seq,
        author_kind=m.author_kind,
        internal=m.internal,
        created_at=m.created_at,
        visitor_name=visitor_name,
        status=status,
        snippet=snippet,
        highlights=highlights,
    )


def snippet_of(body: str, terms: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """A window of the body around the first matched word, and where the words are in it."""
    wanted = set(terms)
    spans = [(w.start(), w.end()) for w in WORD.finditer(body) if w.group().lower() in wanted]
    start = 0
    if spans and len(body) > SNIPPET_CHARS:
        start = max(0, min(spans[0][0] - SNIPPET_CHARS // 4, len(body) - SNIPPET_CHARS))
    end = min(len(body), start + SNIPPET_CHARS)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(body) else ""
    shift = len(prefix) - start
    text_ = prefix + body[start:end] + suffix
    inside = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return text_, inside
