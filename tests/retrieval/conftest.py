"""Fixtures for the retrieval tests: a real embedded Chroma store filled by the real ingest pipeline.

Exposed as fixtures (not importable helpers): the test folders have no ``__init__.py`` files, so
``import conftest`` would be ambiguous between them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from kb.config import Settings
from kb.embeddings import Embedder
from kb.store import KnowledgeStore


@pytest.fixture
def store(settings: Settings) -> KnowledgeStore:
    return KnowledgeStore(settings)


@pytest.fixture
def ingest(
    store: KnowledgeStore, settings: Settings, hashing_embedder: Embedder, tmp_path: Path
) -> Callable[..., KnowledgeStore]:
    """``ingest({"name.md": text, ...})`` writes the Markdown files and ingests them into ``store``."""
    counter = iter(range(1_000_000))

    def _ingest(docs: dict[str, str], settings_override: Settings | None = None) -> KnowledgeStore:
        folder = tmp_path / f"docs{next(counter)}"
        folder.mkdir()
        for name, text in docs.items():
            (folder / name).write_text(text, encoding="utf-8")
        report = IngestPipeline(store, lambda: hashing_embedder, settings_override or settings).ingest_paths([folder])
        assert report.ok, [r.error for r in report.failed]
        return store

    return _ingest
