"""Faster encoders for EmbeddingGemma, measured on this CPU: torch float32 / bfloat16, torch int8 dynamic
quantization, and ONNX Runtime with an exported graph (transformer + pooling + dense layers).

For each: seconds per document text (16 starter chunks with their title slot, median of 3 rounds after a
warm-up) and per question, and how close its vectors are to float32 (mean and minimum cosine over the
documents and 10 dev-like questions). A candidate is worth a full recall run only when its vectors stay
at cosine >= 0.995 of float32 and it is clearly faster.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_encoder_bench.py [--no-onnx]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
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
from kb.models.loading import load_sentence_transformer  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402

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
    return statistics.median(samples), norm(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-onnx", action="store_true")
    args = ap.parse_args()
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

    compare("torch bfloat16", enc(copy.deepcopy(model).to(torch.bfloat16)))
    q8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    compare("torch int8 dynamisch (Linear)", enc(q8))
    del q8
    if not args.no_onnx:
        try:
            compare("ONNX Runtime (float32)", onnx_encoder(model))
        except Exception as exc:
            rows.append((f"ONNX Runtime: export mislukt ({type(exc).__name__}: {str(exc)[:120]})", 0, 0, 0, 0))
    print(f"CPU: {detect_cpu().describe()}; torch-threads {torch.get_num_threads()}")
    print(f"{len(texts)} documentteksten (startkennisbank, met titelslot), {len(queries)} vragen\n")
    print("| encoder | ms per document | ms per vraag | cosinus met float32 (gem.) | (min.) |")
    print("|---|---:|---:|---:|---:|")
    for name, dt_, qt, mean, low in rows:
        print(f"| {name} | {dt_ / len(texts) * 1000:.0f} | {qt / len(queries) * 1000:.0f} | {mean:.4f} | {low:.4f} |")
    return 0


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

    def encode(texts):
        outs = []
        for start in range(0, len(texts), 16):
            batch = tok(
                list(texts[start : start + 16]), padding=True, truncation=True, max_length=512, return_tensors="np"
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
