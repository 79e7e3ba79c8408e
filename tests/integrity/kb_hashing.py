"""Run the real ``kb`` command line in this process with the hashing test model (fast process tests).

    python tests/integrity/kb_hashing.py ingest DOCS --partner "Partner A"

Everything is the product's own code path (argument parsing, DocumentService, pipeline, store, SQL); only
the embedding model is the small deterministic one of ``tests/conftest.py``, so a process starts in about a
second and tests can kill many of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import HashingModel  # noqa: E402

import kb.service  # noqa: E402
from kb.embeddings import Embedder  # noqa: E402

_EMBEDDER = Embedder(HashingModel(), name="hashing-test")
kb.service.get_embedder = lambda settings: _EMBEDDER  # type: ignore[assignment]

if __name__ == "__main__":
    from kb.cli import main

    sys.exit(main(sys.argv[1:]))
