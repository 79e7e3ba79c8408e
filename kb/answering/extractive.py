"""The default answerer, with no LLM: quote the most relevant passages of the top sources.

Every unit (numbered paragraph or sentence) of the top sources is scored against the question with the
embedding model and lexical overlap, plus a small prior for the source's retrieval rank. The best units are
quoted with their source number [n], in source order. Deterministic and offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from kb.answering.evidence import (
    Unit,
    cosine_matrix,
    is_link_list,
    lexical_overlap,
    outside_link_lists,
    split_units,
    without_link_lists,
)
from kb.answering.prompts import Prompts
from kb.answering.versions import version_groups
from kb.display import dutch_date
from kb.embeddings import Embedder
from kb.retrieval.types import Hit
from kb.text import split_sentences


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
        lead_words: int = 70,
        embed_units: bool = True,
        support_words: int | None = None,
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
        self.lead_words = lead_words  # the lead (quoted answer sentences) stays within about this many words
        # False: a chunk stored with only its own vector lends that vector to each of its units (no embedding
        # at answer time; the units are then told apart by word overlap and rank only)
        self.embed_units = embed_units
        # with a number, each supporting line ("Meer uit de bronnen") quotes only its source's best sentences
        # within about this many words. Off by default: every budget lost key facts in cross-validation
        # (bench/run_support_budget.py, README); the app shows the supporting lines collapsed instead.
        self.support_words = support_words

    def select(self, question: str, hits: list[Hit]) -> list[Quote]:
        # A document's introduction (text right under its title: "deze gids legt uit …") matches broadly but
        # answers little: quoted only when the sources hold nothing else.
        intros = {i for i, h in enumerate(hits) if self._is_introduction(h)}
        # The best source whole when it is short: the key fact often stands in another paragraph (lid) of
        # the best article than the one that resembles the question most (an introduction: the next one).
        top = next((i for i in range(min(2, len(hits))) if i not in intros), None)
        whole = _quotable(hits[top].chunk.text) if top is not None else ""
        # a source with a list of links is never quoted whole: its units are ranked without the list
        whole = whole if top is not None and without_link_lists(hits[top].chunk.text) == hits[top].chunk.text else ""
        quoted_whole = top if whole and len(whole) <= self.full_source_chars else None
        if self.stored_units is not None:
            query_vector = self.embedder.encode_queries([question])[0]
            # a source quoted whole never has its units ranked: none of it is embedded at answer time
            asked = [h.chunk.chunk_id for i, h in enumerate(hits) if i != quoted_whole]
            stored = self.stored_units(asked) if asked else {}
            if asked and not stored:
                return []
            pairs: list[tuple[int, str, np.ndarray]] = []
            for i, h in enumerate(hits):
                if i == quoted_whole:
                    placeholder = np.zeros_like(query_vector)
                    pairs.extend((i, text, placeholder) for text in split_units(h.chunk.text))
                    continue
                units_of = stored.get(h.chunk.chunk_id, [])
                if len(units_of) == 1 and units_of[0][0] == h.chunk.text and _splits(h.chunk.text):
                    # only the chunk's own vector (no passage vectors): embed its units, or lend it to them
                    missing = split_units(h.chunk.text)
                    if self.embed_units:
                        vectors = list(self.embedder.encode_documents(missing))
                    else:
                        vectors = [units_of[0][1]] * len(missing)
                    units_of = list(zip(missing, vectors, strict=True))
                pairs.extend((i, text, vec) for text, vec in units_of)
            # stored passages are the chunk's paragraphs and list items: none from a list of links
            pairs = [(i, text, vec) for i, text, vec in pairs if outside_link_lists(text, hits[i].chunk.text)]
            units = [Unit(i, pos, _quotable(text)) for pos, (i, text, _) in enumerate(pairs)]
            if not units:
                return []
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
        order = [u for u in order if u.hit_index not in intros] or order
        chosen: list[Unit] = []
        size = 0
        count = 0
        if quoted_whole is not None and top is not None:
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
        """The short text a document opens with right under its title, before its first section: the first
        chunk whose heading path is only the title (a first real section, under its own heading, is no
        introduction; nor is a document that is only one short text)."""
        c = hit.chunk
        if c.index != 0 or len(c.section) > 1 or len(c.text) >= 600 or self.chunk_count is None:
            return False
        if c.section and _key(c.section[0]) != _key(c.title):
            return False
        return self.chunk_count(c.doc_id) > 1

    def lead(self, question: str, quotes: list[Quote], hits: list[Hit]) -> list[Quote]:
        """The one or two sentences that answer: the best sentences of the best quoted passage (and of the
        next source when it also answers), whole, with the list that follows a colon; ≤ ~80 words. A table is
        never part of the lead (it does not fit a phone; its source card shows it), nor is one sentence of
        more than twice the budget when a shorter one answers."""
        if not quotes:
            return []
        ranked = self._ranked_sentences(question, quotes)
        fitting = [r for r in ranked if len(r[1].split()) <= 2 * self.lead_words]
        ranked = fitting or ranked
        out: list[Quote] = []
        words = 0
        for n, sentence, _ in ranked:
            size = len(sentence.split())
            if out and (words + size > self.lead_words or len(out) >= 2):
                break
            if any(sentence in q.text or q.text in sentence for q in out):
                continue
            out.append(Quote(n, sentence))
            words += size
            if words >= self.lead_words:
                break
        return out

    def _ranked_sentences(self, question: str, quotes: list[Quote]) -> list[tuple[int, str, float]]:
        scored: list[tuple[int, str, float]] = []
        asks_number = bool(_ASKS_NUMBER.search(question))
        for rank, q in enumerate(quotes):
            for pos, sentence in enumerate(prose_sentences(q.text)):
                if len(sentence) < 15 or is_link_list(sentence) or sentence.rstrip(" ”\"'").endswith("?"):
                    continue  # a question in the source ("Staat er geen regeling …?") answers nothing
                scored.append(
                    (q.n, sentence, _sentence_score(question, sentence, asks_number) - 0.12 * rank - 0.02 * pos)
                )
        return sorted(scored, key=lambda t: -t[2])

    def support_text(self, question: str, text: str) -> str:
        """A supporting passage cut to its best whole sentences (at least one, within ``support_words``), in
        source order; "…" where text is left out. Tables and lists of links are left out (the card shows
        them) unless nothing else is left."""
        sentences = [s for s in prose_sentences(text) if len(re.sub(r"\W", "", s)) >= 15 and not is_link_list(s)]
        if not sentences:
            return text
        asks_number = bool(_ASKS_NUMBER.search(question))
        best = sorted(
            range(len(sentences)),
            key=lambda i: -(_sentence_score(question, sentences[i], asks_number) - 0.02 * i),
        )
        keep: list[int] = []
        words = 0
        for i in best:
            size = len(sentences[i].split())
            if keep and words + size > (self.support_words or len(text)):
                continue
            keep.append(i)
            words += size
        keep.sort()
        out = sentences[keep[0]]
        for previous, i in pairwise(keep):
            adjacent = f"{sentences[previous]} {sentences[i]}" in text
            out += f"{' ' if adjacent else ' … '}{sentences[i]}"
        return out

    def compose(self, quotes: list[Quote], hits: list[Hit], lead: list[Quote] | None = None, question: str = "") -> str:
        """The lead sentences with short citations, then the supporting passages (without the lead's
        sentences; with a question, each cut to its best sentences), then any version note. A label
        ("Gids — Sectie") is written once: a later line from the same place has only its [n]. Numbers are
        those of ``quotes``/``lead`` (see :meth:`renumber`)."""
        lead = lead or []
        lines: list[str] = []
        labelled: set[str] = set()

        def label(n: int) -> str:
            text = short_citation(hits[n - 1])
            if text in labelled:
                return ""
            labelled.add(text)
            return f" ({text})"

        for q in lead:
            lines.append(f"“{q.text}”{label(q.n)} [{q.n}]")
        support: list[str] = []
        for q in quotes:
            text = q.text
            for sentence in (ld.text for ld in lead if ld.n == q.n):
                text = _without(text, sentence)
            if not text:
                continue
            if question and self.support_words:
                text = self.support_text(question, text)
            support.append(f"- “{text}”{label(q.n)} [{q.n}]")
        if lead and support:
            lines += ["", self.prompts.line("extractive_support_nl.txt"), *support]
        elif not lead:
            lines = [self.prompts.line("extractive_lead_nl.txt"), "", *support]
        for group in version_groups(hits, [q.n for q in quotes]):
            numbers = [f"[{n}]" for n in group.sources]
            lines += [
                "",
                self.prompts.render(
                    "versions_note_nl.txt",
                    sources=", ".join(numbers[:-1]) + f" en {numbers[-1]}",
                    rule=group.rule,
                    newest=str(group.newest),
                    date=dutch_date(group.dates[0]),
                ).strip(),
            ]
        return "\n".join(lines)

    def stream(self, question: str, hits: list[Hit]) -> tuple[Iterator[str], list[Quote], list[int]]:
        """The answer's pieces, its quotes and the order of the sources as shown: ``order[i]`` is the index
        into ``hits`` of source number i + 1 (cited sources first, numbered 1..n by first appearance)."""
        quotes = self.select(question, hits)
        lead = self.lead(question, quotes, hits)
        order = renumber_order([q.n for q in lead] + [q.n for q in quotes], len(hits))
        new_number = {old: i + 1 for i, old in enumerate(n + 1 for n in order)}
        shown = [hits[i] for i in order]
        quotes = [Quote(new_number[q.n], q.text) for q in quotes]
        lead = [Quote(new_number[q.n], q.text) for q in lead]
        text = self.compose(quotes, shown, lead, question)
        return iter(_pieces(text)), lead + quotes, order


def _splits(text: str) -> bool:
    """Whether ``text`` quotes as more than itself: several units, or one without a list of links it had."""
    units = split_units(text)
    return len(units) > 1 or units != [" ".join(text.split())]


def renumber_order(cited: list[int], n_hits: int) -> list[int]:
    """Indices into the hits: the cited ones (1-based numbers) in order of first appearance, then the rest."""
    first = [n - 1 for n in dict.fromkeys(cited)]
    return first + [i for i in range(n_hits) if i not in first]


_ARTICLE_HEADING = re.compile(r"^(art(?:ikel)?\.? [^\s–—]+(?: [^\s–—-][^–—]*?)?)(?:\s+[–—-]\s+.*)?$", re.IGNORECASE)
_ASKS_NUMBER = re.compile(
    r"\b(hoeveel|hoe hoog|hoe lang|welk bedrag|wat kost|bedrag|termijn|binnen hoeveel)\b", re.IGNORECASE
)
_NUMBER = re.compile(r"\d|€")


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def short_citation(hit: Hit) -> str:
    """ "art. 2:34 BW" for a law article, else the document's title (cut at a word to at most ``_LABEL_PART``
    characters; the source card names it in full) and section ("Gids — Oprichten"). The section stays whole:
    it often names what the passage is about."""
    c = hit.chunk
    where = c.section[-1] if c.section else ""
    match = _ARTICLE_HEADING.match(where) if where else None
    if match and where.casefold().startswith("art"):
        return match.group(1).strip()
    title = _shortened(c.title)
    if not where or _key(where) == _key(c.title):
        return title
    return f"{title} — {' '.join(where.split())}"


_LABEL_PART = 60


def _shortened(text: str, size: int = _LABEL_PART) -> str:
    """``text`` when it fits in ``size`` characters, else cut at the last word that fits, with "…"."""
    text = " ".join(text.split())
    if len(text) <= size:
        return text
    cut = text[: size - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–—-") + "…"


def _sentence_score(question: str, sentence: str, asks_number: bool) -> float:
    """How well one sentence answers: its share of the question's stems, plus a bonus for a number when
    the question asks for an amount or a term."""
    return lexical_overlap(question, sentence) + (0.15 if asks_number and _NUMBER.search(sentence) else 0.0)


# a Markdown table as quoted (on one line): its rows of "| cell | cell |", with the header's "|---|" row
_TABLE_RUN = re.compile(r"\|(?:[^|]*\|)+")


def prose_sentences(text: str) -> list[str]:
    """The whole sentences of a quoted passage outside its tables (a table's cells are no sentences, and a
    sentence must not swallow the table before it); a sentence that only introduces a table (ends on a
    colon) is left out with it."""
    pieces: list[str] = []
    last = 0
    for match in _TABLE_RUN.finditer(text):
        if "---" in match.group():
            pieces.append(text[last : match.start()])
            last = match.end()
    pieces.append(text[last:])
    out: list[str] = []
    for piece in pieces:
        sentences = split_sentences(piece.strip(" …"), keep_lead_ins=True) if piece.strip(" …") else []
        if sentences and sentences[-1].rstrip().endswith(":") and len(pieces) > 1:
            sentences.pop()
        out.extend(s.strip() for s in sentences if s.strip())
    return out


def _without(text: str, sentence: str) -> str:
    """``text`` with ``sentence`` left out ("…" where it stood between other text); "" when nothing is left."""
    if sentence not in text:
        return text
    before, _, after = text.partition(sentence)
    # two neighbouring sentences left out one after the other leave one "…", not "… …"
    before, after = before.strip().removesuffix("…").rstrip(), after.strip().removeprefix("…").lstrip()
    if len(re.sub(r"\W", "", before + after)) < 15:
        return ""
    if before and after:
        return f"{before} … {after}"
    return before or after


_SOURCE_LINE = re.compile(r"^\s*Bron:[^\n]*(?:\n|$)", re.IGNORECASE)


def _quotable(text: str) -> str:
    """Text as quoted: on one line, without a leading "Bron: <url>" line (the source card links it)."""
    return " ".join(_SOURCE_LINE.sub("", text.strip()).split())


def _pieces(text: str, size: int = 24) -> list[str]:
    """Split the composed answer into small pieces so the UI can stream it like an LLM answer."""
    words = text.split(" ")
    return [" ".join(words[i : i + size]) + (" " if i + size < len(words) else "") for i in range(0, len(words), size)]
