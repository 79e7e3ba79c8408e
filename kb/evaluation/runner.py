"""Run the benchmark questions through a search or answer function and score the results.

Both runners take plain callables, so they work with the real retriever, a remote service or a fake:

* ``search(question_text, k) -> list[RetrievedItem]`` (Hits and ``(source, section)`` pairs are accepted too);
* ``ask(question_text) -> (answer_text, refused, cited_items)``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from kb.evaluation.metrics import (
    DEFAULT_KS,
    AnswerReport,
    AnswerRun,
    RetrievalReport,
    RetrievalRun,
    RetrievedItem,
    as_item,
    score_answers,
    score_retrieval,
)
from kb.evaluation.questions import EvalQuestion

SearchFn = Callable[[str, int], Sequence[Any]]
AskFn = Callable[[str], tuple[str, bool, Sequence[Any]]]
ProgressFn = Callable[[int, int, EvalQuestion], None]


def retrieve_all(
    questions: Sequence[EvalQuestion], search: SearchFn, k: int = 10, progress: ProgressFn | None = None
) -> list[RetrievalRun]:
    """One timed search per question (negatives too); at most ``k`` items are kept."""
    if k < 1:
        raise ValueError("k moet minstens 1 zijn")
    runs: list[RetrievalRun] = []
    for i, question in enumerate(questions, start=1):
        if progress:
            progress(i, len(questions), question)
        start = time.perf_counter()
        found = search(question.question, k)
        seconds = time.perf_counter() - start
        runs.append(RetrievalRun(question, [as_item(x) for x in list(found)[:k]], seconds))
    return runs


def run_retrieval(
    questions: Sequence[EvalQuestion],
    search: Callable[[str, int], list[RetrievedItem]],
    k: int = 10,
    progress: ProgressFn | None = None,
) -> RetrievalReport:
    """Search every question with ``k`` results and score recall@1/5/10 and MRR (k values above ``k``
    are dropped)."""
    runs = retrieve_all(questions, search, k, progress)
    return score_retrieval(runs, tuple(x for x in DEFAULT_KS if x <= k) or (k,))


def answer_all(questions: Sequence[EvalQuestion], ask: AskFn, progress: ProgressFn | None = None) -> list[AnswerRun]:
    """One timed answer per question."""
    runs: list[AnswerRun] = []
    for i, question in enumerate(questions, start=1):
        if progress:
            progress(i, len(questions), question)
        start = time.perf_counter()
        answer, refused, cited = ask(question.question)
        seconds = time.perf_counter() - start
        runs.append(AnswerRun(question, answer or "", bool(refused), [as_item(c) for c in cited], seconds))
    return runs


def run_answers(
    questions: Sequence[EvalQuestion],
    ask: Callable[[str], tuple[str, bool, list[RetrievedItem]]],
    progress: ProgressFn | None = None,
) -> AnswerReport:
    """Ask every question and score must-contain, citations, refusals and wrong refusals."""
    return score_answers(answer_all(questions, ask, progress))


def split_halves(questions: Sequence[EvalQuestion], seed: int = 0) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
    """Two disjoint halves that together hold every question, stratified by type (for an overfitting
    check: tune on one half, confirm on the other).

    Within each type the questions are shuffled with ``seed`` and dealt alternately; the dealing continues
    across types, so the halves differ in size by at most one. Each half keeps the input order.
    """
    rng = random.Random(seed)
    by_type: dict[str, list[int]] = {}
    for index, question in enumerate(questions):
        by_type.setdefault(question.type, []).append(index)
    halves: tuple[list[int], list[int]] = ([], [])
    turn = 0
    for type_name in sorted(by_type):
        indices = by_type[type_name]
        rng.shuffle(indices)
        for index in indices:
            halves[turn % 2].append(index)
            turn += 1
    return (
        [questions[i] for i in sorted(halves[0])],
        [questions[i] for i in sorted(halves[1])],
    )
