"""Suggestion ranking with figures computed by hand: BM25 (k1 1.2, b 0.75) normalised to the
best score a query allows, the boost per pick, the other-language factor, who sees what."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from tresen.assist.bm25 import Bm25Index
from tresen.assist.canned_actions import fill
from tresen.assist.suggest import Item, Suggester, answer_pairs
from tresen.assist.text import plain_text, render_markdown, terms


def test_one_term_at_average_length_scores_one_over_k1_plus_one() -> None:
    ix = Bm25Index()
    ix.add("d1", ["ship", "cost"])
    ix.add("d2", ["return", "label"])
    assert ix.idf("ship") == pytest.approx(math.log(2))  # ln(1 + (2 - 1 + 0.5) / (1 + 0.5))
    # tf 1, length = average: idf * 2.2 / (1 + 1.2) = idf; the ceiling is idf * 2.2.
    assert ix.search(["ship"]) == [("d1", pytest.approx(1 / 2.2))]


def test_term_frequency_saturates() -> None:
    ix = Bm25Index()
    ix.add("d1", ["ship", "ship"])
    ix.add("d2", ["cost", "label"])
    # tf 2 at the average length: 2 * 2.2 / (2 + 1.2) = 1.375 idf; / 2.2 = 0.625
    assert ix.search(["ship"]) == [("d1", pytest.approx(0.625))]


def test_shorter_document_ranks_first() -> None:
    ix = Bm25Index()
    ix.add("long", ["ship", "a", "b", "c"])
    ix.add("short", ["ship", "x"])
    # avgdl 3. long: norm 1.2 * (0.25 + 0.75 * 4/3) = 1.5 -> 2.2 / 2.5 = 0.88 -> 0.4
    # short: norm 1.2 * (0.25 + 0.75 * 2/3) = 0.9 -> 2.2 / 1.9 -> 0.5263
    found = ix.search(["ship"])
    assert [k for k, _ in found] == ["short", "long"]
    assert found[0][1] == pytest.approx(1 / 1.9)
    assert found[1][1] == pytest.approx(0.4)


def test_two_query_terms_share_the_ceiling() -> None:
    ix = Bm25Index()
    ix.add("d1", ["ship", "cost"])
    ix.add("d2", ["ship", "time"])
    ix.add("d3", ["return", "label"])
    idf_ship, idf_cost = math.log(1 + 1.5 / 2.5), math.log(1 + 2.5 / 1.5)
    # All at the average length 2: each matched term adds its idf.
    best = ix.search(["ship", "cost"])
    assert best[0] == ("d1", pytest.approx((idf_ship + idf_cost) / ((idf_ship + idf_cost) * 2.2)))
    assert best[1] == ("d2", pytest.approx(idf_ship / ((idf_ship + idf_cost) * 2.2)))


def test_incremental_add_replace_remove() -> None:
    ix = Bm25Index()
    ix.add("d1", ["ship", "cost"])
    ix.add("d2", ["ship"])
    ix.add("d1", ["gift", "wrap"])  # replaced, not added twice
    assert len(ix) == 2 and ix.total_length == 3
    assert [k for k, _ in ix.search(["ship"])] == ["d2"]
    assert [k for k, _ in ix.search(["gift"])] == ["d1"]
    ix.remove("d1")
    assert ix.search(["gift"]) == [] and "gift" not in ix.postings
    ix.remove("nothing")  # absent: no error
    assert len(ix) == 1 and ix.total_length == 1


def canned(sg: Suggester, cid: int, body: str, owner: int | None = None) -> None:
    sg.put(Item("canned", cid, "Late", body, "en", owner_id=owner), body)


def test_each_pick_boosts_by_a_quarter_up_to_four() -> None:
    sg = Suggester()
    canned(sg, 1, "parcel late sorry one")
    canned(sg, 2, "parcel late sorry two")
    base = {s.item.id: s.score for s in sg.suggest("my parcel is late", 1, None, "en")}
    assert base[1] == pytest.approx(base[2])
    sg.count_pick("canned", 2)
    ranked = sg.suggest("my parcel is late", 1, None, "en")
    assert [s.item.id for s in ranked] == [2, 1]
    assert ranked[0].score == pytest.approx(base[2] * 1.25)
    for _ in range(9):
        sg.count_pick("canned", 2)
    assert sg.suggest("my parcel is late", 1, None, "en")[0].score == pytest.approx(base[2] * 2)


def test_article_in_another_language_counts_four_fifths() -> None:
    sg = Suggester()
    # "service" stems to "servic" in English and German alike.
    sg.put(Item("kb", 1, "Service", "Our service", "en", site_id=7), "service hours")
    sg.put(Item("kb", 2, "Service", "Unser Service", "de", site_id=7), "service zeiten")
    found = {s.item.id: s.score for s in sg.suggest("service", 7, None, "en")}
    assert found[2] == pytest.approx(found[1] * 0.8)
    assert sg.suggest("service", 8, None, "en") == []  # another site's articles


def test_personal_canned_only_for_its_owner_and_same_text_once() -> None:
    sg = Suggester()
    canned(sg, 1, "refund within thirty days", owner=5)
    canned(sg, 2, "refund within thirty days")  # the same text, shared
    assert [s.item.id for s in sg.suggest("refund", 1, 6, "en")] == [2]
    assert len(sg.suggest("refund", 1, 5, "en")) == 1  # the same words are suggested once


def test_below_the_minimum_nothing_is_suggested() -> None:
    sg = Suggester()
    filler = " ".join(f"w{i}" for i in range(40))
    canned(sg, 1, f"parcel {filler}")  # 41 terms
    canned(sg, 2, "returns label")
    canned(sg, 3, "voucher gift")
    # N 3, every query term in one document: idf ln(1 + 2.5 / 1.5); avgdl (41 + 2 + 2) / 3 = 15.
    # 1: norm 1.2 * (0.25 + 0.75 * 41 / 15) = 2.76 -> 2.2 / 3.76 / (3 * 2.2) = 0.0887 < 0.15
    # 3: norm 1.2 * (0.25 + 0.75 * 2 / 15) = 0.42 -> 2 * 2.2 / 1.42 / (3 * 2.2) = 0.4695
    found = sg.suggest("parcel gift voucher", 1, None, "en")
    assert [(s.item.id, round(s.score, 4)) for s in found] == [(3, 0.4695)]
    # A word no document has does not lower the score.
    assert sg.suggest("gift voucher zzyzx", 1, None, "en")[0].score == pytest.approx(1 / 1.42)


def msg(kind: str, body: str, mid: int, internal: bool = False) -> SimpleNamespace:
    return SimpleNamespace(author_kind=kind, body=body, id=mid, internal=internal)


def test_answer_pairs_join_the_visitors_questions_before_each_answer() -> None:
    history = [
        msg("agent", "Hello!", 1),  # nothing asked yet: not an answer
        msg("visitor", "Do you ship to Norway?", 2),
        msg("visitor", "And Iceland?", 3),
        msg("system", "Ben joined", 4),
        msg("agent", "note", 5, internal=True),
        msg("agent", "Both, in 5 days.", 6),
        msg("agent", "Anything else?", 7),  # a second answer to the same question: skipped
        msg("visitor", "How much?", 8),
        msg("agent", "9 euros.", 9),
    ]
    pairs = [(q, m.id) for q, m in answer_pairs(history)]  # type: ignore[arg-type]
    assert pairs == [("Do you ship to Norway? And Iceland?", 6), ("How much?", 9)]


def test_terms_fold_stem_and_drop_stop_words() -> None:
    assert terms("Wie hoch sind die Versandkosten?", "de") == ["hoch", "versandkost"]
    assert terms("Versandkösten", "de") == terms("versandkoesten", "de")
    assert terms("How long does shipping take?", "en") == ["ship", "take"]
    assert terms("Hvornår kommer pakken?", "da") == ["kom", "pak"]


def test_markdown_is_rendered_and_sanitised() -> None:
    html = render_markdown(
        "**Bold** <img src=x onerror=alert(1)> [a](javascript:x) [b](https://b.example)"
    )
    assert "<strong>Bold</strong>" in html
    assert "<img" not in html and "javascript:" not in html.replace("[a](javascript:x)", "")
    assert '<a href="https://b.example" rel="noopener noreferrer nofollow">b</a>' in html
    assert plain_text("# Title\n\n- one & two\n- three", 14) == "Title one & t…"


def test_fill_variables_with_fallbacks() -> None:
    values = {
        "visitor.name": "Lena",
        "agent.name": "Ben",
        "site.name": "Shop",
        "visitor.email": None,
    }
    assert (
        fill("Hi {{visitor.name}}, {{ agent.name }} of {{site.name}}", values)
        == "Hi Lena, Ben of Shop"
    )
    assert fill("Mail: {{visitor.email}}", values) == "Mail: your email"
    assert fill("Hallo {{visitor.name}}, gern!", {}, "de") == "Hallo, gern!"
    assert fill("{{order.id}} stays", values) == "{{order.id}} stays"


def test_dead_slots_are_compacted_and_scores_stay_exact() -> None:
    ix = Bm25Index()
    ix.add("d2", ["return", "label"])
    for i in range(1500):  # the same document changed 1,500 times
        ix.add("d1", ["ship", f"v{i}"])
    assert len(ix._keys) < 1500  # compacted: not one slot per version
    assert ix.search(["ship"]) == [("d1", pytest.approx(1 / 2.2))]
    assert ix.search(["v3"]) == [] and ix.search(["v1499"])[0][0] == "d1"
