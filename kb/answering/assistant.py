"""The answer pipeline: condense → retrieve → refuse or compose → verify citations → stream.

One interface for every answerer: :meth:`Assistant.ask` returns an :class:`AnswerStream`, so the UI and the
CLI do not care whether the extractive default or an LLM writes the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from kb.answering.answerability import Verdict, evidence_features, load_model
from kb.answering.citations import check_answer
from kb.answering.condense import condense
from kb.answering.evidence import cosine_matrix, lexical_overlap, split_units, unit_vectors
from kb.answering.extractive import ExtractiveAnswerer
from kb.answering.llm import LLMAnswerer, make_chat_model
from kb.answering.prompts import Prompts
from kb.answering.types import Answer, AnswerStream, Citation, Turn
from kb.config import Settings
from kb.embeddings import Embedder
from kb.retrieval.retriever import Retriever
from kb.retrieval.types import NO_FILTERS, Hit, SearchFilters
from kb.text import split_sentences

log = logging.getLogger(__name__)

REFUSAL_PHRASE = "dat staat niet in de bronnen"


def confidence(embedder: Embedder, question: str, hits: list[Hit], top: int = 3) -> float:
    """Evidence strength: the best of the top hits' mix of dense similarity and lexical coverage."""
    if not hits:
        return 0.0
    best = 0.0
    for hit in hits[:top]:
        dense = hit.signals.get("dense")
        if dense is None:
            dense = float(cosine_matrix(embedder, question, [hit.chunk.indexed_text])[0])
        lexical = lexical_overlap(question, hit.chunk.indexed_text)
        best = max(best, 0.5 * float(dense) + 0.5 * lexical)
    return best


class Assistant:
    def __init__(
        self,
        retriever: Retriever,
        embedder: Callable[[], Embedder],
        settings: Settings,
        chat_model: object | None = None,
        help_finder: Callable[[Answer], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.help_finder = help_finder  # fills Answer.help on refusals and uncertain answers (kb.partners)
        self.retriever = retriever
        self._embedder = embedder
        self.settings = settings
        self.prompts = Prompts(settings.prompts_dir)
        self._chat_model = chat_model

    @property
    def uses_llm(self) -> bool:
        return self.settings.answerer != "extractive" or self._chat_model is not None

    def llm(self) -> LLMAnswerer:
        if self._chat_model is None:
            self._chat_model = make_chat_model(self.settings)
        return LLMAnswerer(self._chat_model, self.prompts, name=self.settings.answerer)

    def ask(
        self, question: str, history: list[Turn] | None = None, filters: SearchFilters = NO_FILTERS
    ) -> AnswerStream:
        stream = self._ask(question, history, filters)
        return stream.then(self._add_help) if self.help_finder is not None else stream

    def _add_help(self, answer: Answer) -> Answer:
        if answer.refused or getattr(answer, "uncertain", False):
            answer.help = self.help_finder(answer) if self.help_finder is not None else []
        return answer

    def _ask(self, question: str, history: list[Turn] | None, filters: SearchFilters) -> AnswerStream:
        question = question.strip()
        history = list(history or [])
        rewrite = self.llm().rewrite_follow_up if self.uses_llm else None
        standalone = condense(question, history, rewrite)
        hits = self.retriever.search(standalone, self.settings.answer_sources, filters)
        embedder = self._embedder()
        conf = confidence(embedder, standalone, hits)
        if not hits or conf < self.settings.refusal_threshold:
            return self._refusal(question, standalone, hits, conf)
        verdict = self.judge(standalone, hits, filters)
        if verdict.refused:
            log.info("geweigerd: %s", verdict.reason)
            return self._refusal(question, standalone, hits, conf, reason=verdict.reason)
        if self.uses_llm:
            stream = self._llm_answer(question, standalone, hits, conf, embedder)
        else:
            stream = self._extractive_answer(question, standalone, hits, conf, embedder)
        return self._marked(stream, verdict, hits) if verdict.uncertain else stream

    def judge(self, question: str, hits: list[Hit], filters: SearchFilters = NO_FILTERS) -> Verdict:
        """Answer, answer marked uncertain, or refuse: the evidence model over this search's signals."""
        if not self.settings.answerability_rules or not hits:
            return Verdict("answer", 1.0)
        model = load_model(self.settings.embed_model)
        if model is None:
            return Verdict("answer", 1.0)
        return model.decide(self.evidence(question, hits, filters))

    def evidence(self, question: str, hits: list[Hit], filters: SearchFilters = NO_FILTERS) -> dict[str, float]:
        """The evidence signals of a search (``kb.answering.answerability.FEATURES``)."""
        lexical = self.retriever.lexical.get()
        expanded = self.retriever.expand(question)
        lexical_docs = [c.doc_id for c, _ in lexical.search(expanded, 10, filters)]
        expansions = self.retriever.expander().expansions(question) if self.settings.glossary_expansion else []
        return evidence_features(question, hits, lexical.analyzer, lexical_docs, expansions)

    def _marked(self, stream: AnswerStream, verdict: Verdict, hits: list[Hit]) -> AnswerStream:
        """The answer with "Ik weet het niet zeker; dit lijkt erop te gaan over …" in front."""
        top = hits[0].chunk
        where = top.section[-1] if top.section else top.title
        # a section heading is often a question ("Wat kan de organisatie doen …?"): quoted, it reads as a name
        subject = top.title if where == top.title else f"“{where}” ({top.title})"
        lead = self.prompts.render("uncertain_nl.txt", subject=subject).strip() + "\n\n"
        inner_finish = stream._finish

        def pieces():
            yield lead
            yield from stream._pieces

        def finish(text: str) -> Answer:
            answer = inner_finish(text[len(lead) :] if text.startswith(lead) else text)
            if answer.refused:
                return answer
            answer.text = lead + answer.text
            answer.uncertain = True
            if verdict.reason:
                answer.warnings.append(f"onzeker: {verdict.reason}")
            return answer

        return AnswerStream(pieces(), finish)

    # ------------------------------------------------------------------------------- answerers
    def _extractive_answer(
        self, question: str, standalone: str, hits: list[Hit], conf: float, embedder: Embedder
    ) -> AnswerStream:
        answerer = ExtractiveAnswerer(
            embedder,
            self.prompts,
            max_quotes=self.settings.answer_max_quotes,
            cover_sources=self.settings.answer_cover_sources,
            full_source_chars=self.settings.answer_full_source_chars,
            stored_units=unit_vectors(
                self.retriever.store, embedder, budget_chars=self.settings.answer_unit_budget_chars
            ),
            chunk_count=self._chunk_count,
        )
        pieces, quotes, order = answerer.stream(standalone, hits)
        shown = [hits[i] for i in order]  # numbered 1..n as the answer cites them
        # the card highlights the selected passage of each source (the lead's sentences stand in it)
        by_number: dict[int, str] = {}
        for q in quotes:
            by_number[q.n] = q.text
        citations = [Citation(n, shown[n - 1], text, supported=True) for n, text in sorted(by_number.items())]

        def finish(text: str) -> Answer:
            return Answer(question, standalone, text, False, citations, shown, conf, answerer.name)

        return AnswerStream(pieces, finish)

    def _chunk_count(self, doc_id: str) -> int:
        record = self.retriever.store.get_document(doc_id)
        return record.chunk_count if record else 0

    def _llm_answer(
        self, question: str, standalone: str, hits: list[Hit], conf: float, embedder: Embedder
    ) -> AnswerStream:
        answerer = self.llm()

        def finish(raw: str) -> Answer:
            if REFUSAL_PHRASE in raw.casefold() and len(raw) < 200:
                return self._refusal(question, standalone, hits, conf, answerer.name).complete()
            checked = check_answer(
                raw,
                [h.chunk.text for h in hits],
                embedder,
                unsupported_marker=self.prompts.text("unsupported_marker_nl.txt").rstrip("\n"),
            )
            citations = [
                Citation(
                    n,
                    hits[n - 1],
                    self._best_quote(raw, hits[n - 1]),
                    supported=not _sentence_unsupported(checked.text, n, self.prompts),
                )
                for n in checked.cited
            ]
            warnings = [f"ongeldige bronverwijzing verwijderd: {m}" for m in checked.removed]
            warnings += [f"niet onderbouwd door de genoemde bron: {s}" for s in checked.unsupported]
            return Answer(question, standalone, checked.text, False, citations, hits, conf, answerer.name, warnings)

        return AnswerStream(answerer.stream(standalone, hits), finish)

    def _refusal(
        self,
        question: str,
        standalone: str,
        hits: list[Hit],
        conf: float,
        answerer: str | None = None,
        reason: str | None = None,
    ) -> AnswerStream:
        lines = [self.prompts.line("refusal_nl.txt"), self.settings.support_contact]
        nearby = suggestions(hits, self.settings.suggestion_floor)
        if nearby:
            lines += ["", self.prompts.line("maybe_useful_nl.txt")]
            for h in nearby:
                where = h.chunk.section[-1] if h.chunk.section else h.chunk.title
                label = h.chunk.title if where == h.chunk.title else f"{h.chunk.title} ({where})"
                lines.append(f"- {label}")
        text = "\n".join(lines)
        name = answerer or (self.settings.answerer if self.uses_llm else "extractive")

        def finish(_: str) -> Answer:
            warnings = [f"geweigerd: {reason}"] if reason else []
            return Answer(question, standalone, text, True, [], hits, conf, name, warnings, suggestions=nearby)

        return AnswerStream(iter([text]), finish)

    @staticmethod
    def _best_quote(answer: str, hit: Hit) -> str:
        units = split_units(hit.chunk.text)
        if not units:
            return hit.chunk.text[:300]
        scores = np.array([lexical_overlap(answer, u) for u in units])
        return units[int(np.argmax(scores))]


def suggestions(hits: list[Hit], floor: float, n: int = 3, window: float = 0.08) -> list[Hit]:
    """At most ``n`` closest sources worth offering after a refusal: one per section, dense similarity at
    least ``floor`` and within ``window`` of the best one (a distant runner-up is no suggestion)."""
    if not hits:
        return []

    def score(h: Hit) -> float:
        return float(h.signals.get("dense", h.score))

    best = score(hits[0])
    out: list[Hit] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for h in hits:
        key = (h.chunk.doc_id, h.chunk.section)
        if key in seen or score(h) < floor or score(h) < best - window:
            continue
        seen.add(key)
        out.append(h)
        if len(out) == n:
            break
    return out


def _sentence_unsupported(text: str, n: int, prompts: Prompts) -> bool:
    marker = prompts.text("unsupported_marker_nl.txt").strip()
    # the sentences as verify_support marked them: per line, split_sentences
    return any(f"[{n}]" in s and marker in s for line in text.split("\n") for s in split_sentences(line))
