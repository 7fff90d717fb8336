"""An incremental Okapi BM25 index in memory: documents are added, replaced and removed one at a
time (listeners on committed events), never rebuilt per query.

``bm25s`` builds a static sparse matrix, so every change would mean a rebuild. Here each term
keeps two growing arrays (document slots and term frequencies); a query scores every posting of
its terms at once with numpy, with the length normalisation computed at query time from the
current average length, so the index is exact after each change. A removed document's slot is
marked dead (its postings are skipped) and the arrays are compacted once the dead outnumber the
living.

``search`` returns scores normalised to 0..1: the raw BM25 score divided by what a document
would get that matched every query term the index knows at the saturation limit
(``sum(idf) * (k1 + 1)``); words no document has do not count. That makes scores of different
indexes (the knowledge base, canned responses, past answers) comparable.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Sequence

import numpy as np

K1 = 1.2
B = 0.75
COMPACT_AFTER = 1000  # dead slots before a compaction is considered
RERANK = 50  # candidates (at least) that the boost may reorder


class Bm25Index:
    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, tuple[array[int], array[float]]] = {}
        self.df: dict[str, int] = {}  # living documents per term
        self.total_length = 0
        self._slot: dict[Hashable, int] = {}
        self._keys: list[Hashable] = []
        self._counts: list[tuple[tuple[str, int], ...] | None] = []
        self._length: array[float] = array("f")
        self._alive = bytearray()
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slot

    def add(self, key: Hashable, terms: Sequence[str]) -> None:
        """Index a document (replacing the one with the same key)."""
        self.remove(key)
        counts = tuple(Counter(terms).items())
        slot = len(self._keys)
        self._keys.append(key)
        self._counts.append(counts)
        self._length.append(len(terms))
        self._alive.append(1)
        self._slot[key] = slot
        for term, tf in counts:
            posting = self.postings.get(term)
            if posting is None:
                posting = self.postings[term] = (array("q"), array("f"))
            posting[0].append(slot)
            posting[1].append(tf)
            self.df[term] = self.df.get(term, 0) + 1
        self.total_length += len(terms)

    def remove(self, key: Hashable) -> None:
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        self.total_length -= int(self._length[slot])
        for term, _tf in self._counts[slot] or ():
            left = self.df[term] - 1
            if left:
                self.df[term] = left
            else:
                del self.df[term], self.postings[term]
        self._counts[slot] = None
        self._alive[slot] = 0
        self._dead += 1
        if self._dead > COMPACT_AFTER and self._dead > len(self._slot):
            self._compact()

    def _compact(self) -> None:
        living = [
            (self._keys[slot], counts)
            for slot, counts in enumerate(self._counts)
            if counts is not None
        ]
        self.__init__(self.k1, self.b)  # type: ignore[misc]
        for key, counts in living:
            self.add(key, [t for t, tf in counts for _ in range(tf)])

    def idf(self, term: str) -> float:
        n, df = len(self._slot), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: Sequence[str],
        k: int = 10,
        boost: Callable[[Hashable], float] | None = None,
    ) -> list[tuple[Hashable, float]]:
        """The ``k`` best documents for the query terms, normalised score first; ``boost``
        multiplies a document's score (picks by agents, the visitor's language) and reorders
        the best ``max(RERANK, 5 k)`` by raw score."""
        known = [t for t in set(query) if t in self.postings]
        if not known or not self._slot:
            return []
        k1, b = self.k1, self.b
        avgdl = self.total_length / len(self._slot) or 1.0
        lengths = np.frombuffer(self._length, dtype=np.float32)
        scores = np.zeros(len(self._keys), dtype=np.float64)
        ceiling = 0.0
        for term in known:
            slots_buf, tfs_buf = self.postings[term]
            slots = np.frombuffer(slots_buf, dtype=np.int64)
            tfs = np.frombuffer(tfs_buf, dtype=np.float32).astype(np.float64)
            idf = self.idf(term)
            ceiling += idf * (k1 + 1)
            norm = k1 * (1 - b + b * lengths[slots] / avgdl)
            scores[slots] += idf * tfs * (k1 + 1) / (tfs + norm)  # slots unique per term
        scores *= np.frombuffer(self._alive, dtype=np.uint8)
        found = np.flatnonzero(scores)
        keep = max(RERANK, 5 * k) if boost is not None else k
        if len(found) > keep:
            found = found[np.argpartition(-scores[found], keep - 1)[:keep]]
        ranked = [(self._keys[slot], float(scores[slot])) for slot in found]
        if boost is not None:
            ranked = [(key, s * boost(key)) for key, s in ranked]
        ranked.sort(key=lambda kv: -kv[1])
        return [(key, s / ceiling) for key, s in ranked[:k]]
