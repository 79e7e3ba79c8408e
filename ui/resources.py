"""The app's long-lived objects, one per process and configuration (``st.cache_resource``).

Everything is built from :class:`kb.config.Settings`, i.e. from ``KB_*`` environment variables (or
``.env``): tests point the app at a temporary store with ``KB_DATA_DIR``, ``KB_EMBED_MODEL`` etc. The
settings are read again on every rerun (cheap) and serve as the cache key, so a changed configuration
gets its own knowledge base and database instead of a stale one.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import streamlit as st
from sqlalchemy import Engine

from kb.config import Settings
from kb.db.engine import init_db
from kb.service import KnowledgeBase
from kb.services import AuthService, ChatService, DocumentService, ReviewService

log = logging.getLogger(__name__)

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def app_settings() -> Settings:
    """The current settings (environment and ``.env``)."""
    return Settings()


def _key(settings: Settings) -> str:
    return settings.model_dump_json()


@st.cache_resource(show_spinner=False)
def _knowledge_base(settings_json: str) -> KnowledgeBase:
    return KnowledgeBase(Settings.model_validate_json(settings_json))


@st.cache_resource(show_spinner=False)
def _engine(database_url: str) -> Engine:
    return init_db(database_url)


def knowledge_base(settings: Settings | None = None) -> KnowledgeBase:
    """The process-wide :class:`KnowledgeBase` for these settings (store and model load lazily)."""
    return _knowledge_base(_key(settings or app_settings()))


def db_engine(settings: Settings | None = None) -> Engine:
    """The migrated database engine (raises :class:`kb.db.DatabaseError` with a Dutch message)."""
    return _engine((settings or app_settings()).resolved_database_url())


def document_service(settings: Settings | None = None) -> DocumentService:
    settings = settings or app_settings()
    return DocumentService(knowledge_base(settings), db_engine(settings))


def chat_service(settings: Settings | None = None) -> ChatService:
    settings = settings or app_settings()
    return ChatService(knowledge_base(settings), db_engine(settings))


def review_service(settings: Settings | None = None) -> ReviewService:
    settings = settings or app_settings()
    return ReviewService(knowledge_base(settings), db_engine(settings))


def auth_service(settings: Settings | None = None) -> AuthService:
    return AuthService(db_engine(settings))


def clear() -> None:
    """Forget every cached resource (tests, or after the configuration changed)."""
    _warm_up.clear()
    _knowledge_base.clear()
    _engine.clear()


# ------------------------------------------------------------------------------------ start-up
class WarmUp:
    """Loads the embedding model, the store and the word index in a background thread, once per process.

    The app starts it on its first page view and shows "bezig met opstarten" until it is done, so the
    first question does not wait for the model; answering waits for it (never loads a second copy).
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.done = threading.Event()
        self.error: str | None = None
        self.seconds: float | None = None
        self._thread = threading.Thread(target=self._run, args=(kb,), name="samenweten-opstarten", daemon=True)
        self._thread.start()

    def _run(self, kb: KnowledgeBase) -> None:
        started = time.perf_counter()
        try:
            kb.embedder().encode_queries(["opstarten"])
            kb.store.chunk_count()
            kb.retriever.lexical.get()
            kb.retriever.hubness()  # the example-question pool (embedded once per model, then cached)
        except Exception as exc:  # shown on the page; answering then reports it too
            log.exception("opstarten mislukt")
            self.error = str(exc)
        finally:
            self.seconds = time.perf_counter() - started
            self.done.set()

    @property
    def ready(self) -> bool:
        return self.done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


@st.cache_resource(show_spinner=False)
def _warm_up(settings_json: str) -> WarmUp:
    return WarmUp(_knowledge_base(settings_json))


def warm_up(settings: Settings | None = None) -> WarmUp:
    """The process-wide start-up of the knowledge base for these settings (started on first call)."""
    return _warm_up(_key(settings or app_settings()))
