"""Words for search: folded, stop words dropped, stemmed per language with Snowball (PyStemmer),
and Markdown rendered to sanitised HTML (markdown-it-py + nh3) or to plain text.

German, English and Danish are stemmed with their own Snowball stemmer; a text in another
language is stemmed as English. Folding first (``ä`` = ``ae``) keeps a query typed without
umlauts matching an article written with them.
"""

from __future__ import annotations

import html
from functools import cache

import nh3
import Stemmer
from markdown_it import MarkdownIt

from tresen.assist.faq import _ALL_STOP, _WORD, fold

STEMMERS = {"de": "german", "en": "english", "da": "danish"}
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = {
    "a", "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(STEMMERS.get(language, "english"))


def terms(text: str, language: str = "en") -> list[str]:
    """The search terms of a text: folded words without stop words, stemmed."""
    words = [w for w in _WORD.findall(fold(text)) if len(w) > 1 and w not in _ALL_STOP]
    return _stemmer(language).stemWords(words) if words else []


def render_markdown(body: str) -> str:
    """Markdown to HTML that is safe to show: raw HTML in the source is escaped by the parser,
    and nh3 keeps only plain formatting tags and http(s)/mailto links."""
    return nh3.clean(
        _MD.render(body),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(body: str, limit: int = 600) -> str:
    """Markdown as plain text (for the bot's chat answers and suggestion previews)."""
    text = html.unescape(nh3.clean(_MD.render(body), tags=set()))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
