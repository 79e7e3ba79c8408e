"""Upgrading a store whose document register still lives in Chroma (``<prefix>_documents``, before migration
0002): on its first start the store takes the register over into SQL, keeps the right version of each
document and deletes the chunks of a version a crash left behind."""

from __future__ import annotations

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from integrity.support import TestKB, settings_for, snapshot, write_corpus
from kb.db import dispose_engines
from kb.store import DocumentRecord


def test_a_chroma_register_is_taken_over_on_first_start(tmp_path, hashing_embedder):
    data = tmp_path / "data"
    corpus = write_corpus(tmp_path / "docs", 4)
    kb = TestKB(settings_for(data), hashing_embedder)
    assert kb.pipeline.ingest_paths([corpus]).ok
    want = snapshot(kb.store, hashing_embedder)
    records = [(r, kb.store.document_text(r.doc_id)) for r in kb.store.list_documents()]
    revision = kb.store.revision()
    dispose_engines()

    # Turn it into an old store: the register as a Chroma collection, no SQL database, and a leftover
    # version (chunks of an interrupted replace) next to the registered one.
    (data / "samenweten.db").unlink()
    for extra in data.glob("samenweten.db-*"):
        extra.unlink()
    client = chromadb.PersistentClient(
        path=str(data / "store" / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    register = client.get_or_create_collection("samenweten_documents", embedding_function=None)
    register.add(
        ids=[r.doc_id for r, _ in records],
        documents=[t for _, t in records],
        embeddings=[[1.0, 0.0]] * len(records),
        metadatas=[r.to_metadata() for r, _ in records],
    )
    register.add(ids=["__revision__"], documents=[""], embeddings=[[1.0, 0.0]], metadatas=[{"revision": revision}])
    chunks = client.get_collection("samenweten_chunks_hashing-test", embedding_function=None)
    victim: DocumentRecord = records[0][0]
    got = chunks.get(where={"doc_id": victim.doc_id}, include=["metadatas", "documents", "embeddings"])
    chunks.add(
        ids=[i.replace("::", "::0ld", 1) for i in got["ids"]],
        documents=got["documents"],
        embeddings=[np.asarray(e).tolist() for e in got["embeddings"]],
        metadatas=[{**m, "version": "0ld" + m["version"]} for m in got["metadatas"]],
    )
    client.clear_system_cache()

    upgraded = TestKB(settings_for(data), hashing_embedder)
    names = [c.name for c in upgraded.store.client.list_collections()]
    assert "samenweten_documents" not in names  # the old register is gone: one source of truth
    got_snapshot = snapshot(upgraded.store, hashing_embedder)
    for key in ("docs", "chunks", "searches", "originals_ok", "orphans", "unlisted_vectors", "stray_originals"):
        assert got_snapshot[key] == want[key], key
    assert upgraded.store.revision() > revision  # every process notices the change
    assert [o.name for o in upgraded.store.organisations()] == ["Partner A"]
