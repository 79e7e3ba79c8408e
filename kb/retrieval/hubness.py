"""Hubness correction (CSLS): a chunk that lies close to many questions is marked down.

In a high-dimensional embedding space some vectors are *hubs*: near the queries of many different
subjects. A general article ("het bestuur roept de algemene vergadering bijeen") then outranks the specific
one a question needs. Cross-domain similarity local scaling (Lample et al., 2018) corrects this with a
per-chunk penalty: the mean cosine of the chunk to its ``k`` nearest questions of a *pool* of example
questions. The score becomes ``cos(q, c) − weight · hub(c)``.

The pool holds question texts only, no answers or labels. Which pool and which ``k`` and ``weight``
were chosen by cross-validation (README, Benchmarks). A chunk's penalty depends only on its own vectors and
the pool, so it is computed once per chunk id (ids change with a document's version) and kept.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np


def hub_scores(units: Sequence[np.ndarray], pool: np.ndarray, k: int) -> np.ndarray:
    """Per chunk, the mean of its ``k`` best cosines to the pool questions.

    ``units`` holds, per chunk, its unit vectors as rows (the chunk's own vector or its passages'); the
    chunk's cosine to a question is the best over its units, as in search. ``pool`` holds unit vectors of
    questions as rows. With fewer than ``k`` pool questions, all of them are averaged.
    """
    if pool.size == 0 or not units:
        return np.zeros(len(units), dtype=np.float32)
    k = max(1, min(k, pool.shape[0]))
    out = np.empty(len(units), dtype=np.float32)
    for i, vectors in enumerate(units):
        v = np.asarray(vectors, dtype=np.float32).reshape(-1, pool.shape[1])
        best = (pool @ v.T).max(axis=1)  # per pool question: the chunk's best unit
        out[i] = float(np.partition(best, best.size - k)[-k:].mean())
    return out


class HubnessCorrection:
    """Penalties ``weight · hub(c)`` for chunks, from a fixed pool of question vectors (thread-safe cache)."""

    def __init__(self, pool: np.ndarray, k: int, weight: float) -> None:
        pool = np.asarray(pool, dtype=np.float32)
        if pool.ndim != 2:
            raise ValueError("pool must be a matrix of question vectors (one row each)")
        norms = np.linalg.norm(pool, axis=1, keepdims=True)
        self.pool = pool / np.where(norms > 0, norms, 1.0)
        self.k = k
        self.weight = weight
        self._cache: dict[str, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.pool.shape[0])

    def missing(self, chunk_ids: Sequence[str]) -> list[str]:
        """The chunk ids whose penalty is not known yet (their vectors are needed)."""
        with self._lock:
            return [c for c in dict.fromkeys(chunk_ids) if c not in self._cache]

    def add(self, units: Mapping[str, Sequence[np.ndarray]]) -> None:
        """Compute and keep the hub score of each chunk from its unit vectors."""
        ids = [cid for cid, vectors in units.items() if len(vectors)]
        scores = hub_scores([np.vstack(list(units[cid])) for cid in ids], self.pool, self.k)
        with self._lock:
            self._cache.update(zip(ids, (float(s) for s in scores), strict=True))

    def penalty(self, chunk_id: str) -> float:
        """``weight · hub(c)``; 0 for a chunk whose vectors were never given."""
        with self._lock:
            return self.weight * self._cache.get(chunk_id, 0.0)
