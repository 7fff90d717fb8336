"""An incremental Okapi BM25 index in memory: documents are added, replaced and removed one at a
time (listeners on committed events), never rebuilt per query.

``bm25s`` builds a static sparse matrix, so every change would mean a rebuild; here postings are
plain dictionaries and the IDF is computed at query time from the posting list lengths, so the
index is always consistent after each change.

``search`` returns scores normalised to 0..1: the raw BM25 score divided by what a document
matching every query term at the saturation limit would get (``sum(idf) * (k1 + 1)``). That
makes scores of different indexes (the knowledge base, canned responses, past answers)
comparable.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Hashable, Sequence

K1 = 1.2
B = 0.75


class Bm25Index:
    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, dict[Hashable, int]] = {}
        self.lengths: dict[Hashable, int] = {}
        self.doc_terms: dict[Hashable, tuple[str, ...]] = {}
        self.total_length = 0

    def __len__(self) -> int:
        return len(self.lengths)

    def __contains__(self, key: Hashable) -> bool:
        return key in self.lengths

    def add(self, key: Hashable, terms: Sequence[str]) -> None:
        """Index a document (replacing the one with the same key)."""
        self.remove(key)
        counts = Counter(terms)
        for term, tf in counts.items():
            self.postings.setdefault(term, {})[key] = tf
        self.lengths[key] = len(terms)
        self.doc_terms[key] = tuple(counts)
        self.total_length += len(terms)

    def remove(self, key: Hashable) -> None:
        length = self.lengths.pop(key, None)
        if length is None:
            return
        self.total_length -= length
        for term in self.doc_terms.pop(key):
            docs = self.postings.get(term)
            if docs is not None and docs.pop(key, None) is not None and not docs:
                del self.postings[term]

    def idf(self, term: str) -> float:
        n, df = len(self.lengths), len(self.postings.get(term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: Sequence[str],
        k: int = 10,
        boost: Callable[[Hashable], float] | None = None,
    ) -> list[tuple[Hashable, float]]:
        """The ``k`` best documents for the query terms, normalised score first; ``boost``
        multiplies a document's score (picks by agents, the visitor's language)."""
        if not self.lengths:
            return []
        avgdl = self.total_length / len(self.lengths) or 1.0
        k1, b = self.k1, self.b
        scores: dict[Hashable, float] = {}
        ceiling = 0.0
        for term in set(query):
            docs = self.postings.get(term)
            idf = self.idf(term)
            ceiling += idf * (k1 + 1)
            if not docs:
                continue
            lengths = self.lengths
            for key, tf in docs.items():
                norm = k1 * (1 - b + b * lengths[key] / avgdl)
                scores[key] = scores.get(key, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
        if not scores or ceiling <= 0:
            return []
        if boost is not None:
            scores = {key: s * boost(key) for key, s in scores.items()}
        best = heapq.nlargest(k, scores.items(), key=lambda kv: kv[1])
        return [(key, s / ceiling) for key, s in best]
