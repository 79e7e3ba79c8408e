"""The retriever: glossary expansion → dense and lexical candidates → weighted fusion → diverse top k."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from kb.config import Settings
from kb.embeddings import Embedder
from kb.retrieval.bridge import CitationGraph
from kb.retrieval.glossary import QueryExpander, is_definition_question
from kb.retrieval.hubness import HubnessCorrection
from kb.retrieval.lexical import LexicalIndexCache
from kb.retrieval.question_pool import pool_vectors, read_questions
from kb.retrieval.types import NO_FILTERS, Hit, SearchFilters
from kb.store import KnowledgeStore, StoredChunk


@dataclass
class _Candidate:
    chunk: StoredChunk
    dense: float | None = None
    dense_rank: int | None = None
    lexical: float | None = None
    lexical_rank: int | None = None
    fused: float = 0.0
    hub_penalty: float = 0.0


class Retriever:
    """Hybrid retrieval over the store; every knob lives in :class:`Settings`."""

    def __init__(self, store: KnowledgeStore, embedder: Callable[[], Embedder], settings: Settings) -> None:
        self.store = store
        self._embedder = embedder
        self.settings = settings
        self.lexical = LexicalIndexCache(store)
        self._expander: tuple[int, QueryExpander] | None = None
        self._graph: tuple[int, CitationGraph] | None = None
        self._hubness: tuple[int, HubnessCorrection | None] | None = None
        self._lock = threading.Lock()

    def expander(self) -> QueryExpander:
        revision = self.store.revision(max_age=1.0)  # other processes' changes show within a second
        with self._lock:
            if self._expander is None or self._expander[0] != revision:
                self._expander = (revision, QueryExpander.from_store(self.store))
            return self._expander[1]

    def citation_graph(self) -> CitationGraph:
        """Which guide chunks cite which article chunks (rebuilt when the store changes)."""
        index = self.lexical.get()
        with self._lock:
            if self._graph is None or self._graph[0] != id(index):
                # references in the section's own text only: adding the front matter's list to sections
                # without one scored lower held out (README)
                self._graph = (id(index), CitationGraph.build(index.chunks, front_matter=False))
            return self._graph[1]

    def hubness(self) -> HubnessCorrection | None:
        """The hubness correction over the example-question pool (None when off or the pool is empty)."""
        s = self.settings
        if s.hubness_weight <= 0 or s.hubness_pool is None:
            return None
        embedder = self._embedder()
        with self._lock:
            if self._hubness is None or self._hubness[0] != id(embedder):
                texts = read_questions(s.hubness_pool)
                vectors = pool_vectors(texts, embedder, s.resolved_vector_cache_dir() if s.vector_cache else None)
                corr = HubnessCorrection(vectors, s.hubness_k, s.hubness_weight) if len(texts) else None
                self._hubness = (id(embedder), corr)
            return self._hubness[1]

    def expand(self, query: str) -> str:
        if not self.settings.glossary_expansion:
            return query
        return self.expander().expand(query)

    def search(self, query: str, k: int | None = None, filters: SearchFilters = NO_FILTERS) -> list[Hit]:
        k = k or self.settings.top_k
        query = query.strip()
        if not query:
            return []
        candidates = self._candidates(query, filters, k)
        ranked = sorted(candidates.values(), key=lambda c: c.fused, reverse=True)
        if self.settings.glossary_in_results == "never" or (
            self.settings.glossary_in_results == "definitions" and not is_definition_question(query)
        ):
            glossary = self.expander().doc_ids
            ranked = [c for c in ranked if c.chunk.doc_id not in glossary] or ranked
        return self._diverse(ranked, k)

    def _candidates(self, query: str, filters: SearchFilters, k: int) -> dict[str, _Candidate]:
        s = self.settings
        pool: dict[str, _Candidate] = {}
        if s.retrieval_mode in ("hybrid", "dense"):
            # The embedding model gets the question as asked: it knows synonyms itself, and appended glossary
            # terms only added noise (README). Word matching below gets the expansion.
            vector = self._embedder().encode_queries([query])[0]
            # Fusion needs the full candidate pool; dense ranking alone needs only enough to fill k results
            # after the diversity rule and the glossary filter.
            # (the BM25 blend re-ranks this pool: a pool of 20 scored as well as all chunks, CV in the README)
            n = s.candidate_pool if s.retrieval_mode == "hybrid" else min(s.candidate_pool, max(4 * k, 20))
            where = filters.chroma_where(self._partner_spellings(filters.partner))
            for rank, (chunk, score) in enumerate(self.store.query(vector, n, where)):
                pool[chunk.chunk_id] = _Candidate(chunk, dense=score, dense_rank=rank + 1)
        if s.retrieval_mode in ("hybrid", "lexical"):
            expanded = self.expand(query)
            for rank, (chunk, score) in enumerate(self.lexical.get().search(expanded, s.candidate_pool, filters)):
                cand = pool.setdefault(chunk.chunk_id, _Candidate(chunk))
                cand.lexical, cand.lexical_rank = score, rank + 1
        for cand in pool.values():
            cand.fused = self._fuse(cand)
        if s.retrieval_mode == "dense" and (s.lexical_blend > 0 or s.document_blend > 0):
            self._blend(pool, query, filters)
        if s.hubness_weight > 0 and s.retrieval_mode == "dense":
            self._mark_down_hubs(list(pool.values()))
        if s.guide_bridge > 0 and s.retrieval_mode != "lexical":
            self._bridge(pool, vector if s.retrieval_mode in ("hybrid", "dense") else None)
        # A question that names an article ("artikel 2:26") gets that article first, in any mode (BM25
        # scores of lexical mode have no upper bound, hence the bonus above the best score).
        bonus = 1.0 + max((c.fused for c in pool.values()), default=0.0)
        for chunk in self.lexical.get().referenced(query, filters):
            cand = pool.setdefault(chunk.chunk_id, _Candidate(chunk))
            cand.fused += bonus
        return pool

    def _blend(self, pool: dict[str, _Candidate], query: str, filters: SearchFilters) -> None:
        """Dense similarity plus ``lexical_blend``·BM25/max (the glossary-expanded question) and
        ``document_blend``·the mean of the two best scores of the chunk's document (evidence per document)."""
        s = self.settings
        if s.lexical_blend > 0:
            index = self.lexical.get()
            scores = index.scores(self.expand(query))
            top = float(scores.max()) if scores.size else 0.0
            if top > 0:
                position = index.positions()
                for cand in pool.values():
                    i = position.get(cand.chunk.chunk_id)
                    if i is not None:
                        cand.fused += s.lexical_blend * float(scores[i]) / top
        if s.document_blend > 0:
            by_doc: dict[str, list[float]] = {}
            for cand in pool.values():
                by_doc.setdefault(cand.chunk.doc_id, []).append(cand.fused)
            mean_top = {
                d: sum(sorted(v, reverse=True)[:2]) / len(sorted(v, reverse=True)[:2]) for d, v in by_doc.items()
            }
            for cand in pool.values():
                cand.fused += s.document_blend * mean_top[cand.chunk.doc_id]

    def _mark_down_hubs(self, candidates: list[_Candidate]) -> None:
        """Subtract ``hubness_weight``·(mean cosine to the chunk's nearest pool questions) from each score."""
        corr = self.hubness()
        if corr is None or not candidates:
            return
        missing = corr.missing([c.chunk.chunk_id for c in candidates])
        if missing:
            units = self.store.passage_vectors(missing)  # the chunk's own vector when it has no passages
            corr.add({cid: [v for _, v in vectors] for cid, vectors in units.items()})
        for cand in candidates:
            cand.hub_penalty = corr.penalty(cand.chunk.chunk_id)
            cand.fused -= cand.hub_penalty

    def _bridge(self, pool: dict[str, _Candidate], vector) -> None:
        """Articles cited by a guide chunk among the best ten are lifted towards that guide's score."""
        graph = self.citation_graph()
        if not len(graph):
            return
        w = self.settings.guide_bridge
        ranked = sorted(pool.values(), key=lambda c: c.fused, reverse=True)[:10]
        lifts: dict[str, float] = {}
        for guide in ranked:
            for article_id in graph.cited_by(guide.chunk.chunk_id):
                lifts[article_id] = max(lifts.get(article_id, float("-inf")), guide.fused)
        missing = [cid for cid in lifts if cid not in pool]
        if missing and vector is not None:
            vectors = self.store.passage_vectors(missing)  # the chunk's own vector when it has no passages
            added = []
            for chunk in self.store.get_chunks(missing):
                units = vectors.get(chunk.chunk_id) or []
                score = max((float(v @ vector) for _, v in units), default=0.0)
                pool[chunk.chunk_id] = _Candidate(chunk, dense=score, fused=score)
                added.append(pool[chunk.chunk_id])
            if self.settings.hubness_weight > 0 and self.settings.retrieval_mode == "dense":
                self._mark_down_hubs(added)  # scored like the rest of the pool
        for cid, guide_score in lifts.items():
            cand = pool.get(cid)
            if cand is not None:
                cand.fused = max(cand.fused, cand.fused + w * (guide_score - cand.fused))

    def _partner_spellings(self, partner: str | None) -> list[str]:
        """The partner names as stored that equal ``partner`` apart from case and spaces."""
        if not partner:
            return []
        return sorted({record.partner for record in self.store.list_documents(partner=partner)})

    def _fuse(self, c: _Candidate) -> float:
        s = self.settings
        if s.retrieval_mode == "dense":
            return c.dense or 0.0
        if s.retrieval_mode == "lexical":
            return c.lexical or 0.0
        score = 0.0
        if c.dense_rank is not None:
            score += s.dense_weight / (s.rrf_k + c.dense_rank)
        if c.lexical_rank is not None:
            score += s.lexical_weight / (s.rrf_k + c.lexical_rank)
        return score

    def _diverse(self, ranked: list[_Candidate], k: int) -> list[Hit]:
        """Best first, at most ``max_per_section`` chunks of one section; fill up if too few remain."""
        per_section: dict[tuple[str, tuple[str, ...]], int] = {}
        chosen: list[_Candidate] = []
        held_back: list[_Candidate] = []
        for cand in ranked:
            key = (cand.chunk.doc_id, cand.chunk.section)
            if per_section.get(key, 0) >= self.settings.max_per_section:
                held_back.append(cand)
                continue
            per_section[key] = per_section.get(key, 0) + 1
            chosen.append(cand)
            if len(chosen) == k:
                break
        if len(chosen) < k:
            chosen.extend(held_back[: k - len(chosen)])
        hits = []
        for i, cand in enumerate(chosen):
            signals = {"fused": cand.fused}
            if cand.dense is not None:
                signals["dense"] = cand.dense
            if cand.lexical is not None:
                signals["lexical"] = cand.lexical
            if cand.hub_penalty:
                signals["hubness"] = -cand.hub_penalty  # what the hubness correction took off
            hits.append(Hit(rank=i + 1, score=cand.fused, chunk=cand.chunk, signals=signals))
        return hits
