"""Crash safety on real processes: ``kb ingest`` / ``kb docs remove`` / ``kb reindex`` are SIGKILLed — at random
moments in a loop, and at each named step of a replace (``KB_TEST_KILL_AT``) — and the store, after its
next start (the sweep) and the next run, must equal a store built cleanly from the same files: the same
documents and chunk counts, the same search results, no duplicate versions, no orphan chunks, no lost or
stray originals.

The killed processes run the real CLI with the hashing test model (``kb_hashing.py``); recovery and the
comparison run in this process on the same folder.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from integrity.support import (
    TestKB,
    env_for,
    kb_command,
    run_kb,
    settings_for,
    snapshot,
    write_corpus,
)
from kb.access import Principal
from kb.db import dispose_engines
from kb.documents import DocumentService
from kb.store import KnowledgeStore

pytestmark = pytest.mark.process  # real kb processes, SIGKILLed

N_DOCS = 6
CHANGED = {1, 4}
REPLACE_STEPS_BEFORE_SWITCH = ("registered", "original_kept", "chunks_partial", "chunks_added")
REPLACE_STEPS_AFTER_SWITCH = ("switched", "old_chunks_deleted", "old_originals_deleted")
STAFF = Principal("test", "staff")


@pytest.fixture(autouse=True)
def _fresh_engines():
    yield
    dispose_engines()


def build(data_dir: Path, corpus: Path, embedder) -> KnowledgeStore:
    kb = TestKB(settings_for(data_dir), embedder)
    report = DocumentService(kb, kb.store.engine).ingest_paths(STAFF, [corpus])
    assert report.ok, [r.error for r in report.failed]
    return kb.store


def reopen(data_dir: Path, embedder) -> TestKB:
    """The next start: a new store object on the folder (runs the sweep)."""
    return TestKB(settings_for(data_dir), embedder)


def assert_clean(got: dict, want: dict) -> None:
    for key in ("docs", "chunks", "searches", "originals_ok"):
        assert got[key] == want[key], key
    assert got["orphans"] == 0 and got["unlisted_vectors"] == 0, "chunks of a non-live version are left"
    assert got["unfinished_versions"] == 0
    assert got["stray_originals"] == []


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpora")
    return write_corpus(base / "v1", N_DOCS), write_corpus(base / "v2", N_DOCS, CHANGED)


@pytest.fixture(scope="module")
def references(corpora, tmp_path_factory):
    """Clean stores of both corpora, and a clean store of v1 to copy as the start of each kill."""
    from integrity.tests_embedder import embedder

    base = tmp_path_factory.mktemp("clean")
    v1, v2 = corpora
    want = {name: snapshot(build(base / name, folder, embedder), embedder) for name, folder in (("v1", v1), ("v2", v2))}
    start = base / "start"
    build(start, v1, embedder)
    dispose_engines()
    return want, start


def killed_at(data_dir: Path, step: str, *args: str) -> subprocess.CompletedProcess:
    result = run_kb(data_dir, *args, KB_TEST_KILL_AT=step)
    assert result.returncode == -signal.SIGKILL, f"{step}: not killed ({result.returncode}): {result.stderr[-500:]}"
    return result


@pytest.mark.parametrize("step", REPLACE_STEPS_BEFORE_SWITCH + REPLACE_STEPS_AFTER_SWITCH)
def test_kill_at_each_step_of_a_replace(step, corpora, references, tmp_path, hashing_embedder):
    want, start = references
    v1, v2 = corpora
    data = tmp_path / "data"
    shutil.copytree(start, data)
    killed_at(data, step, "ingest", str(v2))

    kb = reopen(data, hashing_embedder)  # the sweep: old version intact before the switch, new one after
    expected = want["v1"] if step in REPLACE_STEPS_BEFORE_SWITCH else None
    got = snapshot(kb.store, hashing_embedder)
    if expected is not None:
        assert_clean(got, expected)
    else:  # the first changed document was switched; the rest is still v1
        assert got["orphans"] == got["unlisted_vectors"] == got["unfinished_versions"] == 0
        assert got["stray_originals"] == [] and all(ok for _, ok in got["originals_ok"])
        assert len(got["docs"]) == N_DOCS

    report = DocumentService(kb, kb.store.engine).ingest_paths(STAFF, [v2])  # the next run
    assert report.ok
    assert_clean(snapshot(kb.store, hashing_embedder), want["v2"])


def test_kill_while_removing(corpora, references, tmp_path, hashing_embedder):
    want, start = references
    data = tmp_path / "data"
    shutil.copytree(start, data)
    for step in ("remove_committed", "old_chunks_deleted"):
        killed_at(data, step, "docs", "remove", "partner-a--gids-00-md")
        kb = reopen(data, hashing_embedder)
        got = snapshot(kb.store, hashing_embedder)
        assert [d[0] for d in got["docs"]] == [d[0] for d in want["v1"]["docs"] if d[0] != "partner-a--gids-00-md"]
        assert got["orphans"] == got["unlisted_vectors"] == got["unfinished_versions"] == 0
        assert got["stray_originals"] == []
        kb.pipeline.ingest_paths([next(corpora[0].glob("gids-00.md"))])  # put it back for the next step
        assert_clean(snapshot(kb.store, hashing_embedder), want["v1"])
        dispose_engines()


@pytest.mark.parametrize("step", ("reindex_built", "reindex_switched", "chunks_partial"))
def test_kill_during_reindex(step, references, tmp_path, hashing_embedder, monkeypatch):
    want, start = references
    data = tmp_path / "data"
    shutil.copytree(start, data)
    killed_at(data, step, "reindex")
    # A collection retired by a switch stays for searches in flight for a grace period; here it is over.
    monkeypatch.setattr("kb.store.RETIRED_GRACE_S", 0.0)
    kb = reopen(data, hashing_embedder)
    assert_clean(snapshot(kb.store, hashing_embedder), want["v1"])


def test_random_kills_during_ingest_and_replace(corpora, references, tmp_path, hashing_embedder):
    """Kill real ``kb ingest`` runs at random moments (first ingest, then replacements back and forth);
    after each kill the next run must leave a store equal to a clean one."""
    want, _ = references
    v1, v2 = corpora
    rng = random.Random(12)
    data = tmp_path / "data"
    killed = 0
    deadline = time.monotonic() + 120  # bounded: at most 6 rounds and two minutes
    for round_ in range(6):
        if time.monotonic() > deadline:
            break
        folder, name = (v1, "v1") if round_ % 2 == 0 else (v2, "v2")
        proc = subprocess.Popen(
            kb_command("ingest", str(folder)),
            env=env_for(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # the first file is done: the process is inside its work
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        killed += proc.wait() == -signal.SIGKILL
        kb = reopen(data, hashing_embedder)
        got = snapshot(kb.store, hashing_embedder)
        assert got["orphans"] == got["unlisted_vectors"] == got["unfinished_versions"] == 0, round_
        assert got["stray_originals"] == [] and all(ok for _, ok in got["originals_ok"]), round_
        report = DocumentService(kb, kb.store.engine).ingest_paths(STAFF, [folder])
        assert report.ok
        assert_clean(snapshot(kb.store, hashing_embedder), want[name])
        dispose_engines()
    assert killed >= 3  # most runs were really killed in the middle
