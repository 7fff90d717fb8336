"""Matching a visitor's message to a site's FAQ: normalised keyword and word overlap, no ML.

German, English and Danish: case- and accent-insensitive (``ä`` = ``ae``, ``ø`` = ``oe``, ``ß`` =
``ss``), stop words dropped, and a word matches another when one is a prefix of the other (at
least 4 letters, so ``Versand`` finds ``versandkosten``) or both share their first 6 letters
(``Lieferung`` / ``Lieferzeit``). Below ``MIN_SCORE`` there is no answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MIN_SCORE = 2.0  # one keyword, or two words of the question
KEYWORD_WEIGHT = 2.0
QUESTION_WEIGHT = 1.0
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})
_WORD = re.compile(r"[a-z0-9]+")

STOP_WORDS = {
    "de": set(
        "der die das den dem des ein eine einer einen einem ich du sie er es wir ihr mein meine "
        "ist sind bin war wie was wo wann warum wer kann koennen muss ich mir mich mit und oder "
        "aber fuer von zu zum zur im in am an auf aus bei bitte danke hallo hi nicht noch schon "
        "auch ja nein gibt habe hat haben wird werden lange lang dauert man es sich so da".split()
    ),
    "en": set(
        "the a an i you he she it we they my your is are am was how what where when why who can "
        "could do does did to for of in on at and or but with please thanks thank hello hi not "
        "yet also yes no have has will would me there this that be long".split()
    ),
    "da": set(
        "den det de en et jeg du han hun vi min mit er var hvordan hvad hvor hvornaar hvorfor "
        "hvem kan skal vil med og eller men til for af paa i hej tak ikke ogsaa ja nej har have "
        "mig der lang lange tager".split()
    ),
}
_ALL_STOP = set().union(*STOP_WORDS.values())


class Entry(Protocol):
    question: str
    answer: str
    keywords: list[str]
    language: str


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, other accents dropped."""
    text = text.lower().translate(_FOLD)
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """The meaningful words of a text, folded, without stop words."""
    return [w for w in _WORD.findall(fold(text)) if w not in _ALL_STOP and len(w) > 1]


def words_match(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and long_.startswith(short):
        return True
    return len(short) >= 6 and a[:6] == b[:6]


def _hits(terms: Iterable[str], said: Sequence[str]) -> int:
    return sum(1 for term in set(terms) if any(words_match(term, w) for w in said))


def score(entry: Entry, said: Sequence[str]) -> float:
    keyword_terms = {t for k in entry.keywords for t in tokens(k)}
    question_terms = set(tokens(entry.question)) - keyword_terms
    return KEYWORD_WEIGHT * _hits(keyword_terms, said) + QUESTION_WEIGHT * _hits(
        question_terms, said
    )


def best_match(entries: Iterable[Entry], text: str, language: str | None = None) -> Match | None:
    """The best entry for the visitor's text, or None when nothing scores ``MIN_SCORE``.
    Ties go to an entry in the visitor's language."""
    said = tokens(text)
    if not said:
        return None
    best: Match | None = None
    best_key = (0.0, False)
    for entry in entries:
        s = score(entry, said)
        key = (s, bool(language) and entry.language == language)
        if s >= MIN_SCORE and key > best_key:
            best, best_key = Match(entry, s), key
    return best


def guess_language(text: str, default: str = "en") -> str:
    """de, en or da by stop words and letters; ``default`` when unsure."""
    raw = text.lower()
    words = _WORD.findall(fold(text))
    counts = {lang: sum(w in stop for w in words) for lang, stop in STOP_WORDS.items()}
    counts["de"] += 2 * sum(raw.count(c) for c in "äöüß")
    counts["da"] += 2 * sum(raw.count(c) for c in "æøå")
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n > 0 and list(counts.values()).count(n) == 1 else default
