"""Retrieval and answer scores as defined in ``shared/bench/README.md``.

Retrieval, over the non-negative questions: recall@k (a gold citation matches one of the top k chunks) for
k = 1, 5, 10, and MRR of the first matching chunk (0 when none of the retrieved chunks matches). Answers,
over the non-negative questions: the share that contains every ``answer_must_contain`` string and the share
whose cited chunks include a gold or acceptable citation; on the negative controls the share refused, and
on the answerable questions the share wrongly refused. Rates over an empty group are ``None``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kb.evaluation.citations import chunk_matches_any
from kb.evaluation.normalize import missing_facts
from kb.evaluation.questions import QUESTION_TYPES, EvalQuestion
from kb.stats import median, percentile

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)

T = TypeVar("T")


@dataclass(frozen=True)
class RetrievedItem:
    """What the scores need of a retrieved or cited chunk: its file and heading path."""

    source: str
    section: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "section", tuple(self.section))

    @classmethod
    def from_hit(cls, hit: Any) -> RetrievedItem:
        """From a :class:`kb.retrieval.types.Hit` (or anything with ``.chunk.source``/``.chunk.section``, or
        with ``.source``/``.section`` itself)."""
        chunk = getattr(hit, "chunk", hit)
        return cls(str(chunk.source), tuple(chunk.section))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "section": list(self.section)}

    def label(self) -> str:
        return f"{self.source} § {' > '.join(self.section)}" if self.section else self.source


def as_item(value: Any) -> RetrievedItem:
    """Accept a RetrievedItem, a Hit-like object or a ``(source, section)`` pair."""
    if isinstance(value, RetrievedItem):
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return RetrievedItem(value[0], tuple(value[1]))
    return RetrievedItem.from_hit(value)


@dataclass
class RetrievalRun:
    """The ranked chunks one search returned for one question, and how long it took."""

    question: EvalQuestion
    items: list[RetrievedItem]
    seconds: float


@dataclass
class AnswerRun:
    """One generated answer: its text, whether it was a refusal, the chunks it cites, and its duration."""

    question: EvalQuestion
    answer: str
    refused: bool
    cited: list[RetrievedItem]
    seconds: float


@dataclass(frozen=True)
class Timing:
    """Seconds per query."""

    n: int
    median: float | None
    p95: float | None
    mean: float | None
    max: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        if not seconds:
            return cls(0, None, None, None, None)
        return cls(
            n=len(seconds),
            median=median(seconds),
            p95=percentile(seconds, 95),
            mean=statistics.fmean(seconds),
            max=max(seconds),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median_s": self.median, "p95_s": self.p95, "mean_s": self.mean, "max_s": self.max}


def _rate(hits: int, n: int) -> float | None:
    return hits / n if n else None


def _group(items: Iterable[T], key: Callable[[T], str], order: Sequence[str] = ()) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    ranked = {name: i for i, name in enumerate(order)}
    return dict(sorted(groups.items(), key=lambda kv: (ranked.get(kv[0], len(ranked)), kv[0])))


# --------------------------------------------------------------------------------------------- retrieval


def first_match_rank(question: EvalQuestion, items: Sequence[RetrievedItem]) -> int | None:
    """1-based rank of the first item that matches a gold citation, or None."""
    for rank, item in enumerate(items, start=1):
        if chunk_matches_any(question.gold_citations, item.source, item.section):
            return rank
    return None


@dataclass(frozen=True)
class RetrievalScores:
    """Recall@k and MRR over a group of questions."""

    n: int
    recall: dict[int, float | None]
    mrr: float | None

    @classmethod
    def of(cls, ranks: Sequence[int | None], ks: Sequence[int]) -> RetrievalScores:
        n = len(ranks)
        recall = {k: _rate(sum(1 for r in ranks if r is not None and r <= k), n) for k in ks}
        mrr = sum(1.0 / r for r in ranks if r is not None) / n if n else None
        return cls(n, recall, mrr)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, **{f"recall@{k}": v for k, v in self.recall.items()}, "mrr": self.mrr}


@dataclass(frozen=True)
class RetrievalResult:
    """One answerable question: where its first gold chunk came, and what came first."""

    id: str
    question: str
    type: str
    topic: str
    gold: tuple[str, ...]
    rank: int | None
    first: RetrievedItem | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "type": self.type,
            "topic": self.topic,
            "gold": list(self.gold),
            "rank": self.rank,
            "first": self.first.to_dict() if self.first else None,
            "seconds": self.seconds,
        }


@dataclass
class RetrievalReport:
    """Retrieval scores overall, per type and per topic; misses; timing.

    ``misses`` are the answerable questions whose rank-1 chunk does not match a gold citation, those not
    found at all (``rank`` None) first, then by rank. ``timing`` covers every search, negatives included.
    """

    ks: tuple[int, ...]
    overall: RetrievalScores
    by_type: dict[str, RetrievalScores]
    by_topic: dict[str, RetrievalScores]
    results: list[RetrievalResult]
    misses: list[RetrievalResult]
    timing: Timing
    n_negative: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ks": list(self.ks),
            "overall": self.overall.to_dict(),
            "by_type": {k: v.to_dict() for k, v in self.by_type.items()},
            "by_topic": {k: v.to_dict() for k, v in self.by_topic.items()},
            "n_negative": self.n_negative,
            "misses": [m.to_dict() for m in self.misses],
            "results": [r.to_dict() for r in self.results],
            "timing": self.timing.to_dict(),
        }


def score_retrieval(runs: Sequence[RetrievalRun], ks: Sequence[int] = DEFAULT_KS) -> RetrievalReport:
    """Score retrieval runs; negative controls only count for timing."""
    ks = tuple(sorted(set(ks)))
    results = [
        RetrievalResult(
            id=run.question.id,
            question=run.question.question,
            type=run.question.type,
            topic=run.question.topic,
            gold=run.question.gold_citations,
            rank=first_match_rank(run.question, run.items),
            first=run.items[0] if run.items else None,
            seconds=run.seconds,
        )
        for run in runs
        if not run.question.is_negative
    ]

    def scores(group: Sequence[RetrievalResult]) -> RetrievalScores:
        return RetrievalScores.of([r.rank for r in group], ks)

    misses = sorted(
        (r for r in results if r.rank != 1),
        key=lambda r: (r.rank is not None, r.rank or 0),
    )
    return RetrievalReport(
        ks=ks,
        overall=scores(results),
        by_type={k: scores(g) for k, g in _group(results, lambda r: r.type, QUESTION_TYPES).items()},
        by_topic={k: scores(g) for k, g in _group(results, lambda r: r.topic).items()},
        results=results,
        misses=misses,
        timing=Timing.of([run.seconds for run in runs]),
        n_negative=sum(1 for run in runs if run.question.is_negative),
    )


# --------------------------------------------------------------------------------------------- answers


def cites_expected(question: EvalQuestion, cited: Sequence[RetrievedItem]) -> bool:
    """Does one of the cited chunks match a gold or acceptable citation?"""
    return any(chunk_matches_any(question.all_citations, c.source, c.section) for c in cited)


@dataclass(frozen=True)
class AnswerResult:
    """How one answer did."""

    id: str
    question: str
    type: str
    topic: str
    negative: bool
    refused: bool
    missing: tuple[str, ...]  # answer_must_contain strings not found
    cited_ok: bool
    cited: tuple[RetrievedItem, ...]
    answer: str
    seconds: float

    @property
    def contains_all(self) -> bool:
        return not self.missing

    @property
    def passed(self) -> bool:
        """Negative: refused. Answerable: not refused, every fact present, a right source cited."""
        if self.negative:
            return self.refused
        return not self.refused and self.contains_all and self.cited_ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "type": self.type,
            "topic": self.topic,
            "negative": self.negative,
            "refused": self.refused,
            "missing": list(self.missing),
            "contains_all": self.contains_all,
            "cited_ok": self.cited_ok,
            "cited": [c.to_dict() for c in self.cited],
            "answer": self.answer,
            "seconds": self.seconds,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class AnswerScores:
    """Answer scores over a group: ``n`` answerable and ``n_negative`` negative questions."""

    n: int
    must_contain: float | None
    citation: float | None
    wrong_refusal: float | None
    n_negative: int
    refusal: float | None

    @classmethod
    def of(cls, results: Sequence[AnswerResult]) -> AnswerScores:
        answerable = [r for r in results if not r.negative]
        negative = [r for r in results if r.negative]
        n = len(answerable)
        return cls(
            n=n,
            must_contain=_rate(sum(r.contains_all for r in answerable), n),
            citation=_rate(sum(r.cited_ok for r in answerable), n),
            wrong_refusal=_rate(sum(r.refused for r in answerable), n),
            n_negative=len(negative),
            refusal=_rate(sum(r.refused for r in negative), len(negative)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "must_contain": self.must_contain,
            "citation": self.citation,
            "wrong_refusal": self.wrong_refusal,
            "n_negative": self.n_negative,
            "refusal": self.refusal,
        }


@dataclass
class AnswerReport:
    """Answer scores overall, per type and per topic; the questions that failed; timing.

    ``failures``: answerable questions refused, missing a fact or citing no right source, and negative
    controls that were answered instead of refused.
    """

    overall: AnswerScores
    by_type: dict[str, AnswerScores]
    by_topic: dict[str, AnswerScores]
    results: list[AnswerResult]
    failures: list[AnswerResult]
    timing: Timing

    @property
    def must_contain_rate(self) -> float | None:
        return self.overall.must_contain

    @property
    def citation_rate(self) -> float | None:
        return self.overall.citation

    @property
    def refusal_rate(self) -> float | None:
        return self.overall.refusal

    @property
    def wrong_refusal_rate(self) -> float | None:
        return self.overall.wrong_refusal

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "by_type": {k: v.to_dict() for k, v in self.by_type.items()},
            "by_topic": {k: v.to_dict() for k, v in self.by_topic.items()},
            "failures": [f.to_dict() for f in self.failures],
            "results": [r.to_dict() for r in self.results],
            "timing": self.timing.to_dict(),
        }


def score_answers(runs: Sequence[AnswerRun]) -> AnswerReport:
    """Score answer runs (negatives and answerable questions together)."""
    results = [
        AnswerResult(
            id=run.question.id,
            question=run.question.question,
            type=run.question.type,
            topic=run.question.topic,
            negative=run.question.is_negative,
            refused=bool(run.refused),
            missing=()
            if run.question.is_negative
            else tuple(missing_facts(run.answer, run.question.answer_must_contain)),
            cited_ok=False if run.question.is_negative else cites_expected(run.question, run.cited),
            cited=tuple(run.cited),
            answer=run.answer,
            seconds=run.seconds,
        )
        for run in runs
    ]
    return AnswerReport(
        overall=AnswerScores.of(results),
        by_type={k: AnswerScores.of(g) for k, g in _group(results, lambda r: r.type, QUESTION_TYPES).items()},
        by_topic={k: AnswerScores.of(g) for k, g in _group(results, lambda r: r.topic).items()},
        results=results,
        failures=[r for r in results if not r.passed],
        timing=Timing.of([run.seconds for run in runs]),
    )
