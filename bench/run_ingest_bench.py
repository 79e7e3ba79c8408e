"""Ingest benchmark: pipeline wall time against the raw encode time of exactly the texts it embedded.

Ingests ``../shared/bench/corpus`` into a temporary store (with a fresh, empty vector cache, so every text is
really embedded), records every text that reached the model, then encodes exactly those texts again with the
same loaded model in one ``model.encode`` call (same batch size) and prints:

* pipeline wall time (parse, chunk, embed, store) and the raw encode time, and their ratio (target <= 1.2);
* vectors per chunk and chunks per second;
* the precision chosen (and how), the torch threads and the CPU.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_ingest_bench.py [--limit N] [--no-passages]

``KB_EMBED_DTYPE=float32`` reproduces a machine without native bfloat16.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.paths import SHARED  # noqa: E402
from ingest.pipeline import collect_files  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    ap.add_argument("--limit", type=int, default=0, help="only the first N files")
    ap.add_argument("--no-passages", action="store_true", help="KB_PASSAGE_VECTORS=false for this run")
    ap.add_argument(
        "--keep-cache", type=Path, help="copy the run's vector cache here afterwards (other benchmarks reuse it)"
    )
    args = ap.parse_args()
    files = collect_files([args.corpus])
    if args.limit:
        files = files[: args.limit]
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        update = {"data_dir": Path(tmp), "vector_cache_dir": Path(tmp) / "vectors"}
        if args.no_passages:
            update["passage_vectors"] = False
        settings = Settings().model_copy(update=update)
        kb = KnowledgeBase(settings)
        t_load = time.perf_counter()
        embedder = kb.embedder()
        load_s = time.perf_counter() - t_load
        embedder.record = []
        before = (embedder.encoded_texts, embedder.encode_seconds)
        t0 = time.perf_counter()
        report = kb.pipeline.ingest_paths(files)
        wall = time.perf_counter() - t0
        texts = list(embedder.record)
        embedder.record = None
        inside = embedder.encode_seconds - before[1]
        chunks = kb.store.chunk_count()
        vectors = kb.store.chunks.count()
        # the same texts, the same model, one raw call: what embedding alone costs
        t1 = time.perf_counter()
        embedder.model.encode(
            texts, batch_size=settings.embed_batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        raw = time.perf_counter() - t1
        if args.keep_cache:
            import shutil

            if embedder.cache:
                embedder.cache.close()
            shutil.copytree(Path(tmp) / "vectors", args.keep_cache, dirs_exist_ok=True)
    cpu = detect_cpu()
    decision = embedder.precision
    import torch

    print(f"CPU: {cpu.describe()}")
    print(
        f"Precisie: {decision.describe() if decision else '?'} [{getattr(decision, 'source', '?')}]; "
        f"torch-threads {torch.get_num_threads()}; model laden {load_s:.1f} s"
    )
    print(
        f"Corpus: {len(files)} bestanden, {report.count('added')} ingelezen, {len(report.failed)} mislukt; "
        f"passage-vectoren {'uit' if not settings.passage_vectors else 'aan'}"
    )
    print("| meting | waarde |\n|---|---:|")
    print(f"| stukken (chunks) | {chunks} |")
    print(f"| vectoren | {vectors} ({vectors / max(1, chunks):.2f} per stuk) |")
    print(f"| teksten ge-embed door de pipeline | {len(texts)} |")
    print(f"| pipeline (inlezen, knippen, embedden, opslaan) | {wall:.1f} s |")
    print(f"| waarvan binnen model.encode | {inside:.1f} s |")
    print(f"| ruwe encode van precies die teksten | {raw:.1f} s |")
    print(f"| verhouding pipeline / ruwe encode | **{wall / raw:.2f}** (doel ≤ 1.2) |")
    print(f"| stukken per seconde | {chunks / wall:.2f} |")
    print(f"| teksten per seconde (ruw) | {len(texts) / raw:.2f} |")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
