"""``kb partners list|add|show|remove``, the starter directory in ``kb setup``, and the ``help`` of
``kb ask --json`` (in-process, hashing model)."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest
from sample_guides import stichting_guide

import kb.service as service
from kb.cli import main
from kb.config import Settings
from kb.db import dispose_engines, init_db, list_events, session_scope
from kb.db.directory import list_entries

CARE = "Steunpunt Zorginitiatieven"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys, hashing_embedder):
    for key in [k for k in os.environ if k.upper().startswith("KB_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KB_EMBED_MODEL", "hashing-test")
    monkeypatch.setenv("KB_STARTER_KB_DIR", str(tmp_path / "starter"))
    monkeypatch.setenv("KB_PARTNER_MATCH_FLOOR", "0.05")  # the hashing model's similarities are low
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(service, "get_embedder", lambda settings: hashing_embedder)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            rc = main(list(args))
        except SystemExit as exc:
            rc = exc.code
        out, err = capsys.readouterr()
        return rc, out, err

    yield run
    dispose_engines()


@pytest.fixture
def type_evidence_model(monkeypatch):
    """A refusal model that refuses when a question asks for an amount the sources lack (as in test_cli.py:
    the shipped model is fitted on EmbeddingGemma scores, which the hashing test model does not produce)."""
    from kb.answering import assistant as module
    from kb.answering.answerability import RefusalModel

    model = RefusalModel({"type_missing": -8.0}, 4.0, {"type_missing": 0.0}, {"type_missing": 1.0}, 0.5, 0.5)
    monkeypatch.setattr(module, "load_model", lambda name: model)


def add_care(cli) -> tuple[int, str, str]:
    return cli(
        "partners",
        "add",
        CARE,
        "--description",
        "Helpt burgerinitiatieven in zorg, zoals zorgcoöperaties.",
        "--topic",
        "zorg",
        "--kind",
        "zorgcoöperatie",
        "--email",
        "hulp@zorg.example.org",
        "--phone",
        "0800-1234",
        "--hours",
        "werkdagen 09.00–17.00",
        "--json",
    )


def test_add_list_show_remove(cli):
    rc, out, err = add_care(cli)
    assert rc == 0, err
    added = json.loads(out)
    assert added["name"] == CARE and added["contact"] == {
        "email": "hulp@zorg.example.org",
        "phone": "0800-1234",
        "opening_hours": "werkdagen 09.00–17.00",
    }
    assert added["is_knowledge_partner"] is False

    rc, out, _ = cli("partners", "list", "--json")
    assert rc == 0 and [e["name"] for e in json.loads(out)] == [CARE]
    rc, out, _ = cli("partners", "list")
    assert f"{CARE}  (netwerk; zorg, zorgcoöperatie)" in out and "telefoon: 0800-1234" in out
    assert out.rstrip().endswith("1 organisaties.")

    rc, out, _ = cli("partners", "show", "steunpunt  ZORGINITIATIEVEN", "--json")
    shown = json.loads(out)
    assert rc == 0 and shown["org_key"] == "steunpunt-zorginitiatieven" and shown["document_list"] == []
    rc, out, _ = cli("partners", "show", CARE)
    assert "e-mail: hulp@zorg.example.org" in out and "nog geen documenten in de kennisbank" in out

    with session_scope(init_db(Settings().resolved_database_url())) as session:
        (event,) = list_events(session)
        assert event.action == "add" and event.username.startswith("cli:")

    rc, out, _ = cli("partners", "remove", CARE, "--json")
    assert rc == 0 and json.loads(out) == {"name": CARE, "removed": True}
    assert json.loads(cli("partners", "list", "--json")[1]) == []


def test_show_counts_the_partners_documents(cli, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stichting.md").write_text(stichting_guide(CARE), encoding="utf-8")
    assert cli("ingest", str(docs), "--json")[0] == 0
    add_care(cli)
    rc, out, _ = cli("partners", "show", CARE, "--json")
    shown = json.loads(out)
    assert shown["is_knowledge_partner"] is True and shown["documents"] == 1
    assert [d["title"] for d in shown["document_list"]] == ["Een stichting oprichten"]
    assert "kennispartner, 1 documenten:" in cli("partners", "show", CARE)[1]


def test_bad_input_is_a_dutch_error_with_exit_code_1(cli):
    rc, out, err = cli("partners", "add", CARE, "--website", "javascript:alert(1)")
    assert rc == 1 and out == "" and "geen geldig webadres" in err
    add_care(cli)
    rc, _, err = add_care(cli)
    assert rc == 1 and "staat al in de partnergids" in err
    rc, _, err = cli("partners", "show", "Onbekend")
    assert rc == 1 and "staat niet in de partnergids" in err
    rc, _, err = cli("partners", "remove", "Onbekend")
    assert rc == 1 and "staat niet in de partnergids" in err


def test_setup_loads_the_starter_directory_once(cli, tmp_path):
    starter = tmp_path / "starter"
    starter.mkdir()
    (starter / "stichting.md").write_text(stichting_guide("SamenWeten redactie"), encoding="utf-8")
    rc, _, err = cli("setup", "--skip-model")
    assert rc == 0, err
    assert "Startpartnergids geladen: 7 organisaties." in err
    names = [e["name"] for e in json.loads(cli("partners", "list", "--json")[1])]
    assert "Nederland Zorgt Voor Elkaar" in names and "SamenWeten redactie" in names
    listed = json.loads(cli("docs", "list", "--json")[1])
    assert [d["source"] for d in listed] == ["stichting.md"]  # partners.yaml is not a document
    redactie = json.loads(cli("partners", "show", "SamenWeten redactie", "--json")[1])
    assert redactie["is_knowledge_partner"] is True and redactie["contact"] == {}
    assert "Neem contact op met de helpdesk" in cli("partners", "show", "SamenWeten redactie")[1]

    cli("partners", "remove", "Energie Samen")
    rc, _, err = cli("setup", "--skip-model")
    assert rc == 0 and "al gevuld" in err
    with session_scope(init_db(Settings().resolved_database_url())) as session:
        assert "energie-samen" not in {e.org_key for e in list_entries(session)}


def test_setup_reports_a_broken_starter_directory(cli, tmp_path, monkeypatch):
    bad = tmp_path / "kapot.yaml"
    bad.write_text("organisations: [\n", encoding="utf-8")
    monkeypatch.setenv("KB_STARTER_DIRECTORY", str(bad))
    rc, _, err = cli("setup", "--skip-model")
    assert rc == 1 and "geen geldige YAML" in err


def test_ask_json_help_on_a_refusal_and_not_on_an_answer(cli, tmp_path, type_evidence_model):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stichting.md").write_text(stichting_guide("Partner A"), encoding="utf-8")
    assert cli("ingest", str(docs), "--json")[0] == 0
    add_care(cli)
    cli("partners", "add", "Zonder Contact", "--topic", "zorg")  # no contact route: never named as help

    rc, out, err = cli("ask", "Hoeveel kost een zorgcoöperatie voor zorg aan ouderen?", "--json")
    asked = json.loads(out)
    assert rc == 0, err
    assert asked["refused"] is True
    assert asked["help"] == [
        {
            "organisation": CARE,
            "why": asked["help"][0]["why"],
            "contact": {
                "email": "hulp@zorg.example.org",
                "phone": "0800-1234",
                "opening_hours": "werkdagen 09.00–17.00",
            },
        }
    ]
    assert asked["help"][0]["why"].startswith("Helpt bij ")

    rc, out, _ = cli("ask", "Heeft een stichting leden?", "--json")
    answered = json.loads(out)
    assert answered["refused"] is False and answered["help"] == []

    rc, out, _ = cli("ask", "Hoeveel kost een zorgcoöperatie voor zorg aan ouderen?")
    assert "Wie kan helpen:" in out and f"{CARE} (Helpt bij " in out and "telefoon: 0800-1234" in out
