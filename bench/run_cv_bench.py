"""Five-fold cross-validated benchmark over all 140 dev questions (``dev.jsonl`` + ``dev-extra.jsonl``).

Folds are fixed and stratified by question type (``kb.evaluation.folds``, seed 0). Every parameter a
variant has is chosen on the four training folds and scored on the held-out fold; the tables show the mean
± standard deviation over the five held-out folds.

1. Retrieval variants in numpy over cached vectors (``bench/cv_data.py``, ``bench/cv_retrieval.py``):
   Gemma dense (the default), + e5-small fusion, + BM25, + per-document aggregation, + pseudo-relevance
   feedback, + glossary query variants, and a learned logistic ranker.
2. ``--answers``: the real pipeline (``KnowledgeBase.assistant``) on every question with its refusal off,
   then the refusal model (``kb.answering.answerability``) fitted on the training folds and applied to the
   held-out fold: key facts, cites gold/acceptable, negatives refused, wrongly refused, uncertain share.
3. ``--starter``: the same on ``eval/starter.jsonl`` over a store of the starter knowledge base.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_cv_bench.py [--answers] [--combined] [--starter]

Embedding runs once per model and store; the vectors are cached in ``$KB_BENCH_CACHE``
(default /tmp/samenweten-cv-cache).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cv_retrieval as cvr  # noqa: E402
from bench.cv_data import CACHE, SHARED, Corpus, load_corpus, model_vectors, open_store, query_vectors  # noqa: E402
from kb.evaluation import RetrievedItem, load_questions  # noqa: E402
from kb.evaluation.folds import stratified_folds  # noqa: E402
from kb.evaluation.questions import EvalQuestion  # noqa: E402
from kb.retrieval.glossary import QueryExpander, is_definition_question, is_glossary  # noqa: E402
from kb.retrieval.lexical import LexicalIndex  # noqa: E402

GEMMA, E5 = "embeddinggemma-300m", "multilingual-e5-small"


def cpu_line() -> str:
    name = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
        flags = Path("/proc/cpuinfo").read_text()
        marks = [f for f in ("avx512_bf16", "amx_bf16", "avx512f", "avx2") if f" {f}" in flags]
    except OSError:
        marks = []
    import os

    return f"CPU: {name} ({os.cpu_count()} cores; {' '.join(marks) or 'no avx flags'})"


def subset(corpus: Corpus, keep) -> tuple[Corpus, np.ndarray]:
    """The corpus restricted to the chunks for which ``keep(chunk)`` holds, and the kept vector rows."""
    kept = [i for i, c in enumerate(corpus.chunks) if keep(c)]
    new_index = {old: new for new, old in enumerate(kept)}
    rows = np.array([r for r, p in enumerate(corpus.parent) if int(p) in new_index])
    sub = Corpus(
        [corpus.chunks[i] for i in kept],
        [corpus.texts[r] for r in rows],
        [corpus.headers[r] for r in rows],
        np.array([new_index[int(corpus.parent[r])] for r in rows]),
        corpus.vectors[rows],
        corpus.fingerprint + f"-sub{len(kept)}",
    )
    return sub, rows


def build_signals(
    kb,
    corpus: Corpus,
    questions: list[EvalQuestion],
    models=(GEMMA, E5),
    other_vectors: dict[str, np.ndarray] | None = None,
) -> cvr.Signals:
    chunks = corpus.chunks
    texts = [q.question for q in questions]
    expander = QueryExpander.from_store(kb.store)
    variants = [expander.expand(t) for t in texts]
    doc_ids = sorted({c.doc_id for c in chunks})
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    sections = {}
    section_of = np.array([sections.setdefault((c.doc_id, c.section), len(sections)) for c in chunks])
    glossary_docs = {r.doc_id for r in kb.store.list_documents() if is_glossary(r)}
    dense, dense_variant, chunk_vectors, query_vecs, text_vectors = {}, {}, {}, {}, {}
    n_chunks = len(chunks)
    for model in models:
        if model == kb.settings.embed_model:
            vecs = corpus.vectors
        elif other_vectors and model in other_vectors:
            vecs = other_vectors[model]
        else:
            vecs = model_vectors(corpus, model)
        q = query_vectors(texts, model)
        qv = query_vectors(variants, model)
        dense[model] = cvr.dense_of(vecs, corpus.parent, q, n_chunks)
        dense_variant[model] = cvr.dense_of(vecs, corpus.parent, qv, n_chunks)
        chunk_vectors[model] = vecs[:n_chunks]  # chunk rows come first, in chunk order
        query_vecs[model] = q
        text_vectors[model] = (vecs, corpus.parent)
    lexical = LexicalIndex(chunks)
    bm25 = np.vstack([lexical.scores(v) for v in variants])
    index = {c.chunk_id: i for i, c in enumerate(chunks)}
    referenced = np.zeros((len(questions), n_chunks), dtype=bool)
    for qi, t in enumerate(texts):
        for c in lexical.referenced(t):
            referenced[qi, index[c.chunk_id]] = True
    return cvr.Signals(
        questions=questions,
        items=[RetrievedItem(c.source, c.section) for c in chunks],
        doc_of=np.array([doc_index[c.doc_id] for c in chunks]),
        section_of=section_of,
        dense=dense,
        dense_variant=dense_variant,
        chunk_vectors=chunk_vectors,
        query_vecs=query_vecs,
        text_vectors=text_vectors,
        bm25=bm25,
        referenced=referenced,
        glossary=np.array([c.doc_id in glossary_docs for c in chunks]),
        definition=np.array([is_definition_question(t) for t in texts]),
    )


def short_variants(sig: cvr.Signals, folds) -> list[cvr.CVResult]:
    """The default and its one-model alternatives (no second model needed)."""
    runs = [
        ("Gemma dense", cvr.v_dense, [{"model": GEMMA}]),
        ("Gemma + w·BM25/max (default w 0.05)", cvr.v_linear, [{"w_bm25": 0.05}]),
        ("Gemma + w·BM25/max (w chosen here)", cvr.v_linear, cvr.grid(w_bm25=(0.0, 0.03, 0.05, 0.08, 0.1, 0.2))),
        ("Gemma + w·document aggregate", cvr.v_linear, cvr.grid(w_bm25=(0.05,), w_doc=(0.0, 0.1, 0.25, 0.5))),
    ]
    return [cvr.cross_validate(sig, folds, name, fn, params) for name, fn, params in runs]


def retrieval_variants(sig: cvr.Signals, folds) -> list[cvr.CVResult]:
    W = (0.0, 0.25, 0.5, 0.75, 1.0)
    runs = [
        ("Gemma dense (default)", cvr.v_dense, [{"model": GEMMA}]),
        ("e5-small dense", cvr.v_dense, [{"model": E5}]),
        ("Gemma + w·e5 (score sum)", cvr.v_linear, cvr.grid(w_e5=W + (1.5,))),
        ("Gemma + w·BM25/max", cvr.v_linear, cvr.grid(w_bm25=(0.0, 0.05, 0.1, 0.15, 0.2, 0.3))),
        ("RRF Gemma + BM25 (+ e5)", cvr.v_rrf, cvr.grid(w_bm25=(0.0, 0.25, 0.5, 1.0), w_e5=(0.0, 0.5, 1.0))),
        ("Gemma + w·document aggregate", cvr.v_linear, cvr.grid(w_doc=(0.0, 0.1, 0.25, 0.5, 1.0))),
        ("Gemma, pseudo-relevance feedback", cvr.v_linear, cvr.grid(prf=(0.0, 0.1, 0.2, 0.3, 0.5))),
        ("Gemma + w·glossary variant", cvr.v_linear, cvr.grid(w_var=W)),
        (
            "Gemma + e5 + BM25 + doc (grid)",
            cvr.v_linear,
            cvr.grid(w_e5=(0.0, 0.5, 1.0), w_bm25=(0.0, 0.1, 0.2), w_doc=(0.0, 0.25, 0.5)),
        ),
        (
            "Gemma + BM25 + doc (no 2nd model)",
            cvr.v_linear,
            cvr.grid(w_bm25=(0.0, 0.05, 0.1, 0.2), w_doc=(0.0, 0.1, 0.25, 0.5), w_var=(0.0, 0.5)),
        ),
    ]
    results = [cvr.cross_validate(sig, folds, name, fn, params) for name, fn, params in runs]
    results.append(cvr.learned_ranker(sig, folds))
    return results


def hubness_variants(kb, corpus: Corpus, sig: cvr.Signals, folds, questions) -> list[cvr.CVResult]:
    """The default (BM25 blend + guide bridge) without and with the hubness correction (CSLS): pools of
    example questions (texts only): the starter questions (``KB_HUBNESS_POOL``, no dev text), or the training
    folds' own question texts (as a product's log of earlier questions would be)."""
    from kb.retrieval.bridge import CitationGraph
    from kb.retrieval.question_pool import read_questions

    graph = CitationGraph.build(corpus.chunks, kb.store.list_documents(), front_matter=False)
    links = cvr.bridge_matrix(sig, [c.chunk_id for c in corpus.chunks], graph)
    default = {"w_bm25": kb.settings.lexical_blend, "w_bridge": kb.settings.guide_bridge}
    starter = query_vectors(read_questions(ROOT / "eval" / "starter.jsonl"), GEMMA)
    ks, ws = (3, 10, 30), (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
    hubs = {k: cvr.hub_matrix(sig, starter, k) for k in ks}
    shipped = {**default, "k": kb.settings.hubness_k, "w_hub": kb.settings.hubness_weight}
    hub_grid = [{**default, "k": k, "w_hub": w} for k in ks for w in ws]
    qvecs = sig.query_vecs[GEMMA]
    return [
        cvr.cross_validate(sig, folds, "default without hubness correction", cvr.v_hubness(links, hubs), [default]),
        cvr.cross_validate(
            sig,
            folds,
            "default without, bridge weight by CV",
            cvr.v_hubness(links, hubs),
            [{**default, "w_bridge": w} for w in (0.0, 0.25, 0.5, 0.6, 0.75, 1.0)],
        ),
        cvr.cross_validate(
            sig,
            folds,
            f"**+ hubness, pool: starter questions ({len(starter)}), shipped k/w**",
            cvr.v_hubness(links, hubs),
            [shipped],
        ),
        cvr.cross_validate(
            sig, folds, "+ hubness, pool: starter questions, k and w by CV", cvr.v_hubness(links, hubs), hub_grid
        ),
        cvr.cross_validate_fold_pool(
            sig, folds, "+ hubness, pool: the training folds' question texts", links, lambda tr: qvecs[tr], hub_grid
        ),
        cvr.cross_validate_fold_pool(
            sig,
            folds,
            "+ hubness, pool: starter + training folds' question texts",
            links,
            lambda tr: np.vstack([starter, qvecs[tr]]),
            hub_grid,
        ),
    ]


def print_retrieval(results: list[cvr.CVResult], title: str) -> None:
    print(f"\n## {title}\n")
    print("| variant | R@1 | R@5 | R@10 | MRR | chosen on training folds |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        row = r.row()
        chosen = sorted({json.dumps(c, sort_keys=True) for c in r.chosen})
        print(f"| {r.name} | {row['R@1']} | {row['R@5']} | {row['R@10']} | {row['MRR']} | {'; '.join(chosen)} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=CACHE / "store-bench")
    ap.add_argument("--combined", action="store_true", help="ook op een store met bench-corpus én starter-KB")
    ap.add_argument("--answers", action="store_true", help="antwoorden en weigeren door de echte pijplijn")
    ap.add_argument("--starter", action="store_true", help="eval/starter.jsonl op de starter-KB")
    ap.add_argument("--json", type=Path, help="alle resultaten ook als JSON hierheen")
    ap.add_argument(
        "--write-model",
        action="store_true",
        help="het weigermodel, gefit op alle 140 vragen, opslaan in kb/answering/refusal_model.json",
    )
    ap.add_argument("--combined-store", type=Path, default=CACHE / "store-combined")
    args = ap.parse_args()
    questions = load_questions(SHARED / "dev.jsonl") + load_questions(SHARED / "dev-extra.jsonl")
    folds = stratified_folds(questions, 5, seed=0)
    print(cpu_line())
    print(f"{len(questions)} vragen, folds (stratified by type, seed 0): {[len(f) for f in folds]}")
    out: dict = {}
    t = time.perf_counter()
    kb = open_store(args.store)
    corpus = load_corpus(kb)
    sig = build_signals(kb, corpus, questions)
    print(f"{len(corpus.chunks)} chunks, {len(corpus.texts)} vectors; signals in {time.perf_counter() - t:.1f} s")
    results = retrieval_variants(sig, folds)
    print_retrieval(results, "Retrieval, bench corpus (5-fold CV, held-out mean ± sd)")
    out["retrieval"] = {r.name: {"folds": r.folds, "chosen": r.chosen} for r in results}
    results = hubness_variants(kb, corpus, sig, folds, questions)
    print_retrieval(results, "Retrieval, bench corpus: the default with and without the hubness correction (5-fold CV)")
    out["hubness"] = {r.name: {"folds": r.folds, "chosen": r.chosen} for r in results}
    if args.answers:
        from bench.cv_answers import run_answers_cv

        out["answers"] = run_answers_cv(kb, questions, folds, write_model=args.write_model)
    if args.combined or args.starter:
        out.update(combined_store(args, questions, folds))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


def bridge_variants(sig: cvr.Signals, folds, links) -> list[cvr.CVResult]:
    bridge = cvr.v_bridge(links)
    return [
        cvr.cross_validate(sig, folds, "Gemma dense", cvr.v_dense, [{"model": GEMMA}]),
        cvr.cross_validate(sig, folds, "Gemma + 0.05·BM25 (default)", cvr.v_linear, [{"w_bm25": 0.05}]),
        cvr.cross_validate(
            sig,
            folds,
            "Gemma + 0.05·BM25 + guide bridge",
            bridge,
            cvr.grid(w_bm25=(0.05,), w_bridge=(0.0, 0.25, 0.5, 0.75, 0.9, 1.0)),
        ),
    ]


def combined_store(args, questions, folds) -> dict:
    """A store with the bench corpus and the starter knowledge base: dev questions with guides competing
    and lending weight to the articles they cite; the starter questions on the starter part and on both."""
    from kb.retrieval.bridge import CitationGraph

    out: dict = {}
    kb = open_store(args.combined_store, with_starter=True)
    corpus = load_corpus(kb)
    documents = kb.store.list_documents()
    starter = load_questions(ROOT / "eval" / "starter.jsonl")
    starter_folds = stratified_folds(starter, 5, seed=0)
    print(
        f"\nCombined store: {len(corpus.chunks)} chunks, {len(corpus.texts)} vectors; "
        f"starter questions {len(starter)} (folds {[len(f) for f in starter_folds]})"
    )
    for front in (False, True):
        graph = CitationGraph.build(corpus.chunks, documents, front_matter=front)
        print(f"Guide chunks citing articles (front matter {'on' if front else 'off'}): {len(graph)}")
    graph = CitationGraph.build(corpus.chunks, documents, front_matter=True)
    graph_text = CitationGraph.build(corpus.chunks, documents, front_matter=False)
    ids = [c.chunk_id for c in corpus.chunks]
    if args.combined:
        sig = build_signals(kb, corpus, questions, models=(GEMMA,))
        links = cvr.bridge_matrix(sig, ids, graph)
        results = bridge_variants(sig, folds, links)
        results.append(
            cvr.cross_validate(
                sig,
                folds,
                "Gemma + guide bridge (text references only)",
                cvr.v_bridge(cvr.bridge_matrix(sig, ids, graph_text)),
                cvr.grid(w_bm25=(0.05,), w_bridge=(0.0, 0.25, 0.5, 0.75, 0.9, 1.0)),
            )
        )
        print_retrieval(results, "Retrieval, dev questions on bench corpus + starter KB (5-fold CV)")
        out["combined_dev"] = {r.name: {"folds": r.folds, "chosen": r.chosen} for r in results}
    if args.starter:
        sig = build_signals(kb, corpus, starter, models=(GEMMA,))
        results = short_variants(sig, starter_folds) + bridge_variants(
            sig, starter_folds, cvr.bridge_matrix(sig, ids, graph)
        )
        print_retrieval(results, "Retrieval, starter questions on bench corpus + starter KB (5-fold CV)")
        out["combined_starter"] = {r.name: {"folds": r.folds, "chosen": r.chosen} for r in results}
        sub, _rows = subset(corpus, lambda c: c.partner != "Benchmark")
        sig = build_signals(kb, sub, starter, models=(GEMMA,))
        sub_ids = [c.chunk_id for c in sub.chunks]
        results = short_variants(sig, starter_folds)
        print_retrieval(
            results, f"Retrieval, starter questions on the starter KB alone ({len(sub.chunks)} chunks, 5-fold CV)"
        )
        out["starter"] = {r.name: {"folds": r.folds, "chosen": r.chosen} for r in results}
        del sub_ids
        if args.answers:
            from bench.cv_answers import run_answers_cv

            out["starter_answers"] = run_answers_cv(
                kb, starter, starter_folds, label=f"starter ({len(starter)}) on bench corpus + starter KB"
            )
    return out


if __name__ == "__main__":
    sys.exit(main())
