"""The services: privacy of the knowledge gaps, retention (kb purge), the layering of ui/kb/ingest, and one
error type for the CLI."""

from __future__ import annotations

import ast
import datetime as dt
import functools
import subprocess
import sys
from pathlib import Path

import pytest

from kb.access import PermissionDeniedError, Principal
from kb.db import dispose_engines, record_exchange, session_scope, start_conversation
from kb.db.models import Conversation, Exchange
from kb.documents import DocumentService
from kb.errors import KbError
from kb.services import ReviewService

ROOT = Path(__file__).resolve().parents[1]
STAFF = Principal("sanne", "staff")


class _KB:
    def __init__(self, settings, embedder, store=None):
        from kb.service import KnowledgeBase

        self._kb = KnowledgeBase(settings)
        self._kb.embedder = lambda: embedder  # type: ignore[method-assign]
        self.settings = settings

    def __getattr__(self, name):
        return getattr(self._kb, name)


@pytest.fixture
def kb(settings, hashing_embedder):
    yield _KB(settings, hashing_embedder)
    dispose_engines()


def _doc(kb, tmp_path: Path, partner: str, name: str, topic: str) -> str:
    f = tmp_path / name
    f.write_text(f"---\ntopic: {topic}\n---\n# {name}\n\nTekst over {topic}.\n", encoding="utf-8")
    result = DocumentService(kb, kb.store.engine).add(STAFF, f, name, _meta(partner))
    assert result.ok, result.error
    return str(result.doc_id)


def _meta(partner):
    from kb.documents import DocumentMetadata

    return DocumentMetadata(partner=partner)


def test_partners_see_the_gaps_of_their_own_topics_and_staff_all(kb, tmp_path):
    a_doc = _doc(kb, tmp_path, "Buurtkracht Oost", "a.md", "belasting")
    b_doc = _doc(kb, tmp_path, "Dorpshuis West", "b.md", "financiering")
    engine = kb.store.engine
    with session_scope(engine) as s:
        c = start_conversation(s).id
        for question, doc in (("Vraag over giften?", a_doc), ("Vraag over een lening?", b_doc)):
            record_exchange(
                s,
                c,
                question,
                "niet gevonden",
                refused=True,
                sources=[{"doc_id": doc, "chunk_id": "x", "title": "", "section": "", "score": 0.1, "rank": 1}],
            )
        chosen = start_conversation(s, topic_filter="belasting").id
        record_exchange(s, chosen, "Vraag met onderwerp belasting?", "niet gevonden", refused=True)
        record_exchange(s, start_conversation(s).id, "Vraag zonder bron?", "niet gevonden", refused=True)
    service = ReviewService(kb, engine)
    anna = Principal("anna", "partner", "buurtkracht  OOST")  # another spelling of the same organisation
    assert service.unanswered_questions(anna) == ["Vraag met onderwerp belasting?", "Vraag over giften?"]
    assert service.unanswered_questions(Principal("bram", "partner", "Dorpshuis West")) == ["Vraag over een lening?"]
    assert len(service.unanswered_questions(STAFF)) == 4
    groups = service.unanswered_groups(anna)
    assert all(isinstance(q, str) for g in groups for q in g.questions)  # only the text: no who, no when
    with pytest.raises(PermissionDeniedError):
        service.unanswered_questions(Principal.anonymous())


def test_purge_removes_conversations_older_than_the_retention(kb):
    engine = kb.store.engine
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with session_scope(engine) as s:
        old = start_conversation(s, now=now - dt.timedelta(days=400)).id
        record_exchange(s, old, "oud?", "antwoord", now=now - dt.timedelta(days=400))
        kept = start_conversation(s, now=now - dt.timedelta(days=400)).id  # old, but used recently
        record_exchange(s, kept, "nog in gebruik?", "antwoord", now=now - dt.timedelta(days=3))
        new = start_conversation(s, now=now - dt.timedelta(days=10)).id
        record_exchange(s, new, "nieuw?", "antwoord", now=now - dt.timedelta(days=10))
    assert ReviewService(kb, engine).purge(365, now=now) == 1
    with session_scope(engine) as s:
        assert {c.id for c in s.query(Conversation)} == {kept, new}
        assert sorted(e.question for e in s.query(Exchange)) == ["nieuw?", "nog in gebruik?"]


@pytest.mark.process
def test_kb_purge_command(tmp_path):
    env = {
        "KB_DATA_DIR": str(tmp_path / "data"),
        "KB_EMBED_MODEL": "hashing-test",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-m", "kb.cli", "purge", "--days", "30", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert '"retention_days": 30' in out.stdout


@pytest.mark.process
def test_cli_reports_a_kb_error_once_without_traceback(tmp_path):
    """``KB_ANSWERER=openai kb ask …`` with no server used to end in a traceback."""
    runner = [sys.executable, str(ROOT / "tests" / "integrity" / "kb_hashing.py")]
    env = {
        "KB_DATA_DIR": str(tmp_path / "data"),
        "KB_EMBED_MODEL": "hashing-test",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
    }
    doc = tmp_path / "stichting.md"
    doc.write_text("# Stichting\n\nEen stichting heeft een bestuur en geen leden.\n", encoding="utf-8")
    assert subprocess.run([*runner, "ingest", str(doc)], env=env, capture_output=True, timeout=300).returncode == 0
    env |= {"KB_ANSWERER": "openai", "KB_LLM_BASE_URL": "http://127.0.0.1:9/v1", "KB_LLM_TIMEOUT": "5"}
    out = subprocess.run(
        [*runner, "ask", "Heeft een stichting leden?"], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "kb: het taalmodel gaf geen antwoord" in out.stderr


def test_every_exception_class_derives_from_kb_error():
    missing = []
    for path in list((ROOT / "kb").rglob("*.py")) + list((ROOT / "ingest").rglob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error") and not node.name.startswith("_"):
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                cls = getattr(__import__(module, fromlist=[node.name]), node.name)
                if not issubclass(cls, KbError):
                    missing.append(f"{module}.{node.name}")
    assert missing == []


@functools.cache
def _tree(path: Path) -> ast.Module:
    """The parsed module (the structure tests below walk the same sources, each parse once)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


def test_pages_import_only_services_and_display_helpers():
    allowed = (
        "kb.services",
        "kb.access",
        "kb.config",
        "kb.errors",
        "kb.answering.types",
        "kb.display",
        "kb.text",
        "ui",
        "streamlit",
    )
    for page in (ROOT / "ui").glob("*.py"):
        if page.name == "resources.py":  # the wiring: builds the services
            continue
        ours = {m for m in _imports(page) if m.split(".")[0] in ("kb", "ingest", "ui", "streamlit")}
        bad = {m for m in ours if not m.startswith(allowed)}
        assert not bad, f"{page.name} imports {bad}"


def test_no_import_cycle_between_kb_and_ingest_modules():
    modules = {}
    for path in list((ROOT / "kb").rglob("*.py")) + list((ROOT / "ingest").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {m: {i for i in _imports(p) if i in modules} for m, p in modules.items()}

    # a package-level cycle: an ingest module importing a kb module that (transitively) imports ingest
    def reaches(start: str, prefix: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            for nxt in graph.get(m, ()):
                if nxt.startswith(prefix):
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    kb_used_by_ingest = {i for m in modules if m.startswith("ingest") for i in graph[m] if i.startswith("kb")}
    assert not [m for m in kb_used_by_ingest if reaches(m, "ingest")]
