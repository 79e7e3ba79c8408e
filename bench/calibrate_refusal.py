"""Superseded by `bench/run_cv_bench.py --answers` (the refusal model, cross-validated over all 140 questions).

Calibrate the refusal threshold (``KB_REFUSAL_THRESHOLD``) on the dev questions.

For every question the assistant's evidence confidence is computed. The threshold is chosen on half A as
the highest value that wrongly refuses at most 10% of the answerable questions (so as many negative
controls as possible are refused), then checked on half B and on all questions.

    .venv/bin/python bench/calibrate_refusal.py [--store DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run_retrieval_bench import SHARED, prepare  # noqa: E402
from kb.answering.assistant import confidence  # noqa: E402
from kb.answering.condense import condense  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.evaluation import load_questions, split_halves  # noqa: E402


def rates(scored: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    """(share of negatives refused, share of answerable questions wrongly refused)."""
    neg = [c for c, is_neg in scored if is_neg]
    pos = [c for c, is_neg in scored if not is_neg]
    refused_neg = sum(c < threshold for c in neg) / max(1, len(neg))
    wrong = sum(c < threshold for c in pos) / max(1, len(pos))
    return refused_neg, wrong


def choose(scored: list[tuple[float, bool]], max_wrong: float = 0.10) -> float:
    candidates = sorted({round(c, 4) for c, _ in scored})
    best = 0.0
    for i, c in enumerate(candidates):
        threshold = (c + candidates[i + 1]) / 2 if i + 1 < len(candidates) else c + 1e-4
        if rates(scored, threshold)[1] <= max_wrong:
            best = threshold
    return round(best, 4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "data" / "bench-store")
    args = ap.parse_args()
    settings = Settings().model_copy(update={"store_dir": args.store})
    kb = prepare(settings, SHARED / "corpus", with_glossary=True)
    questions = load_questions(SHARED / "dev.jsonl")
    embedder = kb.embedder()
    conf: dict[str, float] = {}
    for q in questions:
        query = condense(q.question, [])
        conf[q.id] = confidence(embedder, query, kb.retriever.search(query, settings.answer_sources))
    a, b = split_halves(questions)
    pairs = lambda qs: [(conf[q.id], q.is_negative) for q in qs]  # noqa: E731
    for q in sorted(questions, key=lambda q: conf[q.id]):
        print(f"{conf[q.id]:.3f} {'NEG' if q.is_negative else '   '} {q.id} {q.question[:70]}")
    threshold = choose(pairs(a))
    print(f"\nGekozen op helft A: drempel {threshold}")
    for name, qs in (("A", a), ("B", b), ("alles", questions)):
        refused, wrong = rates(pairs(qs), threshold)
        print(f"  {name:5}: negatieve controles geweigerd {refused:.2f}, onterecht geweigerd {wrong:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
