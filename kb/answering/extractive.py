"""The default answerer, with no LLM: quote the most relevant passages of the top sources.

Every unit (numbered paragraph or sentence) of the top sources is scored against the question with the
embedding model and lexical overlap, plus a small prior for the source's retrieval rank. The best units are
quoted with their source number [n], in source order. Deterministic and offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from kb.answering.evidence import Unit, cosine_matrix, lexical_overlap, split_units
from kb.answering.prompts import Prompts
from kb.answering.versions import dutch_date, version_groups
from kb.embeddings import Embedder
from kb.retrieval.types import Hit


@dataclass(frozen=True)
class Quote:
    n: int  # 1-based source number
    text: str


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        prompts: Prompts,
        max_quotes: int = 6,
        max_chars: int = 2400,
        cover_sources: int = 4,
        full_source_chars: int = 1200,
        stored_units: Callable[[list[str]], dict[str, list[tuple[str, np.ndarray]]]] | None = None,
        chunk_count: Callable[[str], int] | None = None,
        dense_weight: float = 0.6,
        lexical_weight: float = 0.4,
        rank_weight: float = 0.15,
    ) -> None:
        self.embedder = embedder
        self.prompts = prompts
        self.max_quotes = max_quotes
        self.max_chars = max_chars
        self.cover_sources = cover_sources
        # the top source is quoted whole when it is at most this long (a short article, one guide section)
        self.full_source_chars = full_source_chars
        # passages with the vectors already in the store: no re-embedding at answer time
        self.stored_units = stored_units
        # chunks per document: tells a document's introduction from a document that is one short text
        self.chunk_count = chunk_count
        self.weights = (dense_weight, lexical_weight, rank_weight)

    def select(self, question: str, hits: list[Hit]) -> list[Quote]:
        if self.stored_units is not None:
            stored = self.stored_units([h.chunk.chunk_id for h in hits])
            pairs = [(i, text, vec) for i, h in enumerate(hits) for text, vec in stored.get(h.chunk.chunk_id, [])]
            units = [Unit(i, pos, _quotable(text)) for pos, (i, text, _) in enumerate(pairs)]
            if not units:
                return []
            query_vector = self.embedder.encode_queries([question])[0]
            dense = np.vstack([vec for _, _, vec in pairs]) @ query_vector
        else:
            units = [
                Unit(i, pos, _quotable(text))
                for i, hit in enumerate(hits)
                for pos, text in enumerate(split_units(hit.chunk.text))
            ]
            if not units:
                return []
            dense = cosine_matrix(self.embedder, question, [u.text for u in units])
        lexical = np.array([lexical_overlap(question, u.text) for u in units], dtype=np.float32)
        rank_prior = np.array([1.0 / (1 + u.hit_index) for u in units], dtype=np.float32)
        wd, wl, wr = self.weights
        scores = wd * dense + wl * lexical + wr * rank_prior
        order = [units[int(i)] for i in np.argsort(-scores) if units[int(i)].text]
        # A document's introduction (text right under its title: "deze gids legt uit …") matches broadly but
        # answers little: quoted only when the sources hold nothing else.
        intros = {i for i, h in enumerate(hits) if self._is_introduction(h)}
        order = [u for u in order if u.hit_index not in intros] or order
        chosen: list[Unit] = []
        size = 0
        count = 0
        # The best source whole when it is short: the key fact often stands in another paragraph (lid) of
        # the best article than the one that resembles the question most (an introduction: the next one).
        top = next((i for i in range(min(2, len(hits))) if i not in intros), None)
        whole = _quotable(hits[top].chunk.text) if top is not None else ""
        if whole and len(whole) <= self.full_source_chars:
            order = [u for u in order if u.hit_index != top]
            chosen.append(Unit(top, -1, whole))
            size, count = len(whole), 1
        # Then the best passage of each of the top sources (an answer often needs two articles), then
        # the next best passages overall, within the length budget.
        firsts = {}
        for unit in order:
            if unit.hit_index < self.cover_sources and unit.hit_index not in firsts:
                firsts[unit.hit_index] = unit
        for unit in [*sorted(firsts.values(), key=lambda u: u.hit_index), *order]:
            if count >= self.max_quotes:
                break
            if unit in chosen or (size + len(unit.text) > self.max_chars and chosen):
                continue
            if any(unit.text in other.text for other in chosen):
                continue  # already quoted: overlapping chunks, or a second copy of a document
            chosen.append(unit)
            size += len(unit.text)
            count += 1
        chosen.sort(key=lambda u: (u.hit_index, u.position))
        merged: list[Quote] = []
        previous = ""
        for unit in chosen:
            n = unit.hit_index + 1
            if merged and merged[-1].n == n:
                # joined with a space only when the two stand next to each other in the source; "…" marks
                # left-out text (stored passages skip short paragraphs, so positions alone cannot tell)
                adjacent = f"{previous} {unit.text}" in _quotable(hits[unit.hit_index].chunk.text)
                merged[-1] = Quote(n, f"{merged[-1].text}{' ' if adjacent else ' … '}{unit.text}")
            else:
                merged.append(Quote(n, unit.text))
            previous = unit.text
        return merged

    def _is_introduction(self, hit: Hit) -> bool:
        """The short text a document opens with under its title, before its first section (a document that
        is only one short text is no introduction)."""
        c = hit.chunk
        if c.index != 0 or len(c.section) != 1 or len(c.text) >= 600 or self.chunk_count is None:
            return False
        return self.chunk_count(c.doc_id) > 1

    def compose(self, quotes: list[Quote], hits: list[Hit]) -> str:
        lines = [self.prompts.line("extractive_lead_nl.txt"), ""]
        for q in quotes:
            c = hits[q.n - 1].chunk
            where = c.section[-1] if c.section else c.title
            label = c.title if where == c.title else f"{c.title}, {where}"
            lines.append(f"- {label}: “{q.text}” [{q.n}]")
        for group in version_groups(hits, [q.n for q in quotes]):
            numbers = [f"[{n}]" for n in group.sources]
            lines += ["", self.prompts.render(
                "versions_note_nl.txt",
                sources=", ".join(numbers[:-1]) + f" en {numbers[-1]}",
                rule=group.rule,
                newest=str(group.newest),
                date=dutch_date(group.dates[0]),
            ).strip()]
        return "\n".join(lines)

    def stream(self, question: str, hits: list[Hit]) -> tuple[Iterator[str], list[Quote]]:
        quotes = self.select(question, hits)
        text = self.compose(quotes, hits)
        return iter(_pieces(text)), quotes


_SOURCE_LINE = re.compile(r"^\s*Bron:[^\n]*(?:\n|$)", re.IGNORECASE)


def _quotable(text: str) -> str:
    """Text as quoted: on one line, without a leading "Bron: <url>" line (the source card links it)."""
    return " ".join(_SOURCE_LINE.sub("", text.strip()).split())


def _pieces(text: str, size: int = 24) -> list[str]:
    """Split the composed answer into small pieces so the UI can stream it like an LLM answer."""
    words = text.split(" ")
    return [" ".join(words[i : i + size]) + (" " if i + size < len(words) else "") for i in range(0, len(words), size)]
