"""``kb users add``: creating staff and partner accounts from the command line."""

from __future__ import annotations

import argparse

import pytest

from kb.cli_users import add_users_parser, cmd_users_add, read_password
from kb.config import get_settings
from kb.db import authenticate, dispose_engines, get_user, init_db, session_scope

PASSWORD = "een-lang-wachtwoord"


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    add_users_parser(sub, common)
    return parser


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path / "data"
    dispose_engines()
    get_settings.cache_clear()


def _engine(data_dir):
    return init_db(f"sqlite:///{(data_dir / 'samenweten.db').resolve()}")


def test_add_partner_with_password_from_env(parser, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("KB_NEW_PASSWORD", PASSWORD)
    args = parser.parse_args(["users", "add", "Anna", "--role", "partner", "--org", "Buurtkracht Oost"])
    assert args.func(args) == 0
    assert "Account 'anna' aangemaakt (partner voor Buurtkracht Oost)." in capsys.readouterr().out
    with session_scope(_engine(data_dir)) as session:
        user = authenticate(session, "anna", PASSWORD)
        assert (user.role, user.partner_org) == ("partner", "Buurtkracht Oost")


def test_add_staff_json(parser, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("KB_NEW_PASSWORD", PASSWORD)
    args = parser.parse_args(["users", "add", "sanne", "--role", "staff", "--json"])
    assert cmd_users_add(args) == 0
    assert capsys.readouterr().out.strip() == '{"username": "sanne", "role": "staff", "partner_org": null}'


def test_partner_needs_an_organisation(parser, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("KB_NEW_PASSWORD", PASSWORD)
    args = parser.parse_args(["users", "add", "anna", "--role", "partner"])
    assert cmd_users_add(args) == 2
    assert "--org" in capsys.readouterr().err


def test_refused_accounts_have_a_dutch_reason(parser, data_dir, monkeypatch, capsys):
    monkeypatch.setenv("KB_NEW_PASSWORD", "kort")
    args = parser.parse_args(["users", "add", "anna", "--role", "staff"])
    assert cmd_users_add(args) == 1
    assert "te kort" in capsys.readouterr().err
    monkeypatch.setenv("KB_NEW_PASSWORD", PASSWORD)
    assert cmd_users_add(args) == 0
    assert cmd_users_add(args) == 1
    assert "al in gebruik" in capsys.readouterr().err
    with session_scope(_engine(data_dir)) as session:
        assert get_user(session, "anna") is not None


def test_no_password_without_a_terminal(parser, data_dir, monkeypatch, capsys):
    monkeypatch.delenv("KB_NEW_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", None)
    args = parser.parse_args(["users", "add", "anna", "--role", "staff"])
    assert cmd_users_add(args) == 2
    assert "KB_NEW_PASSWORD" in capsys.readouterr().err


def test_read_password_prompts_twice():
    answers = iter([PASSWORD, PASSWORD])
    assert read_password({}, ask=lambda _: next(answers), interactive=True) == PASSWORD
    different = iter([PASSWORD, "iets-anders-123"])
    with pytest.raises(ValueError, match="niet gelijk"):
        read_password({}, ask=lambda _: next(different), interactive=True)
    assert read_password({"KB_NEW_PASSWORD": "uit-de-omgeving"}, interactive=False) == "uit-de-omgeving"
    assert read_password({}, interactive=False) is None


def _run(parser, *argv):
    args = parser.parse_args(["users", *argv])
    return args.func(args)


def test_list_unlock_reset_password_and_remove(parser, data_dir, monkeypatch, capsys):
    from kb.db.accounts import LoginError

    monkeypatch.setenv("KB_NEW_PASSWORD", PASSWORD)
    assert _run(parser, "add", "sanne", "--role", "staff") == 0
    assert _run(parser, "add", "anna", "--role", "partner", "--org", "Buurtkracht Oost") == 0
    engine = _engine(data_dir)
    for attempt in range(5):
        with pytest.raises(LoginError), session_scope(engine) as session:
            authenticate(session, "anna", f"fout-wachtwoord-{attempt}")
    capsys.readouterr()

    assert _run(parser, "list") == 0
    out = capsys.readouterr().out
    assert "sanne" in out and "medewerker" in out and "partner (Buurtkracht Oost)  GEBLOKKEERD tot" in out
    assert "2 accounts" in out
    assert _run(parser, "list", "--json") == 0
    import json

    rows = {r["username"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["anna"]["locked_until"] and rows["sanne"]["locked_until"] is None

    assert _run(parser, "unlock", "anna") == 0
    assert "ontgrendeld" in capsys.readouterr().out
    with session_scope(engine) as session:
        assert authenticate(session, "anna", PASSWORD).username == "anna"

    monkeypatch.setenv("KB_NEW_PASSWORD", "nog-een-lang-wachtwoord")
    assert _run(parser, "reset-password", "anna") == 0
    with session_scope(engine) as session:
        assert authenticate(session, "anna", "nog-een-lang-wachtwoord").username == "anna"

    monkeypatch.setattr("sys.stdin", None)
    assert _run(parser, "remove", "anna") == 2  # no terminal to confirm: --yes needed
    assert "--yes" in capsys.readouterr().err
    assert _run(parser, "remove", "anna", "--yes") == 0
    assert _run(parser, "remove", "anna", "--yes") == 1
    assert "geen account met de gebruikersnaam 'anna'" in capsys.readouterr().err
    assert _run(parser, "unlock", "niemand") == 1
