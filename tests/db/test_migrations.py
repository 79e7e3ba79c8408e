"""Schema management: Alembic creates exactly the tables of the models, idempotently; SQLite pragmas;
and (marked ``server``) the same against a throwaway PostgreSQL cluster."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from kb.config import get_settings
from kb.db import (
    DatabaseError,
    ExchangeFilter,
    authenticate,
    create_user,
    dispose_engines,
    init_db,
    list_exchanges,
    record_exchange,
    session_scope,
    start_conversation,
)
from kb.db.engine import alembic_config
from kb.db.models import Base

ALL_TABLES = {
    "users",
    "login_sessions",
    "conversations",
    "exchanges",
    "feedback",
    "reviews",
    "audit_events",
    "organisations",
    "documents",
    "document_versions",
    "store_state",
    "partner_directory",
}


def _assert_schema_matches_models(engine: Engine) -> None:
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == ALL_TABLES | {"alembic_version"}
    assert set(Base.metadata.tables) == ALL_TABLES
    for name, table in Base.metadata.tables.items():
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(columns) == {c.name for c in table.columns}, name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, f"{name}.{column.name}"
            reflected = columns[column.name]["type"]
            assert reflected.python_type is column.type.python_type, f"{name}.{column.name}: {reflected!r}"
        pk = inspector.get_pk_constraint(name)
        assert pk["constrained_columns"] == [c.name for c in table.primary_key.columns], name
        fks = {
            (tuple(fk["constrained_columns"]), fk["referred_table"], (fk.get("options") or {}).get("ondelete"))
            for fk in inspector.get_foreign_keys(name)
        }
        expected_fks = {
            (tuple(fk.parent.name for fk in c.elements), c.referred_table.name, c.ondelete)
            for c in table.foreign_key_constraints
        }
        assert fks == expected_fks, name
        indexes = {
            (i["name"], tuple(i["column_names"]), bool(i["unique"]))
            for i in inspector.get_indexes(name)
            if not i.get("duplicates_constraint")  # PostgreSQL lists unique constraints as indexes too
        }
        expected_indexes = {(i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes}
        assert indexes == expected_indexes, name
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)}
        expected_uniques = {
            tuple(c.name for c in u.columns) for u in table.constraints if u.__class__.__name__ == "UniqueConstraint"
        }
        assert uniques == expected_uniques, name
        checks = {c["name"] for c in inspector.get_check_constraints(name)}
        expected_checks = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        assert checks == expected_checks, name
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"migration and models differ: {diff}"


def test_tables_created_by_alembic_match_the_models(engine: Engine) -> None:
    _assert_schema_matches_models(engine)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            == ScriptDirectory.from_config(alembic_config(engine.url)).get_current_head()
        )


def test_init_db_twice_is_idempotent(db_url: str) -> None:
    first = init_db(db_url)
    with session_scope(first) as s:
        create_user(s, "anna", "correct-paard-batterij", "staff")
    assert init_db(db_url) is first  # cached per URL
    dispose_engines()  # as if a new process starts: the migration runs again on an existing database
    second = init_db(db_url)
    assert second is not first
    with second.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["anna"]
    _assert_schema_matches_models(second)
    dispose_engines()


def test_sqlite_foreign_keys_and_wal(engine: Engine, db_url: str) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO exchanges (conversation_id, created_at, question, answer, refused, confidence,"
                " answerer, sources, citations) VALUES ('bestaat-niet', '2025-01-01', 'v', 'a', 0, 0, 'x', '[]', '[]')"
            )
        )


def test_deleting_a_conversation_cascades(engine: Engine) -> None:
    with session_scope(engine) as s:
        conv = start_conversation(s)
        record_exchange(s, conv.id, "Vraag?", "Antwoord.")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM conversations"))
        assert conn.execute(text("SELECT count(*) FROM exchanges")).scalar_one() == 0


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        engine = init_db()
        assert Path(engine.url.database or "") == (tmp_path / "data" / "samenweten.db").resolve()
        assert (tmp_path / "data" / "samenweten.db").is_file()
    finally:
        dispose_engines()
        get_settings.cache_clear()


def test_bad_url_and_unknown_revision_give_dutch_errors(tmp_path: Path, db_url: str) -> None:
    with pytest.raises(DatabaseError, match="Ongeldige database-URL"):
        init_db("geen-url")
    engine = init_db(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    dispose_engines()
    with pytest.raises(DatabaseError, match="schemaversie"):
        init_db(db_url)
    dispose_engines()


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a loopback port (trust auth), stopped and deleted afterwards."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL-programma's (initdb, pg_ctl) ontbreken: installeer het pakket 'postgresql'")
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        prefix = ["runuser", "-u", "postgres", "--"]
    workdir = Path(tempfile.mkdtemp(prefix="kb-pg-"))
    if prefix:
        shutil.chown(workdir, user="postgres")
    data, log, port = workdir / "data", workdir / "server.log", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        run(
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir} -F",
            "start",
        )
    except subprocess.CalledProcessError as exc:
        details = log.read_text() if log.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL start failed: {exc.stderr!r} {details}") from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        dispose_engines()
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.server
def test_postgresql_round_trip(postgres_url: str) -> None:
    engine = init_db(postgres_url)
    assert engine.dialect.name == "postgresql"
    dispose_engines()
    engine = init_db(postgres_url)  # second migration run on the existing schema: no-op
    _assert_schema_matches_models(engine)

    t0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        create_user(s, "partner1", "correct-paard-batterij", "partner", partner_org="Woonbond")
        conv = start_conversation(s, topic_filter="belasting", now=t0)
        record_exchange(
            s,
            conv.id,
            "Btw?",
            "Ja [1].",
            confidence=0.4,
            answerer="extractive",
            sources=[{"doc_id": "d", "chunk_id": "d:1", "title": "Gids", "section": "Btw", "score": 0.9, "rank": 1}],
            now=t0,
        )
    with session_scope(engine) as s:
        user = authenticate(s, "Partner1", "correct-paard-batterij", now=t0)
        assert user.partner_org == "Woonbond"
        [row] = list_exchanges(
            s, ExchangeFilter(topic="belasting", max_confidence=0.5, date_from=t0 - timedelta(minutes=1))
        )
        assert row.created_at == t0 and row.sources[0]["title"] == "Gids"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (username, password_hash, role, created_at) VALUES ('x', 'h', 'partner', now())")
        )  # partner without organisation


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    from alembic import command

    from kb.db.engine import alembic_config, upgrade

    cfg = alembic_config(engine.url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    _assert_schema_matches_models(engine)


# --- 0004: one organisation key -----------------------------------------------------------------


def test_0004_rekeys_the_directory_and_its_audit_by_organisation_key(db_url: str) -> None:
    """A database at 0003 (directory keyed by case-folded name) keeps working after the upgrade: every entry,
    its audit history and the document register's organisations answer to ``organisation_key``."""
    from kb.db.directory import get_entry, update_entry
    from kb.db.engine import create_db_engine, upgrade
    from kb.db.models import Organisation
    from kb.naming import organisation_key
    from kb.partners.directory import EntryData

    old = create_db_engine(db_url)
    upgrade(old, "0003")
    t0, t1, t2 = (datetime(2026, 11, day, 9, 0, tzinfo=UTC) for day in (1, 2, 3))
    rows = [  # old keys: case-folded names; the last two share the new key "stichting-a-b"
        ("nederland zorgt voor elkaar", "Nederland Zorgt Voor Elkaar", t0),
        ("strasse wijk", "Straße Wijk", t0),
        ("stichting a&b", "Stichting A&B", t1),
        ("stichting a b", "Stichting A B", t2),
    ]
    with old.begin() as conn:
        for key, name, at in rows:
            conn.execute(
                text(
                    "INSERT INTO partner_directory (org_key, name, description, topics, kinds, created_at,"
                    " updated_at) VALUES (:k, :n, '', '[]', '[]', :t, :t)"
                ),
                {"k": key, "n": name, "t": at},
            )
        for doc_id in ("partnergids:nederland zorgt voor elkaar", "partnergids:opgeheven club", "gids-vve"):
            conn.execute(
                text("INSERT INTO audit_events (at, action, doc_id) VALUES (:t, 'add', :d)"), {"t": t0, "d": doc_id}
            )
        conn.execute(
            text("INSERT INTO organisations (key, name, created_at) VALUES ('strae-wijk', 'Straße Wijk', :t)"),
            {"t": t0},
        )
    old.dispose()

    engine = init_db(db_url)
    _assert_schema_matches_models(engine)
    with session_scope(engine) as s:
        keys = dict(s.execute(text("SELECT name, org_key FROM partner_directory")).all())
        assert keys == {
            "Nederland Zorgt Voor Elkaar": "nederland-zorgt-voor-elkaar",
            "Straße Wijk": "strasse-wijk",
            "Stichting A&B": "stichting-a-b",  # added first: it gets the key
            "Stichting A B": "stichting-a-b~2",  # kept, under a key of its own
        }
        assert get_entry(s, "nederland  zorgt voor elkaar").name == "Nederland Zorgt Voor Elkaar"
        assert get_entry(s, "STRASSE WIJK").name == "Straße Wijk"
        assert get_entry(s, "stichting-a-b~2").name == "Stichting A B"
        # the duplicate can still be edited under its own name
        assert update_entry(s, "stichting-a-b~2", EntryData(name="Stichting A B", description="Ja.")) == [
            "beschrijving"
        ]
        audit = s.execute(text("SELECT doc_id FROM audit_events ORDER BY id")).scalars().all()
        assert audit[:3] == ["partnergids:nederland-zorgt-voor-elkaar", "partnergids:opgeheven-club", "gids-vve"]
        assert s.scalars(select(Organisation.key)).all() == [organisation_key("Straße Wijk")] == ["strasse-wijk"]
    dispose_engines()

    # and back: the case-folded keys return
    back = create_db_engine(db_url)
    with back.begin() as conn:
        cfg = alembic_config(back.url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with back.connect() as conn:
        keys = set(conn.execute(text("SELECT org_key FROM partner_directory")).scalars())
        assert {"nederland zorgt voor elkaar", "strasse wijk", "stichting a&b", "stichting a b"} == keys
    back.dispose()
