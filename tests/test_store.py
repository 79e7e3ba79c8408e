"""The store: reopened in a new process, and shared through a real Chroma server (`chroma run`)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import IngestPipeline
from kb.retrieval.retriever import Retriever
from kb.store import (
    DocumentRecord,
    KnowledgeStore,
    NewChunk,
    StoreError,
    collection_suffix,
    parent_chunk_id,
)

DOC = """---
title: "Stichting"
topic: rechtsvorm
partner: "Partner A"
---
# Stichting

## Leden

Een stichting heeft geen leden; het bestuur beslist.

## Oprichten

Een stichting wordt opgericht bij notariële akte.
"""


def _ingest(store: KnowledgeStore, settings, embedder, tmp_path: Path) -> None:
    f = tmp_path / "stichting.md"
    f.write_text(DOC, encoding="utf-8")
    assert IngestPipeline(store, lambda: embedder, settings).ingest_paths([f]).ok


@pytest.mark.process
def test_store_reopened_in_a_new_process(settings, hashing_embedder, tmp_path):
    store = KnowledgeStore(settings)
    _ingest(store, settings, hashing_embedder, tmp_path)
    script = (
        "import json; from kb.config import Settings; from kb.store import KnowledgeStore;"
        f"s = Settings(_env_file=None, data_dir={str(settings.data_dir)!r}, embed_model='hashing-test');"
        "st = KnowledgeStore(s);"
        "print(json.dumps({'docs': [d.title for d in st.list_documents()], 'chunks': st.chunk_count(),"
        " 'sections': [list(c.section) for c in st.chunks_of(st.list_documents()[0].doc_id)]}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data == {
        "docs": ["Stichting"],
        "chunks": 2,
        "sections": [["Stichting", "Leden"], ["Stichting", "Oprichten"]],
    }


def test_collection_names_are_chroma_safe():
    assert collection_suffix("embeddinggemma-300m") == "embeddinggemma-300m"
    assert collection_suffix("/models/My Model v2/") == "my-model-v2"
    assert collection_suffix("intfloat/multilingual-e5-small") == "multilingual-e5-small"


def test_unreachable_chroma_server_gives_clear_error(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port})
    with pytest.raises(StoreError) as err:
        KnowledgeStore(bad)
    assert "Chroma-server 127.0.0.1" in str(err.value)


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(exe).exists():
        pytest.skip("het commando 'chroma' ontbreekt (hoort bij chromadb)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run kwam niet op")
    yield port
    proc.terminate()
    proc.wait(timeout=15)


@pytest.mark.server
def test_chroma_server_mode_shared_by_two_clients(settings, hashing_embedder, tmp_path, chroma_server):
    remote = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": chroma_server})
    writer = KnowledgeStore(remote)
    assert "HttpClient" in type(writer.client).__name__ or "Client" in type(writer.client).__name__
    _ingest(writer, remote, hashing_embedder, tmp_path)
    # a second client (as another process or machine would) sees the document and can search it
    reader = KnowledgeStore(remote)
    assert [d.title for d in reader.list_documents()] == ["Stichting"]
    hits = Retriever(reader, lambda: hashing_embedder, remote).search("wie beslist in een stichting zonder leden", 2)
    assert hits and hits[0].chunk.section == ("Stichting", "Leden")
    # nothing was written to the local store folder
    assert not (remote.resolved_store_dir() / "chroma").exists()
    assert reader.remove_document(reader.list_documents()[0].doc_id)
    assert writer.list_documents() == [] and writer.chunk_count() == 0


@pytest.mark.parametrize(
    ("vector_id", "chunk_id"),
    [
        ("buurtpartner--vereniging-md::3f9a1c2b7d::00002::p000", "buurtpartner--vereniging-md::3f9a1c2b7d::00002"),
        ("doc::v1::00000::p017", "doc::v1::00000"),
        ("doc::v1::00000::p1234", "doc::v1::00000"),
        ("doc::v1::00000", "doc::v1::00000"),  # a chunk's own vector
        ("doc::v1::00000::pad", "doc::v1::00000::pad"),  # not a passage suffix
        ("doc::p001::v1::00003", "doc::p001::v1::00003"),  # only a suffix counts
    ],
)
def test_parent_chunk_id(vector_id, chunk_id):
    assert parent_chunk_id(vector_id) == chunk_id


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def _put(
    store: KnowledgeStore,
    doc_id: str,
    chunk_vector: np.ndarray,
    passage_vectors: list[np.ndarray] = (),
    *,
    topic: str = "rechtsvorm",
    partner: str = "Partner A",
) -> str:
    """Store a one-chunk document with hand-made vectors; returns the chunk id."""
    record = DocumentRecord(
        doc_id=doc_id,
        source=f"{doc_id}.md",
        title=doc_id.capitalize(),
        partner=partner,
        topic=topic,
        language="nl",
        ingested_at="2026-01-01T00:00:00+00:00",
        sha256="0" * 64,
        kind="markdown",
    )
    passages = tuple(f"Alinea {i} van {doc_id}." for i in range(len(passage_vectors)))
    chunk = NewChunk(0, f"Tekst van {doc_id}.", doc_id.capitalize(), (doc_id.capitalize(),), None, None, passages)
    store.replace_document(record, [chunk], np.vstack([chunk_vector, *passage_vectors]), chunk.text, None)
    (stored,) = store.chunks_of(doc_id)
    return stored.chunk_id


def test_query_on_an_empty_store(settings):
    assert KnowledgeStore(settings).query(_unit(1, 0, 0, 0), 5) == []


def test_query_scores_a_chunk_by_the_best_of_its_own_and_its_passage_vectors(settings):
    store = KnowledgeStore(settings)
    # the chunk as a whole points elsewhere, but one of its paragraphs matches the question exactly
    passage_hit = _put(store, "vereniging", _unit(0, 0, 1, 0), [_unit(0, 1, 0, 0), _unit(1, 0, 0, 0)])
    own_hit = _put(store, "stichting", _unit(1, 1, 0, 0))
    far = _put(store, "kantine", _unit(0, 0, 0, 1))
    results = store.query(_unit(1, 0, 0, 0), 3)
    assert [c.chunk_id for c, _ in results] == [passage_hit, own_hit, far]
    scores = [s for _, s in results]
    assert scores[0] == pytest.approx(1.0, abs=1e-4)  # its best passage, not its own vector (0.0)
    assert scores[1] == pytest.approx(np.sqrt(0.5), abs=1e-4)
    assert scores[2] == pytest.approx(0.0, abs=1e-4)
    # what comes back is the chunk itself, once, never a passage record
    assert results[0][0].text == "Tekst van vereniging." and "::p" not in results[0][0].chunk_id


def test_passage_vectors_of_chunks_with_and_without_passages(settings):
    store = KnowledgeStore(settings)
    with_passages = _put(store, "vereniging", _unit(0, 0, 1, 0), [_unit(0, 1, 0, 0), _unit(1, 0, 0, 0)])
    without = _put(store, "stichting", _unit(1, 1, 0, 0))
    got = store.passage_vectors([without, with_passages])
    assert [t for t, _ in got[with_passages]] == ["Alinea 0 van vereniging.", "Alinea 1 van vereniging."]
    assert np.allclose(got[with_passages][1][1], _unit(1, 0, 0, 0), atol=1e-6)
    assert [t for t, _ in got[without]] == ["Tekst van stichting."]  # its own text and vector
    assert np.allclose(got[without][0][1], _unit(1, 1, 0, 0), atol=1e-6)
    only_own = store.passage_vectors([without])  # no passage in the store for these: no metadata scan needed
    assert list(only_own) == [without] and len(only_own[without]) == 1


def test_query_returns_best_first_and_at_most_k(settings):
    store = KnowledgeStore(settings)
    ids = [_put(store, f"doc{i}", _unit(1, i, 0, 0)) for i in range(4)]
    results = store.query(_unit(1, 0, 0, 0), 2)
    assert [c.chunk_id for c, _ in results] == ids[:2]
    assert results[0][1] > results[1][1]


def test_query_filters_by_topic_and_partner(settings):
    store = KnowledgeStore(settings)
    # the best-matching passage belongs to a chunk that the filter excludes
    _put(store, "vereniging", _unit(0, 0, 1, 0), [_unit(1, 0, 0, 0), _unit(0, 1, 1, 0)], topic="rechtsvorm")
    kantine = _put(store, "kantine", _unit(1, 1, 0, 0), topic="belasting", partner="Partner B")
    giften = _put(store, "giften", _unit(2, 0, 1, 0), topic="belasting", partner="Partner A")

    everything = store.query(_unit(1, 0, 0, 0), 5)
    assert everything[0][0].topic == "rechtsvorm"  # unfiltered, its passage wins
    belasting = store.query(_unit(1, 0, 0, 0), 5, {"topic": "belasting"})
    assert [c.chunk_id for c, _ in belasting] == [giften, kantine]

    partner_b = store.query(_unit(1, 0, 0, 0), 5, {"partner": "Partner B"})
    assert [c.chunk_id for c, _ in partner_b] == [kantine]

    both = store.query(_unit(1, 0, 0, 0), 5, {"$and": [{"topic": "belasting"}, {"partner": "Partner A"}]})
    assert [c.chunk_id for c, _ in both] == [giften]

    assert store.query(_unit(1, 0, 0, 0), 5, {"topic": "financiering"}) == []


def test_query_returns_k_chunks_when_one_chunk_has_many_passages(settings):
    store = KnowledgeStore(settings)
    crowded = _put(store, "vereniging", _unit(0, 1, 0, 0), [_unit(1, 0.01 * i, 0, 0) for i in range(6)])
    other = _put(store, "stichting", _unit(1, 0, 0.5, 0))
    results = store.query(_unit(1, 0, 0, 0), 2)
    assert [c.chunk_id for c, _ in results] == [crowded, other]
