"""Shared fixtures: isolated settings per test, and a small deterministic embedding model.

The hashing model is a real (if crude) embedding: a normalized bag of hashed word and character-trigram
features, so texts that share words are close. Unit tests of the pipeline and the store use it to stay fast;
tests marked ``model`` use the real default model.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from kb.config import Settings

if TYPE_CHECKING:  # imported where used: the xdist controller loads this file but runs no test
    from kb.embeddings import Embedder

SHARED_BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"


class HashingModel:
    """Implements the slice of the SentenceTransformer API that :class:`Embedder` uses."""

    prompts = {"query": "", "document": ""}

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        words = re.findall(r"\w+", text.lower())
        for w in words:
            for feat in [w] + [w[i : i + 3] for i in range(max(1, len(w) - 2))]:
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=4).digest(), "little")
                v[h % self.dim] += 1.0 if feat == w else 0.3
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def encode(
        self,
        texts,
        prompt_name=None,
        batch_size=16,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    ):
        return np.vstack([self._vector(t) for t in texts])


def _hashing_embedder() -> Embedder:
    from kb.embeddings import Embedder

    return Embedder(HashingModel(), name="hashing-test")


def _settings_under(root: Path) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=root / "data",
        embed_model="hashing-test",
        starter_kb_dir=root / "starter",
        chroma_host=None,
    )


@pytest.fixture
def hashing_embedder() -> Embedder:
    return _hashing_embedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings_under(tmp_path)


@pytest.fixture(scope="session")
def make_hashing_embedder() -> Callable[[], Embedder]:
    """What ``hashing_embedder`` is, for fixtures of a wider scope (a knowledge base built once per module)."""
    return _hashing_embedder


@pytest.fixture(scope="session")
def settings_under() -> Callable[[Path], Settings]:
    """``settings_under(folder)``: what ``settings`` is with its files under ``folder``, for wider-scoped fixtures."""
    return _settings_under


@pytest.fixture(autouse=True)
def _cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes tens of milliseconds per hash, and many tests create accounts:
    in-process tests hash at the lowest cost unless marked ``production_hashing`` (the rehash test is, so the
    production parameters stay checked). Real ``kb`` processes started by tests always use the production cost."""
    from argon2 import PasswordHasher

    from kb.db import accounts

    accounts._dummy_hash.cache_clear()  # made with whichever hasher the test uses
    if not request.node.get_closest_marker("production_hashing"):
        monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
