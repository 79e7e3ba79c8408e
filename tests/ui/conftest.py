"""Fixtures for the app tests: a real store in a temp folder, reached by the app through KB_* variables.

Each test gets its own data folder (store, originals, SQLite database) with the small starter set
ingested, a staff account and two partner accounts of different organisations.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the app's own packages (kb, ingest, ui), also without an install
    sys.path.insert(0, str(ROOT))

from apptest_support import PARTNER_A, PARTNER_B, PASSWORD, build_tiny_model, model_texts, write_docs  # noqa: E402

from kb.config import Settings, get_settings  # noqa: E402
from kb.db import create_user, dispose_engines, init_db, session_scope, start_session  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402

APP = ROOT / "app.py"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny-static-nl", model_texts(ROOT))


@dataclass
class AppEnv:
    settings: Settings
    kb: KnowledgeBase
    engine: Engine
    staff_token: str
    partner_a_token: str
    partner_b_token: str

    def doc_id(self, title: str) -> str:
        return next(r.doc_id for r in self.kb.store.list_documents() if r.title == title)


def configure_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, model_dir: Path, **extra: str) -> Settings:
    for name in ("KB_STORE_DIR", "KB_DATABASE_URL", "KB_CHROMA_HOST", "KB_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KB_EMBED_MODEL", str(model_dir))
    monkeypatch.setenv("KB_STARTER_KB_DIR", str(data_dir / "starter"))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return Settings(_env_file=None)


@pytest.fixture
def make_app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path):
    """Build the environment; keyword arguments become extra KB_* variables (e.g. KB_REFUSAL_THRESHOLD)."""
    from ui import resources

    def _make(**extra: str) -> AppEnv:
        settings = configure_env(monkeypatch, tmp_path / "data", tiny_model_dir, **extra)
        resources.clear()
        kb = KnowledgeBase(settings)
        report = kb.pipeline.ingest_paths([write_docs(tmp_path / "docs")])
        assert report.ok, [r.error for r in report.failed]
        engine = init_db(settings.resolved_database_url())
        with session_scope(engine) as session:
            staff = create_user(session, "sanne", PASSWORD, "staff")
            anna = create_user(session, "anna", PASSWORD, "partner", PARTNER_A)
            bram = create_user(session, "bram", PASSWORD, "partner", PARTNER_B)
            tokens = [start_session(session, u) for u in (staff, anna, bram)]
        return AppEnv(settings, kb, engine, *tokens)

    yield _make
    resources.clear()
    dispose_engines()
    get_settings.cache_clear()


@pytest.fixture
def app_env(make_app_env) -> AppEnv:
    return make_app_env()


@pytest.fixture
def app_test():
    """A fresh AppTest of ``app.py`` (the first run loads the model, so the timeout is generous)."""
    from streamlit.testing.v1 import AppTest

    def _new() -> AppTest:
        return AppTest.from_file(str(APP), default_timeout=120)

    return _new


@pytest.fixture(autouse=True)
def _no_cwd_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Settings read ``.env`` from the working directory; run the app from an empty folder."""
    monkeypatch.chdir(tmp_path)
    yield
