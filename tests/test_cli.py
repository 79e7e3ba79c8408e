"""The `kb` command line end to end with the real default embedding model (marker `model`).

Runs the real console entry point in a subprocess on a temporary store: ingest (with a bad file among good
ones), docs list, search --json (the hit contract), --batch, ask --json, remove, and the exit codes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.config import Settings
from kb.models import is_installed

ROOT = Path(__file__).resolve().parents[1]
MODEL = Settings(_env_file=None).embed_model
pytestmark = pytest.mark.model

GUIDE = """---
title: "Een stichting oprichten"
topic: rechtsvorm
partner: "Partner A"
---
# Een stichting oprichten

## Naar de notaris

Een stichting richt je op bij de notaris. De notaris legt de statuten vast in een akte.

## Geen leden

Een stichting heeft geen leden. Het bestuur neemt de besluiten.
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not is_installed(MODEL, Settings(_env_file=None).resolved_models_dir()):
        pytest.skip(f"standaardmodel {MODEL} is niet geïnstalleerd: draai `kb models install`")
    data = tmp_path_factory.mktemp("clidata")
    e = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    e.update({"KB_DATA_DIR": str(data), "KB_MODELS_DIR": str(Settings(_env_file=None).resolved_models_dir())})
    return e


def kb(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=900)


def test_cli_contract(env, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stichting.md").write_text(GUIDE, encoding="utf-8")
    (docs / "kapot.pdf").write_bytes(b"%PDF-1.4 dit is geen echte pdf")

    ingest = kb(env, "ingest", str(docs), "--json")
    assert ingest.returncode == 1, ingest.stderr  # one file failed
    report = json.loads(ingest.stdout)
    status = {Path(r["path"]).name: r for r in report["results"]}
    assert status["stichting.md"]["status"] == "added" and status["stichting.md"]["chunks"] == 2
    assert status["kapot.pdf"]["status"] == "failed" and "kapot.pdf" in status["kapot.pdf"]["error"]

    again = kb(env, "ingest", str(docs / "stichting.md"), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["results"][0]["status"] == "unchanged"

    listed = json.loads(kb(env, "docs", "list", "--json").stdout)
    assert [d["title"] for d in listed] == ["Een stichting oprichten"]
    doc_id = listed[0]["doc_id"]
    assert listed[0]["partner"] == "Partner A" and listed[0]["chunks"] == 2

    search = kb(env, "search", "Heeft een stichting leden?", "-k", "2", "--json")
    assert search.returncode == 0, search.stderr
    hits = json.loads(search.stdout)  # stdout is only JSON
    assert [h["rank"] for h in hits] == [1, 2]
    assert set(hits[0]) >= {"rank", "score", "doc_id", "source", "title", "section", "page", "text"}
    assert hits[0]["section"] == ["Een stichting oprichten", "Geen leden"]
    assert hits[0]["source"] == "stichting.md" and hits[0]["page"] is None
    assert hits[0]["score"] >= hits[1]["score"]

    batch = kb(env, "search", "--batch", "-", "-k", "1", stdin="Wie richt een stichting op?\nHeeft een stichting leden?\n")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["Wie richt een stichting op?", "Heeft een stichting leden?"]
    assert lines[0]["hits"][0]["section"][-1] == "Naar de notaris"

    asked = json.loads(kb(env, "ask", "Heeft een stichting leden?", "--json").stdout)
    assert set(asked) >= {"question", "answer", "refused", "citations", "sources"}
    assert not asked["refused"] and asked["citations"]
    assert set(asked["citations"][0]) >= {"n", "doc_id", "source", "title", "section", "page", "quote"}
    assert f"[{asked['citations'][0]['n']}]" in asked["answer"]

    removed = kb(env, "docs", "remove", doc_id)
    assert removed.returncode == 0
    assert json.loads(kb(env, "docs", "list", "--json").stdout) == []
    assert kb(env, "docs", "remove", doc_id).returncode == 1
