"""Data for the cross-validated benchmark: a real store of the bench corpus, every vector of it and of the
questions for each model, cached on disk so that experiments run in numpy in seconds.

* :func:`open_store` ingests the corpus (plus the glossary, plus optionally the starter knowledge base) with
  the product's pipeline and default model, reusing a folder that holds the same material.
* :func:`load_corpus` reads back every chunk and every stored vector (chunk and passage vectors) with the
  chunk each belongs to.
* :func:`model_vectors` embeds the same chunk and passage texts with another model (cached .npz).
* :func:`query_vectors` embeds question texts with a model (cached .npz).
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.run_retrieval_bench import prepare  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.embeddings import get_embedder  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402
from kb.store import StoredChunk  # noqa: E402


def _shared() -> Path:
    """``../shared/bench`` next to the checkout (a git worktree under ``wt/`` looks one level higher)."""
    if os.environ.get("KB_BENCH_DIR"):
        return Path(os.environ["KB_BENCH_DIR"])
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "bench").exists():
            return base / "shared" / "bench"
    return ROOT.parent / "shared" / "bench"


SHARED = _shared()
CACHE = Path(os.environ.get("KB_BENCH_CACHE", "/tmp/samenweten-cv-cache"))


@dataclass
class Corpus:
    chunks: list[StoredChunk]
    texts: list[str]  # every stored vector's text: chunks, then passages
    headers: list[str]  # the context header embedded with each text
    parent: np.ndarray  # chunk index of each text
    vectors: np.ndarray  # the default model's stored vectors, one row per text
    fingerprint: str


def open_store(store_dir: Path, with_starter: bool = False, settings: Settings | None = None) -> KnowledgeBase:
    settings = (settings or Settings()).model_copy(update={"store_dir": store_dir, "glossary_expansion": True})
    kb = prepare(settings, SHARED / "corpus", with_glossary=True)
    if with_starter:
        marker = settings.resolved_store_dir() / "starter-added.txt"
        if not marker.exists():
            # chunk vectors only: passage vectors do not move the ranking (README) and cost 2/3 of the ingest
            kb.pipeline.settings = settings.model_copy(update={"passage_vectors": False})
            report = kb.pipeline.ingest_paths([settings.starter_kb_dir])
            kb.pipeline.settings = settings
            for failed in report.failed:
                print(failed.error, file=sys.stderr)
            marker.write_text("ja")
    return kb


def load_corpus(kb: KnowledgeBase, chunks_only: bool = False) -> Corpus:
    """Every chunk with its stored vector (and, unless ``chunks_only``, its passages' vectors too)."""
    chunks = sorted(kb.store.iter_chunks(), key=lambda c: c.chunk_id)
    index = {c.chunk_id: i for i, c in enumerate(chunks)}
    got = kb.store.chunks.get(include=["embeddings", "metadatas", "documents"])
    rows = sorted(
        (
            (0 if m.get("kind") == "chunk" else 1, rid, text, np.asarray(vec, dtype=np.float32), m)
            for rid, text, vec, m in zip(got["ids"], got["documents"], got["embeddings"], got["metadatas"], strict=True)
            if m and m.get("kind") in (("chunk",) if chunks_only else ("chunk", "passage"))
        ),
        key=lambda r: (r[0], r[1]),
    )
    parent = [index[rid if kind == 0 else str(m["parent"])] for kind, rid, _, _, m in rows]
    texts = [text for _, _, text, _, _ in rows]
    headers = [chunks[p].header for p in parent]
    h = hashlib.sha256()
    for t, hd in zip(texts, headers, strict=True):
        h.update(hd.encode() + b"\x00" + t.encode() + b"\x01")
    return Corpus(chunks, texts, headers, np.array(parent), np.vstack([r[3] for r in rows]), h.hexdigest()[:16])


def _embedder(model: str):
    return get_embedder(Settings().model_copy(update={"embed_model": model}))


def model_vectors(corpus: Corpus, model: str) -> np.ndarray:
    """The corpus texts embedded by ``model`` as the pipeline would (with their headers); cached."""
    path = CACHE / f"docs-{model}-{corpus.fingerprint}.npy"
    if path.exists():
        return np.load(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    vectors = _embedder(model).encode_documents(corpus.texts, titles=corpus.headers).astype(np.float32)
    np.save(path, vectors)
    return vectors


def query_vectors(texts: list[str], model: str) -> np.ndarray:
    """Question texts embedded by ``model`` with its query prompt; cached per text set."""
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"queries-{model}-{key}.npy"
    if path.exists():
        return np.load(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    vectors = _embedder(model).encode_queries(texts).astype(np.float32)
    np.save(path, vectors)
    return vectors
