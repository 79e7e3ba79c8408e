"""Sentence-level evidence: splitting sources into quotable units and scoring them against a question.

Used by the extractive answerer (which units to quote) and by citation verification (does a cited chunk
support a sentence of an LLM answer?). Scores combine the embedding model and lexical overlap of stems.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from kb.embeddings import Embedder
from kb.retrieval.dutch_text import DutchAnalyzer
from kb.text import split_paragraphs, split_sentences

_analyzer = DutchAnalyzer()


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a source: a numbered paragraph (lid) or a sentence."""

    hit_index: int
    position: int
    text: str


@lru_cache(maxsize=4096)
def stems(text: str) -> frozenset[str]:
    """Index tokens of ``text``; cached, since one question is compared with many passages."""
    return frozenset(_analyzer.tokens(text))


def lexical_overlap(query: str, text: str) -> float:
    """Share of the query's content stems that occur in ``text`` (0..1)."""
    q = stems(query)
    if not q:
        return 0.0
    return len(q & stems(text)) / len(q)


_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)|https?://\S+|www\.\S+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[a-z]?[.)]|[a-z][.)])\s+")


def is_link_list(text: str) -> bool:
    """A passage that is mostly links ("Meer weten: [site](url), …"): never quoted as an answer."""
    links = _LINK.findall(text)
    if not links:
        return False
    rest = _LINK.sub(" ", text)
    words_outside = [w for w in re.findall(r"\w+", rest) if len(w) > 2]
    return (len(links) >= 2 and len(words_outside) <= 6 * len(links)) or sum(map(len, links)) > 0.5 * len(text)


def without_link_lists(text: str) -> str:
    """``text`` without its lists of links: a run of list items ("- …", "1. …") of which at least half carry
    a link is left out whole, with a line that only introduces it (ends on a colon). Such a list ("Meer
    weten: - Boek 2 BW: https://…") points elsewhere and answers nothing, even its items without a link."""
    lines = text.split("\n")
    keep = [True] * len(lines)
    i = 0
    while i < len(lines):
        if not _LIST_ITEM.match(lines[i]):
            i += 1
            continue
        start = i
        items: list[str] = []
        while i < len(lines) and (
            _LIST_ITEM.match(lines[i]) or (lines[i].startswith((" ", "\t")) and lines[i].strip())
        ):
            if _LIST_ITEM.match(lines[i]):
                items.append(lines[i])
            else:
                items[-1] += " " + lines[i].strip()
            i += 1
        if sum(1 for item in items if _LINK.search(item)) * 2 >= len(items):
            keep[start:i] = [False] * (i - start)
            lead_in = start - 1
            while lead_in >= 0 and not lines[lead_in].strip():
                lead_in -= 1
            if lead_in >= 0 and lines[lead_in].rstrip().endswith(":"):
                keep[lead_in] = False
    return "\n".join(line for line, kept in zip(lines, keep, strict=True) if kept)


@lru_cache(maxsize=256)
def _flat_without_link_lists(text: str) -> str:
    return " ".join(without_link_lists(text).split())


def outside_link_lists(part: str, text: str) -> bool:
    """Whether ``part`` (a paragraph, list item or sentence of ``text``) stands outside its lists of links."""
    return " ".join(part.split()) in _flat_without_link_lists(text)


def split_units(text: str, max_chars: int = 700) -> list[str]:
    """Paragraphs (a numbered lid with its sub-items stays whole when short enough), else sentences.

    A paragraph or sentence that ends on a colon keeps the list that follows it; link lists are left out.
    """
    units: list[str] = []
    for paragraph in split_paragraphs(without_link_lists(text), items="numbered"):
        if len(paragraph) <= max_chars:
            units.append(" ".join(paragraph.split()))
        else:
            units.extend(" ".join(s.split()) for s in split_sentences(paragraph))
    joined: list[str] = []
    for unit in units:
        if joined and joined[-1].endswith(":") and len(joined[-1]) + len(unit) <= 2 * max_chars:
            joined[-1] = f"{joined[-1]} {unit}"  # the list after a colon belongs to its lead-in
        else:
            joined.append(unit)
    return [u for u in joined if len(re.sub(r"\W", "", u)) >= 3 and not is_link_list(u)]


def cosine_matrix(embedder: Embedder, query: str, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros(0, dtype=np.float32)
    q = embedder.encode_queries([query])[0]
    docs = embedder.encode_documents(texts)
    return docs @ q


def support_score(embedder: Embedder | None, sentence: str, source_text: str) -> float:
    """How well ``source_text`` supports ``sentence``: the best unit's mix of lexical and embedding overlap."""
    units = split_units(source_text) or [source_text]
    lexical = max(lexical_overlap(sentence, u) for u in units)
    if embedder is None:
        return lexical
    sims = embedder.encode_documents([sentence] + units)
    dense = float(np.max(sims[1:] @ sims[0]))
    return 0.5 * lexical + 0.5 * dense


UnitVectors = Callable[[list[str]], dict[str, list[tuple[str, np.ndarray]]]]


def unit_vectors(store: Any, embedder: Embedder, embed_missing: bool = True, budget_chars: int = 0) -> UnitVectors:
    """The extractive answerer's quotable units of each chunk, with vectors.

    Stored passage vectors when the store has them (``KB_PASSAGE_VECTORS=true``). A chunk stored without
    them gets its paragraphs (the same units the ingest would have embedded: :func:`passages_of`) embedded
    now, with the chunk's title slot, through the embedder's vector cache: the first answer that quotes a
    chunk pays for its few paragraphs, later answers (and a store built with passage vectors before) pay
    nothing. A one-paragraph chunk is its own unit with its own stored vector.

    ``budget_chars`` (0: no limit) bounds what one answer embeds: chunks are taken in the order of
    ``chunk_ids`` (the sources' rank), and a chunk whose paragraphs not yet in the cache would take the
    answer past the budget (the first one is always embedded) lends its own vector to its paragraphs
    instead; they are then told apart by word overlap and rank, and a later answer embeds them. With a
    budget, a chunk of one long paragraph gets its sentences (:func:`split_units`) here, within the budget,
    instead of having the answerer embed them.
    """
    from ingest.chunking import passages_of

    def provide(chunk_ids: list[str]) -> dict[str, list[tuple[str, np.ndarray]]]:
        out = store.passage_vectors(chunk_ids)
        if not embed_missing:
            return out
        lone = [cid for cid, units in out.items() if len(units) == 1]
        chunks = {c.chunk_id: c for c in store.get_chunks(lone)} if lone else {}
        texts: list[str] = []
        titles: list[str] = []
        owners: list[str] = []
        for cid in lone:
            chunk = chunks.get(cid)
            if chunk is None or out[cid][0][0] != chunk.text:
                continue  # its one unit is a stored passage, not the chunk itself
            # the items of a list of links are never quoted: not worth embedding
            units = tuple(u for u in passages_of(chunk.text) if outside_link_lists(u, chunk.text))
            if not units and budget_chars > 0:
                # one long paragraph: its sentences (the answerer would otherwise embed them itself, unbounded)
                sentences = split_units(chunk.text)
                units = tuple(sentences) if len(sentences) > 1 else ()
            for passage in units:
                texts.append(passage)
                titles.append(chunk.header)
                owners.append(cid)
        if texts and budget_chars > 0:
            lent = _over_budget(owners, texts, embedder.cached_mask(texts, titles), budget_chars)
            for cid in lent:
                own_vector = out[cid][0][1]
                out[cid] = [(text, own_vector) for owner, text in zip(owners, texts, strict=True) if owner == cid]
            keep = [i for i, owner in enumerate(owners) if owner not in lent]
            texts, titles, owners = [texts[i] for i in keep], [titles[i] for i in keep], [owners[i] for i in keep]
        if texts:
            vectors = embedder.encode_documents(texts, titles=titles)
            fresh: dict[str, list[tuple[str, np.ndarray]]] = {}
            for cid, text, vec in zip(owners, texts, vectors, strict=True):
                fresh.setdefault(cid, []).append((text, vec))
            out.update(fresh)
        return out

    return provide


def _over_budget(owners: list[str], texts: list[str], cached: list[bool], budget_chars: int) -> set[str]:
    """The chunks (in rank order) whose uncached paragraphs do not fit in what is left of the budget."""
    new_chars: dict[str, int] = {}
    for owner, text, known in zip(owners, texts, cached, strict=True):
        new_chars[owner] = new_chars.get(owner, 0) + (0 if known else len(text))
    spent = 0
    lent: set[str] = set()
    for owner, chars in new_chars.items():
        if chars and spent and spent + chars > budget_chars:
            lent.add(owner)
        else:
            spent += chars
    return lent
