"""The store: reopened in a new process, and shared through a real Chroma server (`chroma run`)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from kb.retrieval.retriever import Retriever
from kb.store import KnowledgeStore, StoreError, collection_suffix

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
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data == {"docs": ["Stichting"], "chunks": 2,
                    "sections": [["Stichting", "Leden"], ["Stichting", "Oprichten"]]}


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
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
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
