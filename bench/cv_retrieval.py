"""Retrieval variants scored in numpy over cached vectors, each with its parameters chosen on the training
folds only and reported on the held-out folds.

Every variant turns per-question signals (dense cosine of each model, BM25, article references, document
aggregates) into one score per chunk; the ranking then applies what the product's retriever applies: a
named article first, at most one chunk per section, glossary entries only for definition questions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kb.evaluation import RetrievedItem, first_match_rank
from kb.evaluation.folds import spread, train_test
from kb.evaluation.questions import EvalQuestion


@dataclass
class Signals:
    """Per question × chunk signals over one corpus."""

    questions: list[EvalQuestion]
    items: list[RetrievedItem]  # per chunk: file and heading path, for scoring
    doc_of: np.ndarray  # per chunk: document index
    section_of: np.ndarray  # per chunk: (document, section) index
    dense: dict[str, np.ndarray]  # model → Q × C best cosine (chunk or passage vector)
    dense_variant: dict[str, np.ndarray]  # model → Q × C for the glossary-expanded question
    chunk_vectors: dict[str, np.ndarray]  # model → C × d (chunk vectors only, for feedback)
    query_vecs: dict[str, np.ndarray]  # model → Q × d
    text_vectors: dict[str, tuple[np.ndarray, np.ndarray]]  # model → (all vectors, parent chunk index)
    bm25: np.ndarray  # Q × C, BM25 of the glossary-expanded question
    referenced: np.ndarray  # Q × C bool: the question names the chunk's article
    glossary: np.ndarray  # C bool: a glossary chunk
    definition: np.ndarray  # Q bool: a definition question (glossary allowed)
    gold: np.ndarray = field(init=False)  # Q × C bool: chunk matches a gold citation

    def __post_init__(self) -> None:
        self.gold = np.array(
            [[first_match_rank(q, [it]) is not None for it in self.items] for q in self.questions], dtype=bool
        )


def dense_of(vectors: np.ndarray, parent: np.ndarray, queries: np.ndarray, n_chunks: int) -> np.ndarray:
    """Q × C: each chunk's best cosine over its own and its passages' vectors."""
    sims = queries @ vectors.T
    out = np.full((queries.shape[0], n_chunks), -1.0, dtype=np.float32)
    order = np.argsort(parent, kind="stable")
    p = parent[order]
    starts = np.r_[0, np.flatnonzero(np.diff(p)) + 1]
    out[:, p[starts]] = np.maximum.reduceat(sims[:, order], starts, axis=1)
    return out


def rank(sig: Signals, scores: np.ndarray, k: int = 10) -> list[list[int]]:
    """Top-k chunk indices per question as the product ranks them."""
    out: list[list[int]] = []
    for qi in range(scores.shape[0]):
        s = scores[qi].astype(np.float64).copy()
        if not sig.definition[qi]:
            s[sig.glossary] = -np.inf
        s[sig.referenced[qi]] += 1000.0
        chosen: list[int] = []
        seen: set[int] = set()
        for ci in np.argsort(-s, kind="stable"):
            if not np.isfinite(s[ci]):
                break
            if sig.section_of[ci] in seen:
                continue
            seen.add(int(sig.section_of[ci]))
            chosen.append(int(ci))
            if len(chosen) == k:
                break
        out.append(chosen)
    return out


def ranks_of(sig: Signals, top: list[list[int]], rows: Sequence[int]) -> list[int | None]:
    """1-based rank of the first gold chunk for the answerable questions among ``rows``."""
    out: list[int | None] = []
    for qi in rows:
        if sig.questions[qi].is_negative:
            continue
        hit = [r for r, ci in enumerate(top[qi], start=1) if sig.gold[qi, ci]]
        out.append(hit[0] if hit else None)
    return out


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    m = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in (1, 5, 10)}
    m["MRR"] = sum(1.0 / r for r in ranks if r is not None) / n
    return m


def objective(m: dict[str, float]) -> float:
    """What a parameter choice on the training folds maximises."""
    return m["R@5"] + 0.5 * m["R@10"] + 0.5 * m["MRR"]


# ------------------------------------------------------------------------------------- score functions


def _norm_bm25(b: np.ndarray) -> np.ndarray:
    top = b.max(axis=1, keepdims=True)
    return np.where(top > 0, b / np.where(top > 0, top, 1.0), 0.0)


def doc_aggregate(sig: Signals, s: np.ndarray, top_n: int = 2) -> np.ndarray:
    """Q × C: the mean of the best ``top_n`` chunk scores of each chunk's document."""
    n_docs = int(sig.doc_of.max()) + 1
    agg = np.zeros((s.shape[0], n_docs), dtype=np.float32)
    for d in range(n_docs):
        cols = np.flatnonzero(sig.doc_of == d)
        part = np.sort(s[:, cols], axis=1)[:, ::-1][:, :top_n]
        agg[:, d] = part.mean(axis=1)
    return agg[:, sig.doc_of]


def prf_dense(sig: Signals, model: str, alpha: float, m: int = 3) -> np.ndarray:
    """Dense scores for the query moved towards the mean of its top ``m`` chunk vectors (Rocchio)."""
    base = sig.dense[model]
    if alpha == 0:
        return base
    vecs, parent = sig.text_vectors[model]
    top = np.argsort(-base, axis=1)[:, :m]
    centroid = sig.chunk_vectors[model][top].mean(axis=1)
    q = sig.query_vecs[model] + alpha * centroid
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return dense_of(vecs, parent, q.astype(np.float32), base.shape[1])


Variant = Callable[[Signals, dict], np.ndarray]


def v_dense(sig: Signals, p: dict) -> np.ndarray:
    return sig.dense[p.get("model", "embeddinggemma-300m")]


def v_linear(sig: Signals, p: dict) -> np.ndarray:
    """Weighted sum: Gemma + w_e5·e5 + w_bm25·BM25/max + w_doc·document aggregate + w_var·glossary variant."""
    g = prf_dense(sig, "embeddinggemma-300m", p.get("prf", 0.0))
    s = g.copy()
    if p.get("w_e5"):
        s = s + p["w_e5"] * sig.dense["multilingual-e5-small"]
    if p.get("w_var"):
        s = s + p["w_var"] * sig.dense_variant["embeddinggemma-300m"]
    if p.get("w_bm25"):
        s = s + p["w_bm25"] * _norm_bm25(sig.bm25)
    if p.get("w_doc"):
        s = s + p["w_doc"] * doc_aggregate(sig, s)
    return s


def v_rrf(sig: Signals, p: dict) -> np.ndarray:
    """Reciprocal-rank fusion of Gemma with BM25 (and e5), as the product's hybrid mode."""

    def rr(x: np.ndarray) -> np.ndarray:
        order = np.argsort(-x, axis=1)
        r = np.empty_like(order)
        r[np.arange(x.shape[0])[:, None], order] = np.arange(1, x.shape[1] + 1)
        return 1.0 / (60 + r)

    s = rr(sig.dense["embeddinggemma-300m"])
    s = s + p.get("w_bm25", 0) * rr(sig.bm25)
    s = s + p.get("w_e5", 0) * rr(sig.dense["multilingual-e5-small"])
    return s


def grid(**axes: Sequence[float]) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(axes[k] for k in keys))]


@dataclass
class CVResult:
    name: str
    folds: list[dict[str, float]]  # held-out metrics per fold
    chosen: list[dict]  # parameters chosen on each fold's training folds
    top: list[list[int]] | None = None  # held-out rankings (each question ranked by its fold's choice)

    def row(self) -> dict[str, str]:
        return {k: str(spread([f[k] for f in self.folds])) for k in ("R@1", "R@5", "R@10", "MRR")}


def cross_validate(sig: Signals, folds: list[list[int]], name: str, variant: Variant, params: list[dict]) -> CVResult:
    """Choose the parameters on the training folds by :func:`objective`, score them on the held-out fold."""
    tops = [rank(sig, variant(sig, p)) for p in params]
    return _choose_per_fold(sig, folds, name, params, lambda train: tops)


def _choose_per_fold(
    sig: Signals,
    folds: list[list[int]],
    name: str,
    params: list[dict],
    tops_for: Callable[[list[int]], list[list[list[int]]]],
) -> CVResult:
    """Per fold: the rankings of every parameter set (``tops_for(train)``, which may depend on the training
    folds), the set the training folds score best, and its scores on the held-out fold."""
    held: list[dict[str, float]] = []
    chosen: list[dict] = []
    combined: list[list[int]] = [[] for _ in sig.questions]
    for f in range(len(folds)):
        train, test = train_test(folds, f)
        tops = tops_for(train)
        best = max(range(len(params)), key=lambda i: objective(metrics(ranks_of(sig, tops[i], train))))
        chosen.append(params[best])
        held.append(metrics(ranks_of(sig, tops[best], test)))
        for qi in test:
            combined[qi] = tops[best][qi]
    return CVResult(name, held, chosen, combined)


# ------------------------------------------------------------------------------------- learned ranker


def _features(sig: Signals, qi: int, cols: np.ndarray) -> np.ndarray:
    g = sig.dense["embeddinggemma-300m"][qi, cols]
    e = sig.dense["multilingual-e5-small"][qi, cols]
    gv = sig.dense_variant["embeddinggemma-300m"][qi, cols]
    b = _norm_bm25(sig.bm25[qi : qi + 1])[0, cols]
    dg = doc_aggregate_row(sig, sig.dense["embeddinggemma-300m"][qi])[cols]
    gmax = sig.dense["embeddinggemma-300m"][qi].max()
    emax = sig.dense["multilingual-e5-small"][qi].max()
    return np.column_stack([g - gmax, e - emax, gv - gmax, b, dg - gmax, np.ones_like(g)])


def doc_aggregate_row(sig: Signals, s: np.ndarray, top_n: int = 2) -> np.ndarray:
    return doc_aggregate(sig, s[None, :], top_n)[0]


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 300) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (small, dense problems)."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def learned_ranker(sig: Signals, folds: list[list[int]], pool: int = 50) -> CVResult:
    """Pointwise logistic regression over the candidate pool (top ``pool`` of Gemma and of BM25), trained on
    the training folds' answerable questions, applied to the held-out fold."""
    g = sig.dense["embeddinggemma-300m"]
    cands = [
        np.unique(np.r_[np.argsort(-g[qi])[:pool], np.argsort(-sig.bm25[qi])[:pool]])
        for qi in range(len(sig.questions))
    ]
    feats = [_features(sig, qi, cands[qi]) for qi in range(len(sig.questions))]
    held, chosen = [], []
    combined: list[list[int]] = [[] for _ in sig.questions]
    for f in range(len(folds)):
        train, test = train_test(folds, f)
        tr = [qi for qi in train if not sig.questions[qi].is_negative]
        x = np.vstack([feats[qi] for qi in tr])
        y = np.concatenate([sig.gold[qi, cands[qi]].astype(float) for qi in tr])
        w = fit_logistic(x, y)
        scores = np.full(g.shape, -np.inf, dtype=np.float64)
        for qi in range(len(sig.questions)):
            scores[qi, cands[qi]] = feats[qi] @ w
        top = rank(sig, scores)
        held.append(metrics(ranks_of(sig, top, test)))
        chosen.append({"w": [round(float(v), 2) for v in w]})
        for qi in test:
            combined[qi] = top[qi]
    return CVResult("learned (logistic, 5 signals)", held, chosen, combined)


# ------------------------------------------------------------------------------------- guides as a bridge


def bridge_matrix(sig: Signals, chunk_ids: list[str], graph) -> list[tuple[int, np.ndarray]]:
    """Per guide chunk that cites articles: (guide index, article chunk indices)."""
    index = {cid: i for i, cid in enumerate(chunk_ids)}
    return [
        (index[g], np.array([index[a] for a in arts if a in index])) for g, arts in graph.cites.items() if g in index
    ]


def lift_by_guides(s: np.ndarray, links: list[tuple[int, np.ndarray]], weight: float, pool: int = 10) -> np.ndarray:
    """Each article cited by a guide chunk among the top ``pool`` is lifted towards that guide's score:
    s(a) + weight·(s(g) − s(a)) when that is higher."""
    if weight == 0 or not links:
        return s
    out = s.copy()
    guides = np.array([g for g, _ in links])
    for qi in range(s.shape[0]):
        cutoff = np.sort(s[qi])[-pool] if s.shape[1] >= pool else -np.inf
        for g, arts in links:
            if s[qi, g] < cutoff or arts.size == 0:
                continue
            lifted = s[qi, arts] + weight * (s[qi, g] - s[qi, arts])
            out[qi, arts] = np.maximum(out[qi, arts], lifted)
    del guides
    return out


def v_bridge(links: list[tuple[int, np.ndarray]]) -> Variant:
    def variant(sig: Signals, p: dict) -> np.ndarray:
        return lift_by_guides(v_linear(sig, p), links, p.get("w_bridge", 0.0), p.get("pool", 10))

    return variant


# ------------------------------------------------------------------------------------- hubness correction


def hub_matrix(sig: Signals, pool: np.ndarray, k: int, model: str = "embeddinggemma-300m") -> np.ndarray:
    """C: each chunk's mean cosine to its ``k`` nearest pool questions (best over its own and passage vectors),
    as :func:`kb.retrieval.hubness.hub_scores` computes it in the product."""
    vecs, parent = sig.text_vectors[model]
    dq = dense_of(vecs, parent, pool.astype(np.float32), sig.gold.shape[1])
    k = max(1, min(k, dq.shape[0]))
    return np.sort(dq, axis=0)[-k:].mean(axis=0)


def v_hubness(links: list[tuple[int, np.ndarray]], hubs: dict[int, np.ndarray]) -> Variant:
    """The default (Gemma + BM25 blend + guide bridge) with ``w_hub``·hub(c) subtracted before the bridge."""

    def variant(sig: Signals, p: dict) -> np.ndarray:
        s = v_linear(sig, p)
        if p.get("w_hub"):
            s = s - p["w_hub"] * hubs[p["k"]][None, :]
        return lift_by_guides(s, links, p.get("w_bridge", 0.0), p.get("pool", 10))

    return variant


def cross_validate_fold_pool(
    sig: Signals,
    folds: list[list[int]],
    name: str,
    links: list[tuple[int, np.ndarray]],
    pool_of: Callable[[list[int]], np.ndarray],
    params: list[dict],
) -> CVResult:
    """Hubness correction whose pool depends on the fold (e.g. the training folds' question texts, no labels):
    per fold, the pool, ``k`` and ``w_hub`` come from the training folds only."""

    def tops_for(train: list[int]) -> list[list[list[int]]]:
        pool = pool_of(train)
        hubs = {k: hub_matrix(sig, pool, k) for k in sorted({p["k"] for p in params})}
        variant = v_hubness(links, hubs)
        return [rank(sig, variant(sig, p)) for p in params]

    return _choose_per_fold(sig, folds, name, params, tops_for)
