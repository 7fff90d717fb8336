"""FAQ matching: folded words, keywords over question words, a minimum score."""

from __future__ import annotations

from dataclasses import dataclass, field

from tresen.assist.bot import handover_note, wants_person
from tresen.assist.faq import MIN_SCORE, best_match, fold, guess_language, tokens
from tresen.storage.models import Message


@dataclass
class E:
    question: str
    answer: str
    keywords: list[str] = field(default_factory=list)
    language: str = "en"


FAQ = [
    E("Wie lange dauert der Versand?", "versand-de", ["Versand", "Lieferung", "Lieferzeit"], "de"),
    E("How long does shipping take?", "shipping-en", ["shipping", "delivery"], "en"),
    E(
        "Wie kann ich etwas zurückgeben?",
        "retoure-de",
        ["Rückgabe", "zurückgeben", "Retoure"],
        "de",
    ),
    E("My promo code does not work.", "promo-en", ["promo", "coupon", "voucher"], "en"),
    E("Åbningstider", "open-da", ["åbningstider", "åbent"], "da"),
]


def answer(text: str) -> str | None:
    m = best_match(FAQ, text, guess_language(text))
    return m.entry.answer if m else None


def test_folding_spells_out_umlauts_and_ignores_case() -> None:
    assert fold("RÜCKGABE Straße Øl Å") == "rueckgabe strasse oel aa"
    assert tokens("Wie lange dauert der Versand?") == ["versand"]


def test_german_with_and_without_umlauts() -> None:
    assert answer("Wie lange dauert der Versand?") == "versand-de"
    assert answer("Ich möchte etwas ZURÜCKGEBEN") == "retoure-de"
    assert answer("rueckgabe bitte") == "retoure-de"
    assert answer("Wann kommt meine Lieferung?") == "versand-de"
    assert answer("Versandkosten?") == "versand-de"  # a keyword as the start of a word


def test_english_and_danish() -> None:
    assert answer("how long is delivery to Hamburg") == "shipping-en"
    assert answer("The voucher code is not accepted") == "promo-en"
    assert answer("Hvad er jeres åbningstider?") == "open-da"


def test_no_answer_below_the_threshold() -> None:
    assert answer("Wie wird das Wetter morgen?") is None
    assert answer("hello?") is None
    assert answer("") is None
    one_question_word = E("Can I pay by invoice?", "invoice", [])
    assert best_match([one_question_word], "invoice") is None  # 1 < MIN_SCORE
    assert best_match([one_question_word], "pay by invoice") is not None
    assert MIN_SCORE == 2


def test_ties_go_to_the_visitors_language() -> None:
    twins = [E("Versand", "de", ["shipping"], "de"), E("Shipping", "en", ["shipping"], "en")]
    assert best_match(twins, "shipping", "de").entry.answer == "de"  # type: ignore[union-attr]
    assert best_match(twins, "shipping", "en").entry.answer == "en"  # type: ignore[union-attr]


def test_language_guess() -> None:
    assert guess_language("Wie lange dauert der Versand?") == "de"
    assert guess_language("How long does shipping take?") == "en"
    assert guess_language("Hvor lang tid tager det?") == "da"
    assert guess_language("12345") == "en"


def test_asking_for_a_person() -> None:
    for text in ("Mensch bitte", "I want a HUMAN", "agent", "Kan jeg tale med et menneske?"):
        assert wants_person(text), text
    assert not wants_person("Wie lange dauert der Versand?")


def test_handover_note_summarises_the_conversation() -> None:
    history = [
        Message(author_kind="visitor", body="Wie lange dauert der Versand?"),
        Message(author_kind="bot", body="2 bis 3 Tage."),
        Message(author_kind="visitor", body="Und nach Österreich?"),
    ]
    note = handover_note(history, "no_answer")
    assert note.splitlines() == [
        "Handed over by the bot: the bot could not answer 2 questions.",
        "The visitor asked:",
        "- Wie lange dauert der Versand?",
        "- Und nach Österreich?",
        "The bot answered:",
        "- 2 bis 3 Tage.",
    ]
