"""BM25 over the store's chunks (bm25s), rebuilt when the store's revision changes."""

from __future__ import annotations

import logging
import threading

import bm25s
import numpy as np

from kb.naming import organisation_key
from kb.retrieval.dutch_text import DutchAnalyzer, article_tokens
from kb.retrieval.types import NO_FILTERS, SearchFilters
from kb.store import KnowledgeStore, StoredChunk

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """An immutable BM25 index over a fixed list of chunks."""

    def __init__(self, chunks: list[StoredChunk], k1: float = 1.2, b: float = 0.75) -> None:
        self.chunks = chunks
        self.analyzer = DutchAnalyzer(DutchAnalyzer.build_vocabulary(c.indexed_text for c in chunks))
        self._params = (k1, b)
        self._bm25: bm25s.BM25 | None = None  # built on first use: dense mode needs only the references
        self._build_lock = threading.Lock()
        self._positions: dict[str, int] | None = None
        self.by_reference: dict[str, list[int]] = {}  # "§2:26" → chunks whose headings name that article
        for i, chunk in enumerate(chunks):
            for ref in set(article_tokens(" ".join(chunk.section))):
                self.by_reference.setdefault(ref, []).append(i)
        self._topics = np.array([c.topic for c in chunks], dtype=object)
        self._partners = np.array([organisation_key(c.partner) for c in chunks], dtype=object)

    def positions(self) -> dict[str, int]:
        """Chunk id → its row in :meth:`scores`."""
        if self._positions is None:
            self._positions = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        return self._positions

    def _index(self) -> bm25s.BM25:
        with self._build_lock:
            if self._bm25 is None:
                k1, b = self._params
                bm25 = bm25s.BM25(k1=k1, b=b)
                bm25.index([self.analyzer.tokens(c.indexed_text) or ["∅"] for c in self.chunks], show_progress=False)
                self._bm25 = bm25
            return self._bm25

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when nothing matches)."""
        if not self.chunks:
            return np.zeros(0, dtype=np.float32)
        bm25 = self._index()
        tokens = [t for t in self.analyzer.tokens(query) if t in bm25.vocab_dict]
        if not tokens:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(bm25.get_scores(tokens), dtype=np.float32)

    def mask(self, filters: SearchFilters) -> np.ndarray:
        keep = np.ones(len(self.chunks), dtype=bool)
        if filters.topic:
            keep &= self._topics == filters.topic
        if filters.partner:
            keep &= self._partners == organisation_key(filters.partner)
        return keep

    def referenced(self, query: str, filters: SearchFilters = NO_FILTERS) -> list[StoredChunk]:
        """Chunks whose headings name an article the query names ("artikel 2:26", "art. 5b AWR")."""
        keep = self.mask(filters)
        found: list[StoredChunk] = []
        for ref in dict.fromkeys(article_tokens(query)):
            found.extend(self.chunks[i] for i in self.by_reference.get(ref, []) if keep[i])
        return found

    def search(self, query: str, n: int, filters: SearchFilters = NO_FILTERS) -> list[tuple[StoredChunk, float]]:
        scores = self.scores(query)
        if scores.size == 0:
            return []
        scores = np.where(self.mask(filters), scores, 0.0)
        top = np.argsort(-scores)[:n]
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]


class LexicalIndexCache:
    """Keeps one :class:`LexicalIndex` per process, rebuilt when the store changes (any process)."""

    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._index: LexicalIndex | None = None
        self._revision: int | None = None

    def get(self) -> LexicalIndex:
        revision = self.store.revision(max_age=1.0)  # other processes' changes show within a second
        with self._lock:
            if self._index is None or revision != self._revision:
                self._index = LexicalIndex(list(self.store.iter_chunks()))
                self._revision = revision
            return self._index
