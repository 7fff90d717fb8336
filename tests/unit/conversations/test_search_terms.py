"""Search input: any text becomes plain words or a clear error, and the quoted words are never
FTS5 syntax (checked against SQLite's FTS5 itself); snippets' offsets point at the words."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tresen.conversations.search import quoted, snippet_of, terms_of
from tresen.errors import Invalid


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61 remove_diacritics 0')")
    db.executemany(
        "INSERT INTO t(body) VALUES (?)",
        [("near the order",), ("über alles",), ("NOT or AND",), ('say "hi"*',)],
    )
    return db


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_words_or_a_clear_error(fts: sqlite3.Connection, query: str) -> None:
    try:
        terms = terms_of(query)
    except Invalid as e:
        assert e.code in {"empty_query", "query_too_long", "too_many_terms"}
        return
    assert terms and all(t.isalnum() and t == t.lower() for t in terms)
    fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (quoted(terms),)).fetchall()


def test_operators_are_words(fts: sqlite3.Connection) -> None:
    def found(q: str) -> list[int]:
        rows = fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (quoted(terms_of(q)),))
        return sorted(r[0] for r in rows)

    assert found("NEAR(order") == [1]
    assert found("not OR and") == [3]
    assert found('"hi"*') == [4]
    assert found("über") == [2] and found("uber") == []


def test_limits() -> None:
    with pytest.raises(Invalid, match="at most 500"):
        terms_of("x" * 501)
    with pytest.raises(Invalid, match="at most 12 words"):
        terms_of(" ".join(f"w{i}" for i in range(13)))
    assert terms_of("Order order ORDER") == ["order"]


def test_snippet_offsets_mark_the_words() -> None:
    text, spans = snippet_of("Wo ist <b>meine</b> Bestellung?", ["bestellung", "b"])
    assert text == "Wo ist <b>meine</b> Bestellung?"
    assert [text[a:b] for a, b in spans] == ["b", "b", "Bestellung"]
    long = "a " * 200 + "Ziel " + "z " * 200
    text, spans = snippet_of(long, ["ziel"])
    assert text.startswith("…") and text.endswith("…") and len(text) <= 162
    assert [text[a:b] for a, b in spans] == ["Ziel"]
