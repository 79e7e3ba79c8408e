"""How short can "Meer uit de bronnen" be? The supporting lines' word budget, chosen by cross-validation;
and the answer before/after a change of the extractive answerer, on the same retrieved sources.

Every dev question (140, bench store) and starter question (66, bench corpus + starter KB) is answered once by
the real pipeline (refusal off); the extractive answerer's selected passages and lead are recorded. Only the
supporting lines change with the budget, so citations and refusals are the same for every budget: what moves
is the key-fact rate and the length. Per fold, the smallest budget whose key-fact rate on the four training
folds is at least that of whole supporting passages is chosen and scored on the held-out fold (the refusal
model fitted on the training folds as in ``bench/cv_answers.py``).

``--before path/to/extractive.py``: an earlier version of ``kb/answering/extractive.py`` (e.g. from
``git show main:kb/answering/extractive.py``) answers the same questions from the same sources, and both are
scored the same way (5-fold CV, refusal model per fold): key facts, cites, refusals, answer length. Its passage
selection must be the same as now (only the lead and the composing may differ), so its citations are these.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_support_budget.py [--store …] [--combined-store …]
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cv_answers import answer_length, median  # noqa: E402
from bench.cv_data import CACHE, SHARED, open_store  # noqa: E402
from bench.run_cv_bench import cpu_line  # noqa: E402
from kb.answering import extractive  # noqa: E402
from kb.answering.answerability import fit_model  # noqa: E402
from kb.evaluation import AnswerRun, RetrievedItem, load_questions, score_answers  # noqa: E402
from kb.evaluation.folds import spread, stratified_folds, train_test  # noqa: E402
from kb.evaluation.normalize import missing_facts  # noqa: E402
from kb.evaluation.questions import EvalQuestion  # noqa: E402

BUDGETS: list[int | None] = [None, 15, 20, 25, 30, 40, 60]  # None: whole supporting passages


def record(kb, questions: list[EvalQuestion]) -> list[tuple[dict, dict]]:
    """Per question: its evidence features, and what composing needs (answerer, quotes, lead, shown sources)."""
    calls: list[dict] = []
    original = extractive.ExtractiveAnswerer.stream

    def recording(self, question, hits):
        quotes = self.select(question, hits)
        lead = self.lead(question, quotes, hits)
        order = extractive.renumber_order([q.n for q in lead] + [q.n for q in quotes], len(hits))
        new_number = {old: i + 1 for i, old in enumerate(n + 1 for n in order)}
        calls.append(
            {
                "answerer": self,
                "hits": list(hits),
                "question": question,
                "shown": [hits[i] for i in order],
                "quotes": [extractive.Quote(new_number[q.n], q.text) for q in quotes],
                "lead": [extractive.Quote(new_number[q.n], q.text) for q in lead],
            }
        )
        return original(self, question, hits)

    assistant = kb.assistant
    settings = assistant.settings
    assistant.settings = settings.model_copy(update={"answerability_rules": False})
    kb.embedder().forget_queries()
    out = []
    extractive.ExtractiveAnswerer.stream = recording  # type: ignore[method-assign]
    try:
        for q in questions:
            before = len(calls)
            answer = assistant.ask(q.question).complete()
            retrieved = sorted(answer.hits, key=lambda h: h.rank)
            features = assistant.evidence(answer.standalone_query, retrieved)
            call = calls[before] if len(calls) > before else {}
            if call:
                call["text"] = answer.text
                call["cited"] = [RetrievedItem.from_hit(c.hit) for c in answer.citations]
            out.append((features, call))
    finally:
        extractive.ExtractiveAnswerer.stream = original  # type: ignore[method-assign]
        assistant.settings = settings
    return out


def before_text(module, call: dict) -> str:
    """The answer the earlier answerer gives from the same sources."""
    if not call:
        return ""
    old = copy.copy(call["answerer"])
    old.__class__ = module.ExtractiveAnswerer
    pieces, _, _ = old.stream(call["question"], call["hits"])
    return "".join(pieces)


def cv_scores(questions: list[EvalQuestion], recorded: list[tuple[dict, dict]], texts: list[str], folds) -> dict:
    """Held-out key facts, cites, refusals (the refusal model fitted per fold, as in ``bench/cv_answers.py``)."""
    features = [f for f, _ in recorded]
    per_fold = []
    for f in range(len(folds)):
        train, test = train_test(folds, f)
        model = fit_model([features[i] for i in train], [not questions[i].is_negative for i in train])
        runs = []
        for i in test:
            refused = model.decide(features[i]).refused
            cited = recorded[i][1].get("cited", [])
            runs.append(
                AnswerRun(
                    questions[i],
                    "Dat staat niet in de bronnen." if refused else texts[i],
                    refused,
                    [] if refused else cited,
                    0.0,
                )
            )
        r = score_answers(runs).overall
        per_fold.append(
            {
                "key facts": r.must_contain,
                "cites gold/acceptable": r.citation,
                "negatives refused": r.refusal,
                "wrongly refused": r.wrong_refusal,
            }
        )
    return {k: spread([p[k] for p in per_fold]) for k in per_fold[0]}


def compare(label: str, questions, recorded, folds, module) -> dict:
    answerable = [i for i, q in enumerate(questions) if not q.is_negative]
    versions = {
        "before": [before_text(module, call) for _, call in recorded],
        "after": [call.get("text", "") for _, call in recorded],
    }
    print(f"\n## {label}: before/after on the same sources (5-fold CV, held-out mean ± sd)\n")
    print(
        "| version | key facts | cites gold/acceptable | negatives refused | wrongly refused | key facts, no refusal | median chars | median text lines | median phone lines | median lead chars |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    out = {}
    for name, texts in versions.items():
        scores = cv_scores(questions, recorded, texts, folds)
        ceiling = sum(not missing_facts(texts[i], questions[i].answer_must_contain) for i in answerable) / len(
            answerable
        )
        lengths = [answer_length(texts[i]) for i in answerable]
        med = {k: median([x[k] for x in lengths]) for k in lengths[0]}
        print(
            f"| {name} | {scores['key facts']} | {scores['cites gold/acceptable']} | {scores['negatives refused']} | "
            f"{scores['wrongly refused']} | {ceiling:.3f} | {med['chars']} | {med['lines']} | {med['phone lines']} | {med['lead chars']} |"
        )
        out[name] = {
            "scores": {k: str(v) for k, v in scores.items()},
            "key facts, no refusal": ceiling,
            "length": med,
            "texts": dict(zip([q.id for q in questions], texts, strict=True)),
        }
    return out


def compose(call: dict, budget: int | None) -> str:
    if not call:
        return ""
    answerer = call["answerer"]
    answerer.support_words = budget
    return answerer.compose(call["quotes"], call["shown"], call["lead"], call["question"])


def evaluate(label: str, questions: list[EvalQuestion], recorded: list[tuple[dict, dict]], folds) -> dict:
    texts = {b: [compose(call, b) for _, call in recorded] for b in BUDGETS}
    has_all = {
        b: [not missing_facts(t, q.answer_must_contain) for t, q in zip(texts[b], questions, strict=True)]
        for b in BUDGETS
    }
    answerable = [i for i, q in enumerate(questions) if not q.is_negative]
    print(f"\n## {label}: supporting lines' word budget (all {len(answerable)} answerable, refusal off)\n")
    print("| budget (words a line) | key facts | median chars | median text lines | median phone lines |")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for b in BUDGETS:
        lengths = [answer_length(texts[b][i]) for i in answerable]
        rate = sum(has_all[b][i] for i in answerable) / len(answerable)
        rows[str(b)] = {"key facts": rate, **{k: median([x[k] for x in lengths]) for k in lengths[0]}}
        r = rows[str(b)]
        print(f"| {b or 'whole passages'} | {rate:.3f} | {r['chars']} | {r['lines']} | {r['phone lines']} |")
    # cross-validated choice: the smallest budget that keeps the training folds' key facts
    held, chosen = [], []
    features = [f for f, _ in recorded]
    for f in range(len(folds)):
        train, test = train_test(folds, f)
        train_ok = [i for i in train if not questions[i].is_negative]
        full = sum(has_all[None][i] for i in train_ok)
        budget = next((b for b in BUDGETS[1:] if sum(has_all[b][i] for i in train_ok) >= full), None)
        chosen.append(budget)
        model = fit_model([features[i] for i in train], [not questions[i].is_negative for i in train])
        test_ok = [i for i in test if not questions[i].is_negative]
        refused = {i for i in test_ok if model.decide(features[i]).refused}
        held.append(
            {
                "budget": budget,
                "key facts": sum(has_all[budget][i] and i not in refused for i in test_ok) / len(test_ok),
                "key facts, whole passages": sum(has_all[None][i] and i not in refused for i in test_ok) / len(test_ok),
            }
        )
    print(
        f"\nChosen per fold (smallest budget keeping the training folds' key facts): {chosen}; held-out key facts "
        f"{spread([h['key facts'] for h in held])} vs whole passages {spread([h['key facts, whole passages'] for h in held])}"
    )
    return {"rows": rows, "folds": held}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=CACHE / "store-bench")
    ap.add_argument("--combined-store", type=Path, default=CACHE / "store-combined")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--before", type=Path, help="an earlier kb/answering/extractive.py to compare with")
    args = ap.parse_args()
    print(cpu_line())
    module = None
    if args.before:
        spec = importlib.util.spec_from_file_location("extractive_before", args.before)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    out = {}
    dev = load_questions(SHARED / "dev.jsonl") + load_questions(SHARED / "dev-extra.jsonl")
    dev_folds = stratified_folds(dev, 5, seed=0)
    recorded = record(open_store(args.store), dev)
    out["dev"] = evaluate("dev (140), bench corpus", dev, recorded, dev_folds)
    if module:
        out["dev_compare"] = compare("dev (140), bench corpus", dev, recorded, dev_folds, module)
    starter = load_questions(ROOT / "eval" / "starter.jsonl")
    starter_folds = stratified_folds(starter, 5, seed=0)
    kb = open_store(args.combined_store, with_starter=True)
    recorded = record(kb, starter)
    out["starter"] = evaluate("starter (66), bench corpus + starter KB", starter, recorded, starter_folds)
    if module:
        out["starter_compare"] = compare(
            "starter (66), bench corpus + starter KB", starter, recorded, starter_folds, module
        )
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
