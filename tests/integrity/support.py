"""Helpers for the process tests: real ``kb`` processes (hashing model), a store snapshot to compare a
recovered store with a cleanly built one."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kb.config import Settings
from kb.service import KnowledgeBase
from kb.store import KnowledgeStore

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).resolve().parent / "kb_hashing.py"
QUERIES = (
    "Heeft een stichting een bestuur?",
    "leden van de vereniging in het dorpshuis",
    "subsidie voor zonnepanelen op de molen",
    "raad van toezicht",
)
PLACES = (
    "dorpshuis",
    "molen",
    "buurthuis",
    "kerk",
    "school",
    "sporthal",
    "bibliotheek",
    "boerderij",
    "haven",
    "station",
)
THINGS = (
    "warmtepomp",
    "zonnepanelen",
    "isolatie",
    "laadpaal",
    "moestuin",
    "speeltuin",
    "jeugdclub",
    "koor",
    "markt",
    "fietsenstalling",
)


def guide(n: int, variant: str = "") -> str:
    place, thing = PLACES[n % len(PLACES)], THINGS[(3 * n + 1) % len(THINGS)]
    extra = (
        (f"\n## Wijziging\n\nIn versie {variant} krijgt de stichting van de {place} ook een raad van toezicht.\n")
        if variant
        else ""
    )
    return (
        f"---\ntitle: Gids {n}\ntopic: rechtsvorm\npartner: Partner A\n---\n# Gids over de {place}\n\n"
        f"## Bestuur\n\nEen stichting voor de {place} heeft een bestuur" + " en geen leden" * (n % 3) + ".\n\n"
        f"## Leden\n\nDe vereniging van de {place} heeft leden die beslissen over de {thing}.\n\n"
        f"## Geld\n\nSubsidie voor {thing} op de {place}" + " bij de gemeente" * (n % 4) + ".\n" + extra
    )


def write_corpus(folder: Path, n: int, changed: set[int] = frozenset(), variant: str = "2") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for i in range(n):
        (folder / f"gids-{i:02d}.md").write_text(guide(i, variant if i in changed else ""), encoding="utf-8")
    return folder


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update({"KB_DATA_DIR": str(data_dir), "KB_EMBED_MODEL": "hashing-test", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def kb_command(*args: str) -> list[str]:
    return [sys.executable, str(RUNNER), *args]


def run_kb(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        kb_command(*args), env=env_for(data_dir, **extra), cwd=ROOT, capture_output=True, text=True, timeout=300
    )


class TestKB(KnowledgeBase):
    __test__ = False

    """The real KnowledgeBase with the hashing embedder (for in-process work on the same store)."""

    def __init__(self, settings: Settings, embedder: Any) -> None:
        super().__init__(settings)
        self._test_embedder = embedder

    def embedder(self) -> Any:
        return self._test_embedder


def settings_for(data_dir: Path, **update: Any) -> Settings:
    return Settings(
        _env_file=None, **{"data_dir": data_dir, "embed_model": "hashing-test", "chroma_host": None, **update}
    )


def snapshot(store: KnowledgeStore, embedder: Any) -> dict[str, Any]:
    """What a person can observe of a store, without version ids and times; plus integrity facts."""
    from sqlalchemy import func, select

    from kb.db.models import DocumentVersion

    docs = sorted((r.doc_id, r.title, r.partner, r.chunk_count, r.sha256) for r in store.list_documents())
    chunks = sorted((c.doc_id, c.index, c.text, c.section) for c in store.iter_chunks())
    searches = []
    for q in QUERIES:
        hits = store.query(embedder.encode_queries([q])[0], 5)
        searches.append(sorted(((-round(s, 4), c.doc_id, c.index) for c, s in hits)))
    live_ids = set()
    for record in store.list_documents():
        live_ids |= {c.chunk_id for c in store.chunks_of(record.doc_id)}
    all_vectors = sum(col.count() for col in store._model_collections())
    with store._tx() as s:
        not_live = s.scalar(select(func.count()).select_from(DocumentVersion).where(DocumentVersion.state != "live"))
    originals_ok = []
    for record in store.list_documents():
        path = store.original_path(record)
        originals_ok.append(
            (record.doc_id, path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256)
        )
    files = (
        sorted(str(p.relative_to(store.originals_dir)) for p in store.originals_dir.rglob("*") if p.is_file())
        if store.originals_dir.exists()
        else []
    )
    expected_files = sorted(r.original for r in store.list_documents() if r.original)
    return {
        "docs": docs,
        "chunks": chunks,
        "searches": searches,
        "orphans": all_vectors - store.vector_count(),  # vectors outside the active collection
        "unlisted_vectors": store.vector_count() - _live_vector_count(store),
        "unfinished_versions": not_live,
        "originals_ok": sorted(originals_ok),
        "stray_originals": sorted(set(files) - set(expected_files)),
        "chunk_ids_live": len(live_ids),
    }


def _live_vector_count(store: KnowledgeStore) -> int:
    live = store._live()
    got = store.chunks.get(include=["metadatas"])
    return sum(1 for m in got["metadatas"] if live.get(str(m.get("doc_id"))) == m.get("version"))
