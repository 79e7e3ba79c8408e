"""What one question's embedding costs, and what makes it cheaper without changing its vector.

Loads the embedding model (the chosen precision, and float32 for comparison) and embeds the questions of
``dev.jsonl`` one at a time, every variant once per question in turn (so a disturbance from another process
hits all variants alike), for ``--rounds`` rounds:

* ``st.encode``, the plain path (what SamenWeten did before) and with one torch thread around the call;
* ``st.encode`` with the linear weights pre-packed for oneDNN (:mod:`kb.models.packing`);
* tokenizer + ``model.forward`` directly (no sentence-transformers ``encode`` around it), packed, under
  ``torch.inference_mode`` and under ``torch.no_grad``;
* what SamenWeten now runs (``Embedder.encode_queries``: the direct path, packed only where the probe chose it);
* the same in float32 (plain, one thread, packed), when the chosen precision is not float32.

Prints the median and p95 per question, the lowest cosine of each variant's vectors to the plain path's of
the same precision, the CPU, the load average and what ``KB_EMBED_QUERY_KERNEL=auto`` decided.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_query_embed_bench.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.paths import SHARED  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.evaluation import load_questions  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402
from kb.stats import median, percentile  # noqa: E402


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def variants(model: Any, prompt_name: str | None, label: str) -> dict[str, Callable[[str], np.ndarray]]:
    import torch

    from kb.models import packing

    prompt = (model.prompts or {}).get(prompt_name or "", "")
    tokenizer = model.tokenizer

    def st_encode(text: str) -> np.ndarray:
        out = model.encode([text], prompt_name=prompt_name, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)[0]

    def forward(text: str) -> np.ndarray:
        features = tokenizer(
            [prompt + text], return_tensors="pt", padding=True, truncation=True, max_length=model.max_seq_length
        )
        return model.forward(dict(features))["sentence_embedding"][0].float().numpy()

    def with_packing(on: bool, fn: Callable[[str], np.ndarray]) -> Callable[[str], np.ndarray]:
        def run(text: str) -> np.ndarray:
            packing.set_packed(model, on)
            return fn(text)

        return run

    def one_thread(fn: Callable[[str], np.ndarray]) -> Callable[[str], np.ndarray]:
        def run(text: str) -> np.ndarray:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return fn(text)
            finally:
                torch.set_num_threads(before)

        return run

    def under(ctx: Callable[[], Any], fn: Callable[[str], np.ndarray]) -> Callable[[str], np.ndarray]:
        def run(text: str) -> np.ndarray:
            with ctx():
                return fn(text)

        return run

    return {
        f"{label} st.encode (plain)": with_packing(False, st_encode),
        f"{label} st.encode, 1 torch thread": with_packing(False, one_thread(st_encode)),
        f"{label} st.encode, packed": with_packing(True, st_encode),
        f"{label} forward direct, packed, inference_mode": with_packing(True, under(torch.inference_mode, forward)),
        f"{label} forward direct, packed, no_grad": with_packing(True, under(torch.no_grad, forward)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-float32", action="store_true", help="skip the float32 comparison")
    args = ap.parse_args()
    import torch

    from kb.embeddings import get_embedder, set_torch_threads
    from kb.models import packing
    from kb.models.installed import installed_spec, resolve_model_path
    from kb.models.loading import _load_st

    settings = Settings()
    set_torch_threads(settings.embed_threads)
    embedder = get_embedder(settings)  # the product's own load: precision and query kernel decided (cached)
    model = embedder.model
    chosen = str(model.dtype).replace("torch.", "")
    kernel = embedder.query_kernel
    print(f"CPU: {detect_cpu().describe()}; torch-threads {torch.get_num_threads()}; load {load_average()}")
    print(f"Precisie: {embedder.precision.describe() if embedder.precision else '?'}")
    print(f"Vraag-kernel (auto): {kernel.describe() if kernel else '?'} [{getattr(kernel, 'source', '?')}]")
    if not packing.packed_layers(model):
        packing.pack_linears(model)  # the benchmark compares both paths whatever was decided
    runs = variants(model, embedder.query_prompt_name, chosen)
    decided_packed = bool(kernel and kernel.kernel == "packed")

    def product(text: str) -> np.ndarray:
        packing.set_packed(model, decided_packed)
        embedder.forget_queries()
        return embedder.encode_queries([text])[0]

    runs[
        f"{chosen} Embedder.encode_queries (the product: direct path, kernel {'packed' if decided_packed else 'plain'})"
    ] = product
    if chosen != "float32" and not args.no_float32:
        path = resolve_model_path(settings.embed_model, settings.resolved_models_dir())
        fp32 = _load_st(path, installed_spec(settings.embed_model, path), "cpu", torch.float32, True)
        if packing.packing_supported(torch.float32):
            packing.pack_linears(fp32)
        all_fp32 = variants(fp32, embedder.query_prompt_name, "float32")
        runs.update({k: all_fp32[k] for k in list(all_fp32)[:3]})
    questions = [q.question for q in load_questions(SHARED / "dev.jsonl")]
    for fn in runs.values():  # warm-up
        fn(questions[0])
    times: dict[str, list[float]] = {k: [] for k in runs}
    vectors: dict[str, list[np.ndarray]] = {k: [] for k in runs}
    for r in range(args.rounds):
        for q in questions:
            for name, fn in runs.items():
                t0 = time.perf_counter()
                v = fn(q)
                times[name].append(time.perf_counter() - t0)
                if r == 0:
                    vectors[name].append(v / np.linalg.norm(v))
    print(f"{len(questions)} vragen x {args.rounds} rondes, elke variant om de beurt; load {load_average()}")
    print("| variant | p50 | p95 | lowest cosine to the plain path of its precision |\n|---|---:|---:|---:|")
    for name in runs:
        label = name.split(" ", 1)[0]
        ref = np.vstack(vectors[f"{label} st.encode (plain)"])
        cos = float((np.vstack(vectors[name]) * ref).sum(axis=1).min())
        print(
            f"| {name} | {median(times[name]) * 1000:.1f} ms | {percentile(times[name], 95) * 1000:.1f} ms | {cos:.6f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
