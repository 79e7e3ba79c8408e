"""Faster encoders for EmbeddingGemma, measured on this CPU: torch float32 / bfloat16, torch int8 dynamic
quantization, and ONNX Runtime with an exported graph (transformer + pooling + dense layers).

For each: seconds per document text (16 starter chunks with their title slot, median of 3 rounds after a
warm-up) and per question, and how close its vectors are to float32 (mean and minimum cosine over the
documents and 10 dev-like questions).

With ``--recall``: dev recall@5 (all 140 dev questions, the real retriever) of every candidate that is
faster on documents than the precision ``auto`` chose on this CPU, with float32 and that choice as baselines
(none of them when no candidate is faster: nothing could then be kept). Each
ingests the bench corpus (+ glossary) into its own temporary store with no vector cache, so every vector
comes from that encoder. A candidate is kept only when it is faster and its R@5 is within 0.01 of float32.
A candidate slower than the chosen precision gets no recall run: it would not be kept whatever its R@5.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_encoder_bench.py [--no-onnx] [--recall]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.pipeline import DocumentOverrides, collect_files  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.embeddings import Embedder, get_embedder  # noqa: E402
from kb.evaluation import load_questions, run_retrieval  # noqa: E402
from kb.models.loading import load_sentence_transformer  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402
from kb.stats import median  # noqa: E402

QUESTIONS = [
    "Moet onze vereniging zich inschrijven bij de Kamer van Koophandel?",
    "Hoeveel vrijwilligersvergoeding mag je per jaar geven zonder belasting?",
    "Wat is het verschil tussen een stichting en een vereniging?",
    "Kunnen bestuurders persoonlijk aansprakelijk zijn voor schulden?",
    "Hoe vragen we subsidie aan bij de gemeente?",
    "Wanneer is een giftenaftrek mogelijk voor een ANBI?",
    "Moet een energiecoöperatie btw betalen over de levering van stroom?",
    "Wat moet er in de statuten staan?",
    "Hoe lossen we ledenkapitaal terug als een lid opzegt?",
    "Wie mag de algemene ledenvergadering bijeenroepen?",
]

from bench.paths import SHARED  # noqa: E402


def norm(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def timed(fn, *args) -> tuple[float, np.ndarray]:
    fn(*[a[:2] for a in args])
    samples, out = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        out = fn(*args)
        samples.append(time.perf_counter() - t0)
    return median(samples), norm(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-onnx", action="store_true")
    ap.add_argument("--recall", action="store_true", help="also dev R@5 of float32, the chosen precision, faster ones")
    ap.add_argument("--recall-files", type=int, default=0, help="R@5 on the first N corpus files only (shrunk)")
    args = ap.parse_args()
    # what auto chooses on this CPU (probed once per machine, cached next to the model)
    auto = get_embedder(Settings().model_copy(update={"data_dir": Path(tempfile.mkdtemp()), "embed_dtype": "auto"}))
    chosen = auto.precision
    print(f"Precisie (auto): {chosen.describe() if chosen else '?'} [{getattr(chosen, 'source', '?')}]")
    settings = Settings().model_copy(update={"data_dir": Path(tempfile.mkdtemp()), "embed_dtype": "float32"})
    kb = KnowledgeBase(settings)
    texts: list[str] = []
    for path in collect_files([settings.starter_kb_dir])[:8]:
        prep = kb.pipeline._prepare(path, DocumentOverrides())
        texts += [f"title: {h or 'none'} | text: {t}" for t, h in zip(prep.texts, prep.titles, strict=True)][:2]
    texts = texts[:16]
    queries = [f"task: question answering | query: {q}" for q in QUESTIONS]
    model = load_sentence_transformer(settings.embed_model, settings.resolved_models_dir(), dtype="float32")
    enc = lambda m: lambda t: m.encode(list(t), batch_size=16, convert_to_numpy=True)  # noqa: E731
    rows = []
    models: dict[str, object] = {"torch float32": model}
    base_doc_t, base_doc = timed(enc(model), texts)
    base_q_t, base_q = timed(enc(model), queries)
    rows.append(("torch float32", base_doc_t, base_q_t, 1.0, 1.0))

    def compare(name: str, m_encode) -> None:
        doc_t, doc = timed(m_encode, texts)
        q_t, q = timed(m_encode, queries)
        cos = np.concatenate([(doc * base_doc).sum(1), (q * base_q).sum(1)])
        rows.append((name, doc_t, q_t, float(cos.mean()), float(cos.min())))
        print(f"  {name}: klaar", file=sys.stderr)

    import torch

    models["torch bfloat16"] = copy.deepcopy(model).to(torch.bfloat16)
    compare("torch bfloat16", enc(models["torch bfloat16"]))
    q8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    models["torch int8 dynamisch (Linear)"] = q8
    compare("torch int8 dynamisch (Linear)", enc(q8))
    if not args.no_onnx:
        try:
            onnx = OnnxModel(model)
            models["ONNX Runtime (float32)"] = onnx
            compare("ONNX Runtime (float32)", lambda t: onnx.encode(list(t)))
        except Exception as exc:
            rows.append((f"ONNX Runtime: export mislukt ({type(exc).__name__}: {str(exc)[:120]})", 0, 0, 0, 0))
    print(f"CPU: {detect_cpu().describe()}; torch-threads {torch.get_num_threads()}")
    print(f"{len(texts)} documentteksten (startkennisbank, met titelslot), {len(queries)} vragen\n")
    print("| encoder | ms per document | ms per vraag | cosinus met float32 (gem.) | (min.) |")
    print("|---|---:|---:|---:|---:|")
    for name, dt_, qt, mean, low in rows:
        print(f"| {name} | {dt_ / len(texts) * 1000:.0f} | {qt / len(queries) * 1000:.0f} | {mean:.4f} | {low:.4f} |")
    if args.recall:
        chosen_name = "torch bfloat16" if chosen is not None and chosen.dtype == "bfloat16" else "torch float32"
        doc_time = {name: dt_ for name, dt_, *_ in rows if name in models}
        faster = [n for n in doc_time if n != chosen_name and doc_time[n] < doc_time[chosen_name]]
        # the baselines (float32, the chosen precision) are run only when a candidate could replace them
        wanted = (
            ["torch float32", *([chosen_name] if chosen_name != "torch float32" else []), *faster] if faster else []
        )
        wanted = list(dict.fromkeys(wanted))
        skipped = [n for n in doc_time if n not in wanted]
        files = collect_files([SHARED / "corpus"])
        if args.recall_files:
            files = files[: args.recall_files]
        print(
            f"\nDev R@5 (140 vragen, echte retriever; {len(files)} corpusbestanden + begrippenlijst; "
            f"gekozen precisie: {chosen_name})"
        )
        if skipped:
            print(f"Geen recall-run (niet sneller dan {chosen_name}, dus nooit gekozen): {', '.join(skipped)}")
        if not wanted:
            return 0
        print("| encoder | R@1 | R@5 | R@10 | MRR | ingest | ΔR@5 vs float32 |\n|---|---:|---:|---:|---:|---:|---:|")
        base_r5 = None
        for name in wanted:
            r, seconds = recall_of(models[name], settings, files)
            r5 = r.overall.recall[5]
            base_r5 = r5 if base_r5 is None else base_r5
            print(
                f"| {name} | {r.overall.recall[1]:.3f} | {r5:.3f} | {r.overall.recall[10]:.3f} | "
                f"{r.overall.mrr:.3f} | {seconds:.0f} s | {r5 - base_r5:+.3f} |",
                flush=True,
            )
    return 0


def recall_of(model, settings: Settings, files: list[Path]):
    """Dev retrieval scores with every vector (documents and questions) from ``model``; and ingest seconds."""
    s = settings.model_copy(update={"data_dir": Path(tempfile.mkdtemp(prefix="enc-recall-")), "vector_cache": False})
    kb = KnowledgeBase(s)
    embedder = Embedder(model, name=s.embed_model, batch_size=s.embed_batch_size)
    kb.embedder = lambda: embedder  # type: ignore[method-assign]
    t0 = time.perf_counter()
    kb.pipeline.ingest_paths(files, DocumentOverrides(partner="Benchmark"))
    glossary = s.starter_kb_dir / "begrippenlijst.md"
    if glossary.exists():
        kb.pipeline.ingest_paths([glossary])
    seconds = time.perf_counter() - t0
    questions = load_questions(SHARED / "dev.jsonl") + load_questions(SHARED / "dev-extra.jsonl")
    return run_retrieval(questions, kb.retriever.search, k=10), seconds


class OnnxModel:
    """The sentence-transformers model exported to ONNX (transformer + pooling + dense layers), run on ONNX
    Runtime behind the part of the ``SentenceTransformer`` interface the :class:`Embedder` uses."""

    def __init__(self, model) -> None:
        self.prompts = dict(model.prompts)
        self.max_seq_length = model.max_seq_length
        self._dim = model.get_sentence_embedding_dimension()
        self._encode = onnx_encoder(model)

    def get_sentence_embedding_dimension(self) -> int:
        return int(self._dim)

    def encode(self, texts, prompt_name=None, batch_size=16, **_) -> np.ndarray:
        prompt = self.prompts.get(prompt_name, "") if prompt_name else ""
        return self._encode([prompt + t for t in texts], batch_size, self.max_seq_length)


def onnx_encoder(model):
    """Export transformer + pooling + dense layers + normalize to ONNX; an encode function on ORT."""
    import onnxruntime as ort
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self, st) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask):
            out = self.st({"input_ids": input_ids, "attention_mask": attention_mask})
            return out["sentence_embedding"]

    tok = model.tokenizer
    sample = tok(["een korte zin", "nog een wat langere zin om te exporteren"], padding=True, return_tensors="pt")
    path = Path(tempfile.mkdtemp()) / "gemma.onnx"
    t0 = time.perf_counter()
    torch.onnx.export(
        Wrapped(model).eval(),
        (sample["input_ids"], sample["attention_mask"]),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, "embedding": {0: "b"}},
        opset_version=18,
        dynamo=False,
    )
    print(f"  ONNX-export {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def encode(texts, batch_size: int = 16, max_length: int = 512):
        outs = []
        for start in range(0, len(texts), batch_size):
            batch = tok(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="np",
            )
            outs.append(
                session.run(
                    None,
                    {
                        "input_ids": batch["input_ids"].astype(np.int64),
                        "attention_mask": batch["attention_mask"].astype(np.int64),
                    },
                )[0]
            )
        return np.vstack(outs)

    return encode


if __name__ == "__main__":
    sys.exit(main())
