"""What the passage vectors (``KB_PASSAGE_VECTORS``) buy against what they cost, on all dev questions.

Ingests the bench corpus (+ glossary) twice, each into its own store with its own empty vector cache:
without passage vectors (one vector per chunk) and with them (chunk + each paragraph). Then, on every
question of ``dev.jsonl`` + ``dev-extra.jsonl`` (140) and on the two stratified halves:

* retrieval R@1/5/10 and MRR of both stores;
* answers of the extractive answerer: with stored passage vectors; without, its units embedded at answer
  time (``kb.answering.evidence.unit_vectors``, cold cache: what a first answer costs); and without any
  unit vectors (each unit scored with its chunk's own vector, so units are told apart by word overlap and
  source rank only: nothing is embedded at answer time, the cheapest alternative).

``--units-from-met`` (to fit a short session): the stores are built "met" first, and the answers of the
"zonder" store take their answer-time units from the "met" store's vector cache (the same texts with the
same model: the same vectors a cold answer would compute), so the answer scores are those of a cold run;
what a cold first answer costs in time is measured by ``bench/run_latency_bench.py``. Both ingests still
start from an empty cache.

No weight or threshold is fitted here, so the halves only show whether a difference is consistent.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_passage_bench.py
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import kb.answering.assistant as assistant_module  # noqa: E402
from bench.paths import SHARED  # noqa: E402
from ingest.pipeline import DocumentOverrides  # noqa: E402
from kb.answering import evidence  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.evaluation import AnswerScores, load_questions, run_answers, run_retrieval, split_halves, summary_line  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402


def build(settings: Settings, corpus: Path) -> tuple[KnowledgeBase, float, int, float]:
    kb = KnowledgeBase(settings)
    embedder = kb.embedder()
    n0, s0 = embedder.encoded_texts, embedder.encode_seconds
    t0 = time.perf_counter()
    kb.pipeline.ingest_paths([corpus], DocumentOverrides(partner="Benchmark"))
    glossary = settings.starter_kb_dir / "begrippenlijst.md"
    if glossary.exists():
        kb.pipeline.ingest_paths([glossary])
    return kb, time.perf_counter() - t0, embedder.encoded_texts - n0, embedder.encode_seconds - s0


def answers(kb: KnowledgeBase, questions, embed_missing: bool):
    original = assistant_module.unit_vectors
    original_answerer = assistant_module.ExtractiveAnswerer
    assistant_module.unit_vectors = functools.partial(evidence.unit_vectors, embed_missing=embed_missing)
    assistant_module.ExtractiveAnswerer = functools.partial(original_answerer, embed_units=embed_missing)
    try:
        kb.embedder().forget_queries()

        def ask(q: str):
            answer = kb.assistant.ask(q).complete()
            return answer.text, answer.refused, [c.hit for c in answer.citations]

        return run_answers(questions, ask)
    finally:
        assistant_module.unit_vectors = original
        assistant_module.ExtractiveAnswerer = original_answerer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions (a quick check)")
    ap.add_argument("--units-from-met", action="store_true", help="zonder's answer-time units from met's cache")
    args = ap.parse_args()
    questions = load_questions(SHARED / "dev.jsonl") + load_questions(SHARED / "dev-extra.jsonl")
    if args.limit:
        questions = questions[: args.limit]
    halves = split_halves(questions)
    print(f"CPU: {detect_cpu().describe()}; {len(questions)} vragen")
    with tempfile.TemporaryDirectory(prefix="passage-bench-") as tmp:
        base = Settings()
        rows = {}
        order = (("met", True), ("zonder", False)) if args.units_from_met else (("zonder", False), ("met", True))
        for name, passages in order:
            s = base.model_copy(
                update={
                    "data_dir": Path(tmp) / name,
                    "store_dir": None,
                    "passage_vectors": passages,
                    "vector_cache_dir": Path(tmp) / name / "vectors",
                }
            )
            kb, wall, n, enc = build(s, args.corpus)
            precision = kb.embedder().precision
            print(
                f"\n## {name} passage-vectoren: {kb.store.chunk_count()} stukken, {kb.store.chunks.count()} vectoren; "
                f"ingest {wall:.0f} s ({n} teksten, {enc:.0f} s in model.encode; precisie {precision.dtype})"
            )
            kb.retriever.search("opwarmen", 1)
            r = run_retrieval(questions, kb.retriever.search, k=10)
            print(f"alle: {summary_line(r)}")
            for half_name, half in zip("AB", halves, strict=True):
                print(f"helft {half_name}: {summary_line(run_retrieval(half, kb.retriever.search, k=10))}")
            variants = (
                [("opgeslagen passage-vectoren", True)]
                if passages
                else [
                    ("eenheden ingebed bij het antwoord (koude cache)", True),
                    ("geen eenheidvectoren (elke eenheid de vector van haar stuk)", False),
                ]
            )
            for label, embed_missing in variants:
                e = kb.embedder()
                own_cache = e.cache
                if args.units_from_met and embed_missing and not passages and e.cache is not None:
                    from kb.vector_cache import VectorCache, cache_file

                    met_dir = Path(tmp) / "met" / "vectors"
                    e.cache = VectorCache(cache_file(met_dir, e.cache.identity), e.cache.identity)
                    label += ", eenheden uit de cache van de met-store"
                n1, s1 = e.encoded_texts, e.encode_seconds
                h1 = e.cache.hits if e.cache else 0
                a = answers(kb, questions, embed_missing)
                extra = (e.encoded_texts - n1, e.encode_seconds - s1)
                hits = (e.cache.hits if e.cache else 0) - h1
                e.cache = own_cache
                print(
                    f"antwoorden, {label}: {summary_line(a)}; p95 {a.timing.p95 * 1000:.0f} ms; "
                    f"{extra[0]} teksten ingebed tijdens de antwoorden ({extra[1]:.1f} s), {hits} uit de cache"
                )
                for half_name, half in zip("AB", halves, strict=True):
                    ids = {q.id for q in half}
                    scores = AnswerScores.of([res for res in a.results if res.id in ids])
                    f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
                    print(
                        f"  helft {half_name}: feiten {f(scores.must_contain)} · bron {f(scores.citation)} · "
                        f"onterecht geweigerd {f(scores.wrong_refusal)} · negatief geweigerd {f(scores.refusal)}"
                    )
            rows[name] = (wall, n)
        print(
            f"\nIngest-kosten: zonder {rows['zonder'][0]:.0f} s ({rows['zonder'][1]} teksten), "
            f"met {rows['met'][0]:.0f} s ({rows['met'][1]} teksten)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
