"""Search latency with 10,000 chunks in the store (warm: model loaded, indexes built).

Embedding 10,000 fresh chunks would take an hour on 2 cores and measures ingest, not search. So the store is
filled with the bench corpus, then with copies of its documents (other doc ids, the vectors slightly
perturbed, the texts varied per copy) until it holds at least ``--chunks`` chunks. The questions of
``dev.jsonl`` are then searched a few rounds each and the median and p95 are printed, for the whole search
and for the query embedding alone.

    .venv/bin/python bench/run_latency_bench.py [--chunks 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.paths import SHARED  # noqa: E402
from bench.run_retrieval_bench import prepare  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.evaluation import load_questions  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402
from kb.stats import median, percentile  # noqa: E402
from kb.store import DocumentRecord, NewChunk  # noqa: E402


def fill(kb, target: int, seed: int = 0) -> None:
    store = kb.store
    base_docs = [d for d in store.list_documents() if not d.doc_id.startswith("copy")]
    rng = np.random.default_rng(seed)
    copy = 0
    while store.chunk_count() < target:
        copy += 1
        for record in base_docs:
            got = store.chunks.get(where={"doc_id": record.doc_id}, include=["embeddings", "documents", "metadatas"])
            order = sorted(
                range(len(got["ids"])), key=lambda i: (got["metadatas"][i]["kind"] != "chunk", got["ids"][i])
            )
            chunks, passages_of = [], {}
            for i in order:
                meta = got["metadatas"][i]
                vec = np.asarray(got["embeddings"][i], dtype=np.float32)
                vec = vec + rng.normal(0, 0.02, vec.shape).astype(np.float32)
                vec /= np.linalg.norm(vec)
                if meta["kind"] == "chunk":
                    chunks.append((got["ids"][i], meta, got["documents"][i], vec))
                else:
                    passages_of.setdefault(meta["parent"], []).append((got["documents"][i], vec))
            new_chunks, chunk_vecs, passage_vecs = [], [], []
            for cid, meta, text, vec in chunks:
                ps = passages_of.get(cid, [])
                new_chunks.append(
                    NewChunk(
                        index=int(meta["chunk_index"]),
                        text=f"{text}\n(kopie {copy})",
                        header=meta.get("header", ""),
                        section=tuple(json.loads(meta["section"])),
                        page_start=meta.get("page_start"),
                        page_end=meta.get("page_end"),
                        passages=tuple(p for p, _ in ps),
                    )
                )
                chunk_vecs.append(vec)
                passage_vecs.extend(v for _, v in ps)
            clone = DocumentRecord(
                **{
                    **record.__dict__,
                    "doc_id": f"copy{copy}--{record.doc_id}",
                    "source": f"kopie{copy}_{record.source}",
                    "extra": {},
                }
            )
            store.replace_document(clone, new_chunks, np.vstack(chunk_vecs + passage_vecs), "", original=None)
            if store.chunk_count() >= target:
                break
        print(f"  … {store.chunk_count()} stukken", file=sys.stderr)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def profile_search(kb, questions: list[str], k: int) -> str:
    """Where a search's time goes besides the question's embedding: the query cache is warm here, so the
    profile shows the Chroma call, the lexical index, the bridge and the rest (printed to stderr)."""
    import cProfile
    import io
    import pstats

    for q in questions:
        kb.retriever.search(q, k)  # warm the query cache: the profile leaves the embedding out
    rest = []
    prof = cProfile.Profile()
    for q in questions:
        t0 = time.perf_counter()
        prof.enable()
        kb.retriever.search(q, k)
        prof.disable()
        rest.append(time.perf_counter() - t0)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
    print(out.getvalue(), file=sys.stderr)
    return (
        f"| search zonder vraag-embedding (warme vraagcache, geprofileerd) | "
        f"{median(rest) * 1000:.0f} ms | {percentile(rest, 95) * 1000:.0f} ms |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "data" / "latency-store")
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus", help="the documents copied up to --chunks")
    ap.add_argument("--base-files", type=int, default=0, help="only the first N corpus files as the base")
    ap.add_argument("--answers", type=int, default=60, help="questions answered for the answer timing")
    ap.add_argument(
        "--seed-cache",
        type=Path,
        help="a vector cache of the corpus's chunk vectors (run_ingest_bench --keep-cache), copied in first so "
        "the store is built without re-embedding; it holds no paragraphs, so the answers stay cold",
    )
    ap.add_argument("--profile", action="store_true", help="also profile the search path without the embedding")
    args = ap.parse_args()
    import shutil
    import tempfile

    # a fresh vector cache: the answers below embed their units cold, as a first answer does
    cache_dir = Path(tempfile.mkdtemp(prefix="latency-vectors-"))
    if args.seed_cache:
        shutil.copytree(args.seed_cache, cache_dir, dirs_exist_ok=True)
    settings = Settings().model_copy(update={"store_dir": args.store, "vector_cache_dir": cache_dir})
    corpus = args.corpus
    if args.base_files:
        from ingest.pipeline import collect_files

        corpus = Path(tempfile.mkdtemp(prefix="latency-base-"))
        for f in collect_files([args.corpus])[: args.base_files]:
            (corpus / f.name).write_bytes(f.read_bytes())
    kb = prepare(settings, corpus, with_glossary=not args.base_files)
    fill(kb, args.chunks)
    n_chunks = kb.store.chunk_count()
    n_vectors = kb.store.chunks.count()
    questions = [q.question for q in load_questions(SHARED / "dev.jsonl")]
    kb.retriever.search("opwarmen", 5)  # load model, build BM25 and glossary once
    embedder = kb.embedder()
    load_before = load_average()
    # the hubness correction's share of each search (KB_HUBNESS_WEIGHT): its calls timed inside the search
    hub_spent = [0.0]
    mark_down = kb.retriever._mark_down_hubs

    def timed_mark_down(candidates):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return mark_down(candidates)
        finally:
            hub_spent[0] += time.perf_counter() - t

    kb.retriever._mark_down_hubs = timed_mark_down
    total, embed, hub = [], [], []
    for _ in range(args.rounds):
        for q in questions:
            embedder.forget_queries()  # time the question's embedding, not the query cache
            t0 = time.perf_counter()
            embedder.encode_queries([q])
            t1 = time.perf_counter()
            embedder.forget_queries()
            hub_spent[0] = 0.0
            kb.retriever.search(q, settings.top_k)
            t2 = time.perf_counter()
            embed.append(t1 - t0)
            total.append(t2 - t1)
            hub.append(hub_spent[0])
    profiled = profile_search(kb, questions, settings.top_k) if args.profile else ""
    # answers: the whole ask (search, answerability, extractive quoting) and the part after retrieval
    answer_total, after = [], []
    for q in questions[: args.answers]:
        embedder.forget_queries()
        t0 = time.perf_counter()
        kb.retriever.search(q, settings.answer_sources)
        t1 = time.perf_counter()
        embedder.forget_queries()
        t2 = time.perf_counter()
        kb.assistant.ask(q).complete()
        t3 = time.perf_counter()
        answer_total.append(t3 - t2)
        after.append(max(0.0, (t3 - t2) - (t1 - t0)))
    import torch

    decision = embedder.precision
    kernel = embedder.query_kernel
    print(f"CPU: {detect_cpu().describe()}")
    print(
        f"Precisie: {decision.describe() if decision else '?'} [{getattr(decision, 'source', '?')}]; "
        f"torch-threads {torch.get_num_threads()}"
    )
    print(f"Vraag-kernel: {kernel.describe() if kernel else '?'} [{getattr(kernel, 'source', '?')}]")
    print(
        f"Load average voor de zoekvragen {load_before}, na de antwoorden {load_average()}; "
        f"hubness-gewicht {settings.hubness_weight}"
    )
    print(f"Store: {n_chunks} stukken ({n_vectors} vectoren incl. alinea's); {len(total)} zoekvragen, warm.")
    print("| meting | mediaan | p95 |\n|---|---:|---:|")
    print(
        f"| kb search ({settings.retrieval_mode}, top {settings.top_k}) | {median(total) * 1000:.0f} ms | {percentile(total, 95) * 1000:.0f} ms |"
    )
    if profiled:
        print(profiled)
    print(f"| waarvan vraag-embedding | {median(embed) * 1000:.0f} ms | {percentile(embed, 95) * 1000:.0f} ms |")
    rest = [t - e for t, e in zip(total, embed, strict=True)]
    print(
        f"| zoeken zonder vraag-embedding (search min de embedding ervoor) | {median(rest) * 1000:.0f} ms | {percentile(rest, 95) * 1000:.0f} ms |"
    )
    print(f"| waarvan hubness-correctie | {median(hub) * 1000:.1f} ms | {percentile(hub, 95) * 1000:.1f} ms |")
    print(
        f"| extractief antwoord, geheel (koude eenheden-cache, {len(answer_total)} vragen) | {median(answer_total) * 1000:.0f} ms | {percentile(answer_total, 95) * 1000:.0f} ms |"
    )
    print(f"| waarvan na het zoeken | {median(after) * 1000:.0f} ms | {percentile(after, 95) * 1000:.0f} ms |")
    print(f"(passage-vectoren {'aan' if settings.passage_vectors else 'uit'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
