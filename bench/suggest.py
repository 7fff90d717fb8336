"""Answer suggestions: quality on a question set built from the demo data, and latency with
10,000 articles and 100,000 past answers.

Quality: the demo's knowledge base, shared canned responses and FAQ entries (as past answers:
each FAQ question and its answer, as if an agent had answered it in a resolved chat) go into
one ``Suggester``; then ``QUESTIONS`` (visitor questions written for this bench, in English,
German and Danish, none copied from the indexed texts) each name the topic that answers them.
A hit: one of the top 3 suggestions is about that topic. Printed per language and overall.

Latency: 10,000 synthetic articles (60 words) and 100,000 synthetic past answers (question of
15 words) in one site, words drawn from a Zipf distribution over 30,000 made-up words (the 50
most frequent left out, as stop words are). 2,000 queries of 4 to 12 words from the same
distribution, plus a worst case made of the most frequent words. Prints p50/p99/max per query
(``Suggester.suggest``, the work of ``GET /api/assist/suggest`` after its database reads),
the time to index everything and to add one answer (what a ``ConversationResolved`` listener
does), and the process's RSS.

    .venv/bin/python -m bench.suggest [--articles 10000] [--answers 100000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
import statistics
import time
from types import SimpleNamespace

import psutil

from tresen.assist.demo_data import DEMO_ARTICLES, DEMO_CANNED
from tresen.assist.suggest import Item, Suggester
from tresen.assist.text import plain_text
from tresen.cli import tune_gc
from tresen.demo import DEMO_FAQ

# Topic of each indexed demo item (articles by title, canned responses by shortcut, FAQ by
# its first words).
TOPICS = {
    "Shipping times and costs": "shipping",
    "Versandzeiten und -kosten": "shipping",
    "Levering og fragt": "shipping",
    "price": "shipping",
    "Tracking your order": "tracking",
    "Returning an item": "returns",
    "Artikel zurückgeben": "returns",
    "Promo codes and vouchers": "promo",
    "Gutscheincodes": "promo",
    "promo": "promo",
    "Payment methods": "payment",
    "Finding your size": "size",
    "email": "email",
    "Wie lange dauert der Versand?": "shipping",
    "How long does shipping take?": "shipping",
    "Wie kann ich etwas zurückgeben?": "returns",
    "How do I return something?": "returns",
    "Mein Gutscheincode funktioniert nicht.": "promo",
    "My promo code does not work.": "promo",
    "Wann haben Sie geöffnet?": "hours",
    "What are your opening hours?": "hours",
}

QUESTIONS: list[tuple[str, str, str]] = [
    ("en", "how much is delivery to austria", "shipping"),
    ("en", "when will my parcel arrive", "shipping"),
    ("en", "do you charge for shipping on small orders", "shipping"),
    ("en", "is delivery free", "shipping"),
    ("en", "where is my order, I want to track it", "tracking"),
    ("en", "I never got a tracking link", "tracking"),
    ("en", "the shoes don't fit, can I send them back", "returns"),
    ("en", "how do I get a refund", "returns"),
    ("en", "I want to exchange a jacket", "returns"),
    ("en", "my discount code is rejected", "promo"),
    ("en", "the voucher SUMMER10 does not apply", "promo"),
    ("en", "can I pay with paypal", "payment"),
    ("en", "do you accept invoice payment", "payment"),
    ("en", "which size should I order, between M and L", "size"),
    ("en", "is there a size chart", "size"),
    ("en", "when is your customer service available", "hours"),
    ("en", "are you open on saturday", "hours"),
    ("de", "Was kostet die Lieferung?", "shipping"),
    ("de", "Wann kommt mein Paket an?", "shipping"),
    ("de", "Ist der Versand kostenlos?", "shipping"),
    ("de", "Ich möchte die Hose zurückschicken", "returns"),
    ("de", "Wie bekomme ich mein Geld zurück bei einer Retoure?", "returns"),
    ("de", "Mein Rabattcode geht nicht", "promo"),
    ("de", "Der Gutschein wird nicht angenommen", "promo"),
    ("de", "Wie lange sind Sie heute erreichbar?", "hours"),
    ("da", "Hvad koster levering?", "shipping"),
    ("da", "Hvornår kommer min pakke?", "shipping"),
    ("da", "Er der fri fragt?", "shipping"),
]


def demo_suggester() -> Suggester:
    sg = Suggester()
    for i, (language, _cat, title, body, keywords) in enumerate(DEMO_ARTICLES, 1):
        text = plain_text(body)
        sg.put(
            Item("kb", i, title, text, language, site_id=1),
            f"{title} {title} {' '.join(keywords)} {text}",
        )
    for i, (shortcut, title, body) in enumerate(DEMO_CANNED, 1):
        sg.put(Item("canned", i, shortcut, body, "en"), f"{shortcut} {title} {body}")
    for i, (_lang, question, answer, _kw) in enumerate(DEMO_FAQ, 1):
        msg = SimpleNamespace(id=i, author_kind="agent", body=answer, internal=False)
        visitor = SimpleNamespace(id=0, author_kind="visitor", body=question, internal=False)
        sg.put_answers(1, i, [visitor, msg])  # type: ignore[list-item]
    return sg


def topic_of(item: Item) -> str | None:
    return TOPICS.get(item.title) or TOPICS.get(item.title.rstrip("…"))


def quality() -> None:
    sg = demo_suggester()
    hits: dict[str, list[bool]] = {}
    misses = []
    for language, question, topic in QUESTIONS:
        found = sg.suggest(question, 1, None, language, limit=3)
        ok = any(topic_of(s.item) == topic for s in found)
        hits.setdefault(language, []).append(ok)
        if not ok:
            misses.append((question, [s.item.title for s in found]))
    every = [h for hs in hits.values() for h in hs]
    print(f"quality: {len(every)} questions, top-3 hit rate {sum(every) / len(every):.1%}")
    for language, hs in hits.items():
        print(f"  {language}: {sum(hs)}/{len(hs)}")
    for question, got in misses:
        print(f"  miss: {question!r} -> {got}")


SYLLABLES = [a + b for a in "bdfgklmnprstvz" for b in ["a", "e", "i", "o", "u", "ar", "en", "ol"]]


def vocabulary(n: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Zipf:
    def __init__(self, words: list[str], skip: int = 50, s: float = 1.0) -> None:
        self.words = words[skip:]
        weights = [1 / (k**s) for k in range(skip + 1, len(words) + 1)]
        self.cum = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random, n: int) -> list[str]:
        total = self.cum[-1]
        return [self.words[bisect.bisect(self.cum, rng.random() * total)] for _ in range(n)]


def latency(n_articles: int, n_answers: int, n_queries: int) -> None:
    rng = random.Random(14)
    zipf = Zipf(vocabulary(30_000, rng))
    sg = Suggester()
    t0 = time.perf_counter()
    for i in range(n_articles):
        text = " ".join(zipf.draw(rng, 60))
        sg.put(Item("kb", i, text[:40], text, "en", site_id=1), text)
    for i in range(n_answers):
        question = " ".join(zipf.draw(rng, 15))
        sg.put(Item("answer", i, question[:40], "an answer", "en", site_id=1), question)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(1000):
        question = " ".join(zipf.draw(rng, 15))
        sg.put(Item("answer", n_answers + i, question[:40], "new", "en", site_id=1), question)
    add_ms = (time.perf_counter() - t0) / 1000 * 1000
    queries = [" ".join(zipf.draw(rng, rng.randint(4, 12))) for _ in range(n_queries)]
    for q in queries[:50]:
        sg.suggest(q, 1, None, "en")  # warm up
    times = []
    for q in queries:
        t = time.perf_counter()
        sg.suggest(q, 1, None, "en")
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    worst_q = " ".join(zipf.words[:12])
    worst = []
    for _ in range(50):
        t = time.perf_counter()
        sg.suggest(worst_q, 1, None, "en")
        worst.append((time.perf_counter() - t) * 1000)
    rss = psutil.Process().memory_info().rss / 2**20
    p = statistics.quantiles(times, n=100)
    print(
        f"latency: {n_articles:,} articles + {n_answers:,} past answers indexed in {built:.1f} s; "
        f"adding one answer {add_ms:.3f} ms; RSS {rss:.0f} MiB"
    )
    print(
        f"  {n_queries:,} queries of 4-12 words: p50 {p[49]:.2f} ms, p99 {p[98]:.2f} ms, "
        f"max {times[-1]:.2f} ms"
    )
    print(f"  worst case (12 most frequent words): median {statistics.median(worst):.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--answers", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2_000)
    args = ap.parse_args()
    tune_gc()  # as `tresen serve` does
    quality()
    latency(args.articles, args.answers, args.queries)


if __name__ == "__main__":
    main()
