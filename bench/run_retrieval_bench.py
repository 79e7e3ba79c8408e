"""Retrieval (and answer) benchmark on the shared bench corpus.

Ingests ``../shared/bench/corpus`` (plus our glossary, which the product uses for query expansion) into a
store, runs the dev questions through the retriever and prints one table. ``--halves`` prints the scores on
the two stratified halves, ``--answers`` adds the answer scores of the default answerer, and ``--sweep``
chooses fusion weights on half A and reports them on half B.

    .venv/bin/python bench/run_retrieval_bench.py [--mode hybrid] [--store DIR] [--halves] [--answers]

A store folder is reused between runs when it holds the same corpus, model and chunk settings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.pipeline import DocumentOverrides  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.evaluation import (  # noqa: E402
    format_answer_table,
    format_retrieval_table,
    load_questions,
    run_answers,
    run_retrieval,
    split_halves,
    summary_line,
)
from kb.service import KnowledgeBase  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench"


def corpus_fingerprint(corpus: Path, extra: list[Path], settings: Settings) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()) + extra:
        h.update(path.name.encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(
        f"{settings.embed_model}|{settings.chunk_size}|{settings.chunk_overlap}|{settings.passage_vectors}".encode()
    )
    return h.hexdigest()[:16]


def prepare(settings: Settings, corpus: Path, with_glossary: bool) -> KnowledgeBase:
    extra = [settings.starter_kb_dir / "begrippenlijst.md"] if with_glossary else []
    extra = [p for p in extra if p.exists()]
    fingerprint = corpus_fingerprint(corpus, extra, settings)
    kb = KnowledgeBase(settings)
    marker = settings.resolved_store_dir() / "bench-fingerprint.txt"
    if marker.exists() and marker.read_text() == fingerprint and kb.store.chunk_count() > 0:
        print(f"Bestaande bench-store hergebruikt ({kb.store.chunk_count()} stukken).", file=sys.stderr)
        return kb
    for record in kb.store.list_documents():
        kb.store.remove_document(record.doc_id)
    start = time.perf_counter()
    report = kb.pipeline.ingest_paths([corpus], DocumentOverrides(partner="Benchmark"))
    if extra:
        report.results += kb.pipeline.ingest_paths(extra).results
    seconds = time.perf_counter() - start
    for failed in report.failed:
        print(failed.error, file=sys.stderr)
    print(
        f"Ingest: {len(report.results)} bestanden, {kb.store.chunk_count()} stukken in {seconds:.1f} s "
        f"(model {settings.embed_model}).",
        file=sys.stderr,
    )
    marker.write_text(fingerprint)
    return kb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    ap.add_argument("--questions", type=Path, default=SHARED / "dev.jsonl")
    ap.add_argument("--store", type=Path, default=ROOT / "data" / "bench-store")
    ap.add_argument("--mode", choices=["hybrid", "dense", "lexical"])
    ap.add_argument("--dense-weight", type=float)
    ap.add_argument("--lexical-weight", type=float)
    ap.add_argument("--max-per-section", type=int)
    ap.add_argument("--no-glossary", action="store_true", help="zonder begrippenlijst (query-expansie)")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--halves", action="store_true", help="ook de scores per helft (overfit-controle)")
    ap.add_argument("--answers", action="store_true", help="ook de antwoordscores van de ingestelde answerer")
    ap.add_argument("--sweep", action="store_true", help="fusiegewichten kiezen op helft A, tonen op helft B")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.corpus.exists() or not args.questions.exists():
        print(f"Benchmarkmateriaal ontbreekt: {args.corpus} / {args.questions}", file=sys.stderr)
        return 2

    updates: dict[str, object] = {"store_dir": args.store, "glossary_expansion": not args.no_glossary}
    for key, value in (
        ("retrieval_mode", args.mode),
        ("dense_weight", args.dense_weight),
        ("lexical_weight", args.lexical_weight),
        ("max_per_section", args.max_per_section),
    ):
        if value is not None:
            updates[key] = value
    settings = Settings().model_copy(update=updates)
    kb = prepare(settings, args.corpus, with_glossary=not args.no_glossary)
    questions = load_questions(args.questions)

    def search_with(s: Settings):
        from kb.retrieval.retriever import Retriever

        retriever = Retriever(kb.store, kb.embedder, s)
        return lambda q, k: retriever.search(q, k)

    if args.sweep:
        return sweep(kb, settings, questions, search_with)

    kb.retriever.search("opwarmen", 1)  # load the model and the lexical index before timing
    report = run_retrieval(questions, search_with(settings), k=args.k)
    out: dict[str, object] = {"config": _config(settings), "retrieval": report.to_dict()}
    print(f"## Retrieval ({settings.retrieval_mode}, {settings.embed_model})\n")
    print(format_retrieval_table(report))
    if args.halves:
        a, b = split_halves(questions)
        for name, half in (("A", a), ("B", b)):
            kb.embedder().forget_queries()  # timings without the query cache of the run above
            r = run_retrieval(half, search_with(settings), k=args.k)
            print(f"Helft {name}: {summary_line(r)}")
            out[f"half_{name}"] = r.to_dict()
    if args.answers:

        def ask(q: str):
            answer = kb.assistant.ask(q).complete()
            return answer.text, answer.refused, [c.hit for c in answer.citations]

        kb.embedder().forget_queries()  # each answer embeds its question once, as in the app
        answers = run_answers(questions, ask)
        print(f"\n## Antwoorden ({settings.answerer})\n")
        print(format_answer_table(answers))
        out["answers"] = answers.to_dict()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


def _config(s: Settings) -> dict[str, object]:
    return {
        k: getattr(s, k)
        for k in (
            "embed_model",
            "retrieval_mode",
            "dense_weight",
            "lexical_weight",
            "rrf_k",
            "candidate_pool",
            "max_per_section",
            "glossary_expansion",
            "chunk_size",
        )
    }


def sweep(kb: KnowledgeBase, settings: Settings, questions, search_with) -> int:
    """Grid over the fusion weights, chosen on half A by recall@5 then MRR, confirmed on half B."""
    a, b = split_halves(questions)
    results = []
    for lexical_weight in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
        for max_per_section in (1,):
            s = settings.model_copy(
                update={
                    "retrieval_mode": "hybrid",
                    "dense_weight": 1.0,
                    "lexical_weight": lexical_weight,
                    "max_per_section": max_per_section,
                }
            )
            ra = run_retrieval(a, search_with(s), k=10)
            rb = run_retrieval(b, search_with(s), k=10)
            results.append((lexical_weight, ra, rb))
            print(f"lexical_weight={lexical_weight:<5} A: {summary_line(ra)}\n{'':20} B: {summary_line(rb)}")
    best = max(results, key=lambda r: (r[1].overall.recall[5], r[1].overall.mrr))
    print(f"\nGekozen op helft A: lexical_weight={best[0]}; helft B: {summary_line(best[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
