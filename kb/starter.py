"""Loading the starter knowledge base on first run, and finishing a load that was interrupted.

``kb setup`` writes ``starter-state.json`` in the store folder: ``loading`` before the first document,
``complete`` when every starter document is in. The next run

* after ``complete``: does nothing (a starter guide that staff removed stays removed);
* after ``loading`` (interrupted: Ctrl-C, SIGTERM, a crash), or with no state but only starter documents in
  the store (a first run by an older version): loads what is missing; ingest is idempotent, so documents
  already stored are skipped, and vectors computed before the interruption come from the vector cache;
* with no state and other documents in the store: leaves the knowledge base alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.pipeline import DocumentOverrides, FileResult, IngestPipeline, collect_files
from kb.store import KnowledgeStore

STATE_NAME = "starter-state.json"
# Seconds per text when no probe measured this machine: float32 EmbeddingGemma on a 2-core AVX2 CPU.
FALLBACK_SECONDS_PER_TEXT = 1.0


@dataclass
class StarterPlan:
    files: int
    missing_docs: int  # starter documents not (or not completely) in the store
    texts: int  # texts those need embedded
    cached: int  # of which the vector cache (or the shipped starter vectors) already has a vector
    stored_docs: int  # documents in the store now
    foreign_docs: int  # stored documents that are not starter documents
    state: str | None

    @property
    def to_embed(self) -> int:
        return self.texts - self.cached

    def should_load(self) -> bool:
        if self.state == "complete" or not self.missing_docs:
            return False
        return self.state == "loading" or self.foreign_docs == 0


def state_path(store: KnowledgeStore) -> Path:
    return store.settings.resolved_store_dir() / STATE_NAME


def read_state(store: KnowledgeStore) -> str | None:
    try:
        return str(json.loads(state_path(store).read_text(encoding="utf-8")).get("status"))
    except (OSError, ValueError, AttributeError):
        return None


def write_state(store: KnowledgeStore, status: str, **extra: Any) -> None:
    path = state_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"status": status, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **extra}
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def plan(pipeline: IngestPipeline, starter_dir: Path) -> StarterPlan:
    """What loading the starter set would do: read and chunk every file, and ask the vector cache."""
    files = collect_files([starter_dir])
    stored = {d.doc_id for d in pipeline.store.list_documents()}
    starter_ids: set[str] = set()
    texts: list[str] = []
    titles: list[str] = []
    missing = 0
    for path in files:
        prep = pipeline._guard(path, functools.partial(pipeline._prepare, path, DocumentOverrides()))
        if isinstance(prep, FileResult):
            if prep.doc_id:
                starter_ids.add(prep.doc_id)
            if prep.status == "failed":
                missing += 1
            continue
        starter_ids.add(prep.record.doc_id)
        missing += 1
        texts.extend(prep.texts)
        titles.extend(prep.titles)
    cached = pipeline._embedder().cached_count(texts, titles) if texts else 0
    return StarterPlan(
        files=len(files),
        missing_docs=missing,
        texts=len(texts),
        cached=cached,
        stored_docs=len(stored),
        foreign_docs=len(stored - starter_ids),
        state=read_state(pipeline.store),
    )


def seconds_per_text(pipeline: IngestPipeline) -> tuple[float, str]:
    """This machine's rate from the precision probe, else the slow-machine figure (said so)."""
    decision = getattr(pipeline._embedder(), "precision", None)
    probe = (getattr(decision, "probe", None) or {}).get("document_s_per_text") or {}
    if decision is not None and decision.dtype in probe:
        # the probe's texts are a little shorter than a chunk, and titles and padding add to a real batch
        return 1.5 * float(probe[decision.dtype]), "gemeten op deze CPU"
    return FALLBACK_SECONDS_PER_TEXT, "ruwe schatting"
