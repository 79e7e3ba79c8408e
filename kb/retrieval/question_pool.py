"""The pool of example questions the hubness correction compares chunks with.

A pool is a file of question texts only: JSON Lines with a ``question`` field per line (as
``eval/starter.jsonl``), or plain text with one question per line. Its vectors (the embedding model's query
prompt) are kept on disk next to the vector cache, keyed by the model and the exact texts, so the pool is
embedded once per model, not at every start.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from kb.embeddings import Embedder

log = logging.getLogger(__name__)


def read_questions(path: Path) -> list[str]:
    """The question texts of a pool file (empty when it does not exist)."""
    if not path.is_file():
        return []
    texts: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                question = json.loads(line).get("question")
            except (json.JSONDecodeError, AttributeError):
                continue
            if isinstance(question, str) and question.strip():
                texts.append(question.strip())
        else:
            texts.append(line)
    return list(dict.fromkeys(texts))


def _model_key(embedder: Embedder) -> str:
    cache = getattr(embedder, "cache", None)
    identity = getattr(cache, "identity", None)
    return identity or type(embedder).__name__ + str(getattr(embedder, "dimension", ""))


def pool_vectors(texts: list[str], embedder: Embedder, cache_dir: Path | None) -> np.ndarray:
    """Query vectors of ``texts``, from ``cache_dir`` when embedded before by the same model."""
    dim = int(getattr(embedder, "dimension", 0) or 0)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    key = hashlib.sha256((_model_key(embedder) + "\x00" + "\x01".join(texts)).encode()).hexdigest()[:20]
    path = cache_dir / f"question-pool-{key}.npy" if cache_dir else None
    if path is not None and path.is_file():
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                return vectors.astype(np.float32)
        except (OSError, ValueError):
            log.warning("question pool cache %s unreadable; embedding again", path)
    vectors = np.asarray(embedder.encode_queries(texts), dtype=np.float32)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)
        except OSError:
            log.warning("question pool cache %s not writable", path)
    return vectors
