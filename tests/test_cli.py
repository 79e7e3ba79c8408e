"""The `kb` command line.

``test_cli_contract`` (marker `model`) runs the real console entry point in a subprocess with the real default
embedding model on a temporary store: ingest (with a bad file among good ones), docs list, search --json (the
hit contract), --batch, ask --json, remove, and the exit codes.

The other tests call :func:`kb.cli.main` in-process with the hashing model in place of the real one (fast, no
model needed): the JSON contracts, --batch, human output, and Dutch errors with a non-zero exit for bad input.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sample_guides import VERENIGING_GUIDE, stichting_guide

import kb.service as service
from kb.cli import main
from kb.config import Settings
from kb.models.installed import is_installed

ROOT = Path(__file__).resolve().parents[1]
MODEL = Settings(_env_file=None).embed_model

GUIDE = stichting_guide("Partner A")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not is_installed(MODEL, Settings(_env_file=None).resolved_models_dir()):
        pytest.skip(f"standaardmodel {MODEL} is niet geïnstalleerd: draai `kb models install`")
    data = tmp_path_factory.mktemp("clidata")
    e = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    e.update({"KB_DATA_DIR": str(data), "KB_MODELS_DIR": str(Settings(_env_file=None).resolved_models_dir())})
    return e


def kb(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kb.cli", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.model
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

    batch = kb(
        env, "search", "--batch", "-", "-k", "1", stdin="Wie richt een stichting op?\nHeeft een stichting leden?\n"
    )
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


# ------------------------------------------------------------------------------------------ in-process, hashing model
VERENIGING = VERENIGING_GUIDE


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys, hashing_embedder):
    """Run `kb ARGS` in-process on a fresh store; returns (exit code, stdout, stderr)."""
    for key in [k for k in os.environ if k.upper().startswith("KB_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KB_EMBED_MODEL", "hashing-test")
    monkeypatch.setenv("KB_STARTER_KB_DIR", str(tmp_path / "starter"))
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setattr(service, "get_embedder", lambda settings: hashing_embedder)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            rc = main(list(args))
        except SystemExit as exc:  # argparse rejects the command line
            rc = exc.code
        out, err = capsys.readouterr()
        return rc, out, err

    return run


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "stichting.md").write_text(GUIDE, encoding="utf-8")
    (folder / "vereniging.md").write_text(VERENIGING, encoding="utf-8")
    return folder


@pytest.fixture
def filled(cli, docs):
    rc, out, err = cli("ingest", str(docs), "--json")
    assert rc == 0, err
    return cli


@pytest.fixture
def type_evidence_model(monkeypatch):
    """A refusal model that refuses exactly when a question asks for an amount or date the sources lack
    (the shipped model is fitted on EmbeddingGemma scores, which the hashing test model does not produce)."""
    from kb.answering import assistant as module
    from kb.answering.answerability import RefusalModel

    model = RefusalModel({"type_missing": -8.0}, 4.0, {"type_missing": 0.0}, {"type_missing": 1.0}, 0.5, 0.5)
    monkeypatch.setattr(module, "load_model", lambda name: model)


def markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def test_ingest_json_reports_every_file_and_exit_code_1_for_a_bad_one(cli, docs):
    (docs / "kapot.pdf").write_bytes(b"%PDF-1.4 dit is geen echte pdf")
    rc, out, err = cli("ingest", str(docs), "--json")
    assert rc == 1
    report = json.loads(out)  # stdout is only JSON, even with a failure
    status = {Path(r["path"]).name: r for r in report["results"]}
    assert status["stichting.md"]["status"] == "added" and status["stichting.md"]["chunks"] == 2
    assert status["vereniging.md"]["status"] == "added"
    assert status["kapot.pdf"]["status"] == "failed" and status["kapot.pdf"]["error"].startswith("kapot.pdf: ")
    assert report["summary"] == {"added": 2, "replaced": 0, "unchanged": 0, "failed": 1}
    rc, out, _ = cli("ingest", str(docs / "stichting.md"), "--json")
    assert rc == 0 and json.loads(out)["results"][0]["status"] == "unchanged"


def test_docs_list(filled):
    rc, out, _ = filled("docs", "list", "--json")
    assert rc == 0
    listed = json.loads(out)
    assert [(d["partner"], d["title"]) for d in listed] == [
        ("Buurtvereniging Oost", "De vereniging"),
        ("Partner A", "Een stichting oprichten"),
    ]
    assert set(listed[0]) >= {"doc_id", "title", "source", "partner", "topic", "chunks", "ingested_at"}
    assert listed[1]["source"] == "stichting.md" and listed[1]["chunks"] == 2
    rc, out, _ = filled("docs", "list", "--partner", "Partner A", "--json")
    assert [d["title"] for d in json.loads(out)] == ["Een stichting oprichten"]
    rc, out, _ = filled("docs", "list")
    assert rc == 0 and "Een stichting oprichten | Partner A | rechtsvorm | 2 stukken" in out
    assert out.rstrip().endswith("2 documenten.")


def test_docs_list_of_an_empty_store(cli):
    rc, out, _ = cli("docs", "list")
    assert rc == 0 and "De kennisbank is leeg" in out
    assert cli("docs", "list", "--json")[1].strip() == "[]"


def test_store_option_selects_another_store(filled, tmp_path):
    rc, out, _ = filled("docs", "list", "--json", "--store", str(tmp_path / "andere"))
    assert rc == 0 and json.loads(out) == []
    assert len(json.loads(filled("docs", "list", "--json")[1])) == 2


def test_search_json_contract(filled):
    rc, out, err = filled("search", "Heeft een stichting leden?", "-k", "3", "--json")
    assert rc == 0, err
    hits = json.loads(out)  # stdout is exactly one JSON document
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert set(hits[0]) == {
        "rank",
        "score",
        "doc_id",
        "chunk_id",
        "source",
        "title",
        "partner",
        "topic",
        "section",
        "page",
        "page_end",
        "text",
        "signals",
    }
    assert hits[0]["section"] == ["Een stichting oprichten", "Geen leden"]
    assert hits[0]["source"] == "stichting.md" and hits[0]["page"] is None
    assert hits[0]["text"] == "Een stichting heeft geen leden. Het bestuur neemt de besluiten."
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_filters(filled):
    rc, out, _ = filled("search", "Wie kiest het bestuur?", "--partner", "Partner A", "--json")
    hits = json.loads(out)
    assert rc == 0 and hits and {h["partner"] for h in hits} == {"Partner A"}
    rc, out, _ = filled("search", "Wie kiest het bestuur?", "--topic", "belasting", "--json")
    assert rc == 0 and json.loads(out) == []
    rc, out, _ = filled("search", "Wie kiest het bestuur?", "--topic", "belasting")
    assert "Niets gevonden." in out


def test_search_human_output(filled):
    rc, out, _ = filled("search", "Heeft een stichting leden?", "-k", "1")
    assert rc == 0
    assert out.startswith("[1] ") and "Een stichting oprichten — Een stichting oprichten > Geen leden" in out


def test_search_batch_from_stdin_and_from_a_file(filled, tmp_path):
    asked = ["Gaat een stichting naar de notaris?", "Mag een vereniging winst verdelen?"]
    questions = f"{asked[0]}\n\n   \n{asked[1]}\n"
    rc, out, _ = filled("search", "--batch", "-", "-k", "1", stdin=questions)
    lines = [json.loads(line) for line in out.splitlines()]  # one JSON object per line, blank lines skipped
    assert rc == 0
    assert [line["question"] for line in lines] == asked
    assert lines[0]["hits"][0]["section"][-1] == "Naar de notaris"
    assert lines[1]["hits"][0]["section"][-1] == "Winst verdelen" and len(lines[1]["hits"]) == 1
    batch = tmp_path / "vragen.txt"
    batch.write_text(questions, encoding="utf-8")
    assert filled("search", "--batch", str(batch), "-k", "1")[1] == out


def test_ask_json_contract(filled):
    rc, out, err = filled("ask", "Heeft een stichting leden?", "--json")
    assert rc == 0, err
    asked = json.loads(out)
    assert asked["question"] == "Heeft een stichting leden?" and asked["refused"] is False
    assert asked["uncertain"] is False and asked["suggestions"] == []
    assert asked["citations"] and markers(asked["answer"]) == {c["n"] for c in asked["citations"]}
    for c in asked["citations"]:
        source = asked["sources"][c["n"] - 1]  # [n] is the n-th source
        assert (c["doc_id"], c["chunk_id"], c["section"]) == (source["doc_id"], source["chunk_id"], source["section"])
        # the card's passage: its lead sentence is in the answer, the rest in the supporting quote
        assert c["quote"].split(". ")[0] in asked["answer"]
        for piece in c["quote"].split(" … "):
            assert piece in " ".join(source["text"].split())
    assert asked["citations"][0]["n"] == 1 and asked["citations"][0]["section"][-1] == "Geen leden"


def test_ask_refuses_what_the_sources_do_not_say(filled, type_evidence_model):
    rc, out, _ = filled("ask", "Wat kost het oprichten van een stichting?", "--json")
    asked = json.loads(out)
    assert rc == 0 and asked["refused"] is True and asked["citations"] == []
    assert asked["answer"].startswith("Dat staat niet in de bronnen.")


def test_ask_batch_answers_every_question(filled, type_evidence_model):
    questions = "Heeft een stichting leden?\nWat kost het oprichten van een stichting?\n"
    rc, out, _ = filled("ask", "--batch", "-", stdin=questions)
    answers = [json.loads(line) for line in out.splitlines()]
    assert rc == 0
    assert [(a["question"], a["refused"]) for a in answers] == [
        ("Heeft een stichting leden?", False),
        ("Wat kost het oprichten van een stichting?", True),
    ]
    assert all(markers(a["answer"]) == {c["n"] for c in a["citations"]} for a in answers)


def test_ask_human_output_lists_the_cited_sources(filled):
    rc, out, _ = filled("ask", "Heeft een stichting leden?")
    assert rc == 0
    answer, sources = out.split("\nBronnen:\n")
    assert answer.startswith("“Een stichting heeft geen leden.")  # the answering sentence first, quoted
    assert "  [1] Een stichting oprichten — Geen leden (stichting.md)" in sources
    for n in markers(answer):
        assert f"  [{n}] " in sources


def test_docs_show_and_remove(filled):
    doc_id = next(d["doc_id"] for d in json.loads(filled("docs", "list", "--json")[1]) if d["source"] == "stichting.md")
    rc, out, _ = filled("docs", "show", doc_id, "--json")
    shown = json.loads(out)
    assert rc == 0 and shown["title"] == "Een stichting oprichten"
    assert "Een stichting heeft geen leden." in shown["text"]
    rc, out, _ = filled("docs", "remove", doc_id)
    assert rc == 0 and out.strip() == f"Verwijderd: {doc_id}"
    assert [d["source"] for d in json.loads(filled("docs", "list", "--json")[1])] == ["vereniging.md"]
    hits = json.loads(filled("search", "Heeft een stichting leden?", "--json")[1])
    assert all(h["doc_id"] != doc_id for h in hits)
    rc, out, _ = filled("docs", "remove", doc_id)
    assert rc == 1 and f"Geen document met id {doc_id}" in out
    rc, out, err = filled("docs", "show", doc_id)
    assert rc == 1 and out == "" and f"kb: geen document met id {doc_id}" in err


@pytest.mark.parametrize("command", ["search", "ask"])
def test_missing_question_is_a_dutch_usage_error(cli, command):
    rc, out, err = cli(command, "--json")
    assert rc == 2 and out == ""
    assert f"kb {command}: geef een vraag of --batch BESTAND" in err


def test_bad_ingest_input_gives_dutch_errors_and_exit_code_1(cli, docs, tmp_path):
    rc, out, err = cli("ingest", str(tmp_path / "bestaat-niet.md"))
    assert rc == 1 and "bestaat-niet.md: bestand niet gevonden" in err and "1 mislukt" in out
    rc, _, err = cli("ingest", str(docs / "stichting.md"), "--valid-from", "2026-13-01")
    assert rc == 1 and "ongeldige datum '2026-13-01': gebruik de vorm JJJJ-MM-DD" in err
    sport = docs / "sport.md"
    sport.write_text(GUIDE.replace("topic: rechtsvorm", "topic: sport"), encoding="utf-8")
    rc, _, err = cli("ingest", str(sport))
    assert rc == 1 and "onbekend onderwerp 'sport'" in err
    rc, _, err = cli("ingest", str(docs), "--doc-id", "een-id")
    assert rc == 2 and "--doc-id werkt alleen met precies één bestand" in err
    assert json.loads(cli("docs", "list", "--json")[1]) == []  # nothing half-ingested


def test_unknown_topic_flag_is_rejected(cli):
    rc, out, err = cli("search", "Wie kiest het bestuur?", "--topic", "sport")
    assert rc == 2 and out == ""
    assert "sport" in err and "rechtsvorm" in err  # names the bad value and the valid ones


@pytest.mark.parametrize("command", ["search", "ask"])
def test_missing_batch_file_is_a_dutch_error(filled, tmp_path, command):
    rc, out, err = filled(command, "--batch", str(tmp_path / "vragen.txt"))
    assert rc != 0 and out == ""
    assert "vragen.txt" in err and err.startswith("kb")


@pytest.mark.parametrize("k", ["0", "-1"])
def test_non_positive_k_is_rejected(filled, k):
    rc, out, err = filled("search", "Heeft een stichting leden?", "-k", k, "--json")
    assert rc != 0 and out == ""
