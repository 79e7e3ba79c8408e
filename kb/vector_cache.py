"""Content-addressed document vectors: a text embedded once by a model is never embedded again.

A vector is stored under ``sha256(model identity, exact embedded text)``; the model identity names the model
and the sha256 of its installed weights (see :func:`kb.precision.weights_identity`) and its maximum sequence
length. So re-ingesting an unchanged chunk, ``kb reindex``, a resumed ``kb setup`` or a replaced document
with mostly the same sections embed only what is new, and a different or changed model never sees another
model's vectors.

Two layers:

* the local cache, a SQLite file (``KB_VECTOR_CACHE_DIR``, default ``DATA_DIR/vector-cache``), written as
  batches finish (an interrupted ingest keeps what it embedded);
* read-only *seed* files shipped with the starter knowledge base (``knowledge_base/.vectors/<model>.npz``:
  keys, float16 vectors and the identity they were made with). A seed is used only when its identity equals
  the installed model's, i.e. the same weights sha256; otherwise it is ignored and the texts are embedded.

The precision (float32 or bfloat16) is not part of the identity: both compute the same model and their
vectors agree to cosine >= 0.996 (measured), far below what moves a ranking.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SEED_FORMAT = 1


def text_key(identity: str, text: str) -> bytes:
    return hashlib.sha256(identity.encode() + b"\0" + text.encode("utf-8")).digest()


class VectorCache:
    """Vectors by (model identity, text): a local SQLite cache plus optional read-only seeds."""

    def __init__(self, path: Path | None, identity: str, seeds: Iterable[Path] = ()) -> None:
        self.identity = identity
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._seed_paths = list(seeds)
        self._seed: dict[bytes, np.ndarray] | None = None
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------------------------ storage
    def _db(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
            conn.commit()
            self._conn = conn
        return self._conn

    def _seeds(self) -> dict[bytes, np.ndarray]:
        if self._seed is None:
            self._seed = {}
            for path in self._seed_paths:
                self._seed.update(load_seed(path, self.identity))
        return self._seed

    def get_many(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        keys = [text_key(self.identity, t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            db = self._db()
            if db is not None:
                unique = list(dict.fromkeys(keys))
                for start in range(0, len(unique), 500):
                    part = unique[start : start + 500]
                    rows = db.execute(
                        f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                    ).fetchall()
                    found.update((bytes(k), np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        seeds = self._seeds()
        out: list[np.ndarray | None] = []
        for key in keys:
            vec = found.get(key)
            if vec is None and key in seeds:
                vec = seeds[key]
            out.append(vec)
        hits = sum(v is not None for v in out)
        self.hits += hits
        self.misses += len(out) - hits
        return out

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            db = self._db()
            if db is None:
                return
            rows = [
                (text_key(self.identity, t), np.asarray(v, dtype=np.float32).tobytes())
                for t, v in zip(texts, vectors, strict=True)
            ]
            db.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)", rows)
            db.commit()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def cache_file(cache_dir: Path, identity: str) -> Path:
    """One SQLite file per model identity (a changed model starts a fresh file)."""
    return Path(cache_dir) / f"{hashlib.sha256(identity.encode()).hexdigest()[:16]}.sqlite"


# ---------------------------------------------------------------------------------------------- seeds
def write_seed(path: Path, identity: str, texts: Sequence[str], vectors: np.ndarray) -> None:
    """A shippable seed: keys (sha256 of identity + text), float16 vectors, and the identity they need."""
    keys = np.frombuffer(b"".join(text_key(identity, t) for t in texts), dtype=np.uint8).reshape(-1, 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            keys=keys,
            vectors=np.asarray(vectors, dtype=np.float16),
            meta=np.frombuffer(json.dumps({"format": SEED_FORMAT, "identity": identity}).encode(), dtype=np.uint8),
        )


def seed_identity(path: Path) -> str | None:
    try:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
    except (OSError, ValueError, KeyError):
        return None
    return str(meta.get("identity")) if meta.get("format") == SEED_FORMAT else None


def load_seed(path: Path, identity: str) -> dict[bytes, np.ndarray]:
    """The seed's vectors, only when it was made with exactly this model identity (else nothing)."""
    if not Path(path).is_file():
        return {}
    found = seed_identity(path)
    if found != identity:
        log.info("Vectorbestand %s hoort bij een ander model (%s); niet gebruikt.", path, found)
        return {}
    with np.load(path) as data:
        keys = data["keys"]
        vectors = data["vectors"].astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    return {bytes(k): v for k, v in zip(keys, vectors, strict=True)}
