"""Engine creation, schema migration (Alembic ``upgrade head``) and session handling.

``init_db(url)`` is the one entry point: it migrates the database to the newest schema and returns an
Engine that is cached per URL, so the Streamlit app can call it on every rerun.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from kb.config import get_settings
from kb.errors import KbError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseError(KbError):
    """The database cannot be opened or migrated. The message is Dutch and says what to check."""


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; a bare ``postgresql://`` uses psycopg 3 when psycopg2 is not installed."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"Ongeldige database-URL: {exc}. Gebruik bijvoorbeeld sqlite:///pad/naar/samenweten.db "
            "of postgresql+psycopg://gebruiker:wachtwoord@host:5432/samenweten (KB_DATABASE_URL)."
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        has_psycopg2 = importlib.util.find_spec("psycopg2") is not None
        if not has_psycopg2 and importlib.util.find_spec("psycopg") is not None:
            parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def create_db_engine(url: str | URL) -> Engine:
    """A new (uncached, unmigrated) Engine; SQLite gets foreign keys, WAL and a busy timeout."""
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": parsed.get_backend_name() != "sqlite"}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}  # Streamlit runs reruns in threads
        if _is_memory_sqlite(parsed):
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
        else:
            Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, **kwargs)
    except (ImportError, ModuleNotFoundError) as exc:
        raise DatabaseError(
            f"De databasedriver voor {parsed.drivername} is niet geïnstalleerd ({exc.name}). "
            "Installeer voor PostgreSQL het pakket 'psycopg[binary]'."
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def alembic_config(url: str | URL) -> Config:
    """Alembic configuration pointing at the migrations inside this package (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = normalize_url(url).render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ConfigParser interpolation
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` on ``engine`` (idempotent)."""
    cfg = alembic_config(engine.url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except CommandError as exc:
        raise DatabaseError(
            f"De database {shown} heeft een schemaversie die deze versie van SamenWeten niet kent "
            f"({exc}). Werk SamenWeten bij, of gebruik een andere database (KB_DATABASE_URL)."
        ) from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Kan de database {shown} niet openen of bijwerken: {exc.__class__.__name__}: "
            f"{getattr(exc, 'orig', None) or exc}. Controleer KB_DATABASE_URL, of de server draait "
            "en of de gebruiker rechten heeft."
        ) from exc


def init_db(url: str | None = None) -> Engine:
    """Migrate the database at ``url`` to the newest schema and return its cached Engine.

    ``url`` defaults to ``get_settings().resolved_database_url()`` (a SQLite file in the data folder,
    or ``KB_DATABASE_URL``). Safe to call repeatedly: the migration runs once per URL and process.
    """
    raw = url or get_settings().resolved_database_url()
    key = normalize_url(raw).render_as_string(hide_password=False)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_db_engine(key)
            try:
                upgrade(engine)
            except BaseException:
                engine.dispose()
                raise
            _engines[key] = engine
    return engine


def dispose_engines() -> None:
    """Close and forget all cached engines (tests, or before the database file is removed)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A Session that commits when the block ends and rolls back on an exception.

    Objects stay usable after the block (``expire_on_commit=False``), e.g. to show them in the app.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
