"""Answers and refusals through the real pipeline, with the refusal model cross-validated.

Each question is answered once by the product's assistant with the evidence model switched off (so every
question gets its answer) and its evidence signals recorded. Per fold, the refusal model is fitted on the
training folds (``kb.answering.answerability.fit_model``) and decides the held-out fold's questions: a
refusal counts as refused (no facts, no citations), an uncertain answer keeps its text and sources.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from kb.answering.answerability import fit_model
from kb.evaluation import AnswerRun, RetrievedItem, score_answers
from kb.evaluation.folds import spread, train_test
from kb.evaluation.questions import EvalQuestion
from kb.stats import median, percentile

_WORDS = re.compile(r"\w+")


@dataclass
class Answered:
    question: EvalQuestion
    text: str
    cited: list[RetrievedItem]
    features: dict[str, float]
    seconds: float
    lead_words: int  # words before the first source list / the answer's first supporting passage
    retrieved: list[RetrievedItem]  # the sources the real retriever returned, in rank order


def answer_once(kb, questions: list[EvalQuestion]) -> list[Answered]:
    assistant = kb.assistant
    original = assistant.settings
    assistant.settings = original.model_copy(update={"answerability_rules": False})
    kb.embedder().forget_queries()
    out: list[Answered] = []
    try:
        for q in questions:
            start = time.perf_counter()
            answer = assistant.ask(q.question).complete()
            seconds = time.perf_counter() - start
            retrieved = sorted(answer.hits, key=lambda h: h.rank)  # the answer numbers its cited sources first
            features = assistant.evidence(answer.standalone_query, retrieved)
            out.append(
                Answered(
                    q,
                    answer.text,
                    [RetrievedItem.from_hit(c.hit) for c in answer.citations],
                    features,
                    seconds,
                    len(_WORDS.findall(lead_text(answer.text))),
                    [RetrievedItem.from_hit(h) for h in retrieved],
                )
            )
    finally:
        assistant.settings = original
    return out


def lead_text(text: str) -> str:
    """The part of an extractive answer before its supporting passages (``Meer uit de bronnen``)."""
    return text.split("\n\nMeer uit de bronnen", 1)[0]


PHONE_LINE_CHARS = 40  # characters on one line of the chat column on a 390 px phone (the app's font)


def answer_length(text: str) -> dict[str, int]:
    """How long an answer reads: characters, non-empty text lines, and lines on a 390 px phone (each text
    line wrapped at about ``PHONE_LINE_CHARS`` characters); the same for its lead."""
    lines = [line for line in text.splitlines() if line.strip()]
    lead = lead_text(text)
    return {
        "chars": len(text),
        "lines": len(lines),
        "phone lines": sum(-(-len(line) // PHONE_LINE_CHARS) for line in lines),
        "lead chars": len(lead),
    }


def run_answers_cv(
    kb, questions: list[EvalQuestion], folds: list[list[int]], write_model: bool = False, label: str = "dev (140)"
) -> dict:
    answered = answer_once(kb, questions)
    per_fold = []
    outcomes: dict[int, str] = {}
    for f in range(len(folds)):
        train, test = train_test(folds, f)
        model = fit_model([answered[i].features for i in train], [not questions[i].is_negative for i in train])
        runs = []
        for i in test:
            a = answered[i]
            verdict = model.decide(a.features)
            outcomes[i] = verdict.outcome
            refused = verdict.refused
            runs.append(
                AnswerRun(
                    a.question,
                    "Dat staat niet in de bronnen." if refused else a.text,
                    refused,
                    [] if refused else a.cited,
                    a.seconds,
                )
            )
        report = score_answers(runs).overall
        answerable = [i for i in test if not questions[i].is_negative]
        per_fold.append(
            {
                "key facts": report.must_contain,
                "cites gold/acceptable": report.citation,
                "negatives refused": report.refusal,
                "wrongly refused": report.wrong_refusal,
                "uncertain (answerable)": sum(outcomes[i] == "uncertain" for i in answerable) / max(1, len(answerable)),
            }
        )
    # the real retriever (the product's default settings) on the same folds
    from bench.cv_retrieval import metrics
    from kb.evaluation import first_match_rank

    real = []
    for f in range(len(folds)):
        _, test = train_test(folds, f)
        real.append(
            metrics(
                [first_match_rank(questions[i], answered[i].retrieved) for i in test if not questions[i].is_negative]
            )
        )
    print(
        f"\nReal pipeline retrieval ({len(answered[0].retrieved)} sources, default settings): "
        + ", ".join(f"{k} {spread([r[k] for r in real])}" for k in ("R@1", "R@5", "MRR"))
    )
    # without any refusal: the answerer's own ceiling
    ceiling = score_answers([AnswerRun(a.question, a.text, False, a.cited, a.seconds) for a in answered]).overall
    print(f"\n## Answers and refusal, {label} (5-fold CV, held-out mean ± sd; real pipeline)\n")
    print("| measure | held-out mean ± sd | per fold |")
    print("|---|---:|---|")
    for key in per_fold[0]:
        values = [p[key] for p in per_fold]
        print(f"| {key} | {spread(values)} | {', '.join('—' if v is None else f'{v:.2f}' for v in values)} |")
    lead = sorted(a.lead_words for a in answered if not a.question.is_negative)
    print(
        f"\nWithout refusal (all {len(answered)}): key facts {ceiling.must_contain:.3f}, cites {ceiling.citation:.3f}."
        f" Words before the supporting passages: median {median(lead):.0f}, p90 {percentile(lead, 90):.0f}."
        f" Answer time median {median([a.seconds for a in answered]) * 1000:.0f} ms."
    )
    lengths = [answer_length(a.text) for a in answered if not a.question.is_negative]
    medians = {key: round(median([x[key] for x in lengths])) for key in lengths[0]} if lengths else {}
    print(
        f"Answer length (answerable, without refusal; median): {medians.get('chars', 0)} characters, "
        f"{medians.get('lines', 0)} text lines, {medians.get('phone lines', 0)} lines on a 390 px phone "
        f"(≈{PHONE_LINE_CHARS} characters a line); lead {medians.get('lead chars', 0)} characters."
    )
    wrong = [
        (questions[i].id, outcomes[i]) for i in outcomes if outcomes[i] == "refuse" and not questions[i].is_negative
    ]
    missed = [(questions[i].id, outcomes[i]) for i in outcomes if outcomes[i] != "refuse" and questions[i].is_negative]
    print(f"Held-out wrong refusals: {wrong}; negatives not refused: {missed}")
    result = {
        "folds": per_fold,
        "real_retrieval": real,
        "outcomes": {questions[i].id: o for i, o in outcomes.items()},
        "features": {a.question.id: a.features for a in answered},
        "answer_length_median": medians,
        "answers": {a.question.id: a.text for a in answered},
    }
    if write_model:
        model = fit_model([a.features for a in answered], [not a.question.is_negative for a in answered])
        model.save(kb.settings.embed_model)
        print(f"Refusal model fitted on all {len(answered)} questions written: {model.to_dict()}")
    return result
