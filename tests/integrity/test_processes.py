"""Real processes at the same time: a reindex while another process searches (no downtime), and the app's
document service and the CLI writing at once (embedded Chroma and a real ``chroma run``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_store import chroma_server  # noqa: F401  (the real `chroma run` fixture)

from kb.access import Principal
from kb.db import dispose_engines
from kb.db.models import AuditEvent
from kb.documents import DocumentService

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "db"))
from test_migrations import postgres_url  # noqa: F401  (the throwaway PostgreSQL cluster fixture)

from integrity.support import (
    QUERIES,
    ROOT,
    TestKB,
    env_for,
    kb_command,
    settings_for,
    snapshot,
    write_corpus,
)

pytestmark = pytest.mark.process  # real kb processes reindexing, searching and writing at once

APP_WRITER = Path(__file__).resolve().parent / "app_writer.py"
STAFF = Principal("test", "staff")


@pytest.fixture(autouse=True)
def _fresh_engines():
    yield
    dispose_engines()


def _build(data: Path, folder: Path, embedder, **update) -> TestKB:
    kb = TestKB(settings_for(data, **update), embedder)
    assert DocumentService(kb, kb.store.engine).ingest_paths(STAFF, [folder]).ok
    return kb


def test_reindex_while_another_process_searches(tmp_path, hashing_embedder):
    corpus = write_corpus(tmp_path / "docs", 6)
    data = tmp_path / "data"
    kb = _build(data, corpus, hashing_embedder)
    old_collection = kb.store.active_collection_name()
    dispose_engines()

    searcher = subprocess.Popen(
        kb_command("search", "--batch", "-", "-k", "3"),
        env=env_for(data),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert searcher.stdin is not None and searcher.stdout is not None

    def ask(question: str) -> list[str]:
        searcher.stdin.write(question + "\n")
        searcher.stdin.flush()
        line = searcher.stdout.readline()
        assert line, searcher.stderr.read() if searcher.poll() is not None else "no answer"
        return [h["chunk_id"] for h in json.loads(line)["hits"]]

    before = {q: ask(q) for q in QUERIES}
    assert all(before.values())
    # the reindex waits a moment before and after its switch, so searches run on both sides of it
    reindex = subprocess.Popen(
        kb_command("reindex"),
        env=env_for(data, KB_TEST_PAUSE_AT="reindex_built:2.5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    answers = 0
    while reindex.poll() is None:
        for q in QUERIES:
            assert ask(q) == before[q], "a search during the reindex saw an empty or partial knowledge base"
            answers += 1
    out, err = reindex.communicate()
    assert reindex.returncode == 0, err
    for q in QUERIES:  # after the switch, the searching process follows the new collection
        assert ask(q) == before[q]
    searcher.stdin.close()
    assert searcher.wait(timeout=60) == 0
    assert answers >= 6  # it really searched throughout

    kb = TestKB(settings_for(data), hashing_embedder)
    assert kb.store.active_collection_name() != old_collection
    clean = snapshot(_build(tmp_path / "clean", corpus, hashing_embedder).store, hashing_embedder)
    got = snapshot(kb.store, hashing_embedder)
    assert (got["docs"], got["chunks"], got["searches"]) == (clean["docs"], clean["chunks"], clean["searches"])


def _concurrent_writers(tmp_path: Path, embedder, database_url: str | None = None, **chroma: str) -> None:
    """The CLI ingests one organisation's files while the app's service adds another's, at the same time.
    Nothing may be lost: every document, every audit entry, the revision counter moved once per change,
    and every chunk is found by vector search."""
    update: dict = (
        {"chroma_host": chroma["KB_CHROMA_HOST"], "chroma_port": int(chroma["KB_CHROMA_PORT"])} if chroma else {}
    )
    if database_url:
        update["database_url"] = database_url
        chroma = {**chroma, "KB_DATABASE_URL": database_url}
    data = tmp_path / "data"
    cli_docs = write_corpus(tmp_path / "cli", 8)
    app_docs = tmp_path / "app"
    app_docs.mkdir()
    for i, path in enumerate(sorted(write_corpus(tmp_path / "app_src", 16).glob("*.md"))[8:]):
        (app_docs / f"app-{i}.md").write_text(path.read_text().replace("Partner A", "Dorpshuis West"))
    start = TestKB(settings_for(data, **update), embedder).store
    revision_before = start.revision()
    dispose_engines()

    env = env_for(data, **chroma)
    cli = subprocess.Popen(
        kb_command("ingest", str(cli_docs), "--json"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    app = subprocess.Popen(
        [sys.executable, str(APP_WRITER), "Dorpshuis West", *map(str, sorted(app_docs.glob("*.md")))],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cli_out, cli_err = cli.communicate(timeout=300)
    app_out, app_err = app.communicate(timeout=300)
    assert cli.returncode == 0, cli_err[-2000:]
    assert app.returncode == 0, app_err[-2000:]

    kb = TestKB(settings_for(data, **update), embedder)
    store = kb.store
    docs = store.list_documents()
    assert len(docs) == 16
    assert {d.partner for d in docs} == {"Partner A", "Dorpshuis West"}
    assert store.revision() == revision_before + 16  # no lost update of the counter
    with store._tx() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 16
        assert {u for (u,) in s.execute(select(AuditEvent.username).distinct())} >= {"app-partner"}
    got = snapshot(store, embedder)
    assert got["orphans"] == got["unlisted_vectors"] == got["unfinished_versions"] == 0
    assert got["chunk_ids_live"] == sum(d.chunk_count for d in docs) == len(got["chunks"])
    for d in docs:  # every document findable by vector search in a fresh process view
        chunk = store.chunks_of(d.doc_id)[0]
        hits = store.query(embedder.encode_documents([chunk.text], titles=[chunk.header])[0], 3)
        assert chunk.chunk_id in [c.chunk_id for c, _ in hits], d.doc_id


def test_app_and_cli_write_at_once_embedded(tmp_path, hashing_embedder):
    _concurrent_writers(tmp_path, hashing_embedder)


@pytest.mark.server
def test_app_and_cli_write_at_once_against_chroma_server(tmp_path, hashing_embedder, chroma_server):  # noqa: F811
    _concurrent_writers(tmp_path, hashing_embedder, KB_CHROMA_HOST="127.0.0.1", KB_CHROMA_PORT=str(chroma_server))


@pytest.mark.server  # a throwaway PostgreSQL cluster
def test_app_and_cli_write_at_once_with_postgresql(tmp_path, hashing_embedder, postgres_url):  # noqa: F811
    _concurrent_writers(tmp_path, hashing_embedder, database_url=postgres_url)
