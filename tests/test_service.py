"""The KnowledgeBase facade end to end on a real store in tmp_path (hashing model instead of the real one):
ingest a few Markdown files, list documents, search, ask with citations, replace and delete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sample_guides import VERENIGING_GUIDE, stichting_guide

import kb.service as service
from kb.retrieval.types import SearchFilters
from kb.service import KnowledgeBase

DOCS = {
    "stichting.md": stichting_guide("Energiecoöperatie Zon"),
    "vereniging.md": VERENIGING_GUIDE,
    "kantine.md": """---
title: "Btw en de kantine"
topic: belasting
---
# Btw en de kantine

## Vrijstelling

De omzet van de kantine van een sportvereniging kan vrijgesteld zijn van omzetbelasting.
""",
}


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def loaded(monkeypatch, settings, hashing_embedder):
    """Which settings the facade asked an embedder for; the hashing model stands in for the real one."""
    asked: list = []

    def fake_get_embedder(s):
        asked.append(s)
        return hashing_embedder

    monkeypatch.setattr(service, "get_embedder", fake_get_embedder)
    return asked


@pytest.fixture
def base(settings, loaded, docs) -> KnowledgeBase:
    kb = KnowledgeBase(settings)
    report = kb.pipeline.ingest_paths([docs])
    assert report.ok and report.count("added") == 3
    return kb


def ids_of(kb: KnowledgeBase) -> dict[str, str]:
    return {d.source: d.doc_id for d in kb.store.list_documents()}


# ------------------------------------------------------------------------------------------ wiring
def test_parts_share_one_store_and_one_embedder(settings, loaded, hashing_embedder):
    kb = KnowledgeBase(settings)
    assert kb.store is kb.store  # created once
    assert kb.pipeline.store is kb.store and kb.retriever.store is kb.store
    assert kb.assistant.retriever is kb.retriever and kb.assistant.settings is settings
    assert kb.embedder() is hashing_embedder and loaded[-1] is settings
    # the store lives where the settings say, not in the project
    assert (settings.resolved_store_dir() / "chroma").is_dir()


def test_default_settings_are_the_process_settings(monkeypatch, settings):
    monkeypatch.setattr(service, "get_settings", lambda: settings)
    assert KnowledgeBase().settings is settings


# ------------------------------------------------------------------------------------------ documents
def test_ingested_documents_are_listed_with_their_metadata(base, settings):
    docs = base.store.list_documents()
    assert [(d.partner, d.title) for d in docs] == [  # sorted by partner, then title
        ("Buurtvereniging Oost", "De vereniging"),
        ("Energiecoöperatie Zon", "Een stichting oprichten"),
        (settings.default_partner, "Btw en de kantine"),
    ]
    by_source = {d.source: d for d in docs}
    assert by_source["stichting.md"].topic == "rechtsvorm" and by_source["stichting.md"].chunk_count == 2
    assert by_source["kantine.md"].topic == "belasting" and by_source["kantine.md"].chunk_count == 1
    assert [d.title for d in base.store.list_documents(partner="energiecoöperatie zon")] == ["Een stichting oprichten"]
    assert base.store.chunk_count() == 5


def test_ingesting_again_changes_nothing(base, docs):
    report = base.pipeline.ingest_paths([docs])
    assert [r.status for r in report.results] == ["unchanged"] * 3
    assert base.store.chunk_count() == 5


# ------------------------------------------------------------------------------------------ search
def test_search_finds_the_section_that_answers(base):
    hits = base.retriever.search("Heeft een stichting leden?", 3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].chunk.source == "stichting.md" and hits[0].chunk.section[-1] == "Geen leden"
    assert hits[0].chunk.text == "Een stichting heeft geen leden. Het bestuur neemt de besluiten."
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_filters_by_topic_and_partner(base):
    hits = base.retriever.search("Mag een vereniging winst verdelen?", 5, SearchFilters(topic="belasting"))
    assert hits and {h.chunk.source for h in hits} == {"kantine.md"}
    hits = base.retriever.search("Wie kiest het bestuur?", 5, SearchFilters(partner="Energiecoöperatie Zon"))
    assert hits and {h.chunk.partner for h in hits} == {"Energiecoöperatie Zon"}


def test_empty_question_finds_nothing(base):
    assert base.retriever.search("   ") == []


# ------------------------------------------------------------------------------------------ ask
def test_answer_cites_the_sources_it_quotes(base):
    stream = base.assistant.ask("Mag een vereniging winst verdelen onder de leden?")
    text = "".join(stream)
    answer = stream.answer
    assert answer.text == text and not answer.refused and answer.answerer == "extractive"
    assert answer.citations
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert markers == {c.n for c in answer.citations}
    for c in answer.citations:
        assert answer.hits[c.n - 1] is c.hit  # [n] is the n-th source shown
        assert c.quote.split(". ")[0] in text  # the card's passage; its answering sentence leads the answer
        for piece in c.quote.split(" … "):
            assert piece in squash(c.hit.chunk.text)  # quoted verbatim
    first = answer.citations[0]
    assert first.n == 1 and first.hit.chunk.source == "vereniging.md"
    assert "Een vereniging mag geen winst verdelen onder haar leden." in first.quote


def test_same_question_same_answer(base):
    q = "Wie kiest het bestuur van een vereniging?"
    assert base.assistant.ask(q).complete().to_dict() == base.assistant.ask(q).complete().to_dict()


def test_question_the_sources_cannot_answer_is_refused(base, settings, monkeypatch):
    # a deterministic evidence model (the shipped one is fitted on EmbeddingGemma scores, not the test model's)
    from kb.answering import assistant as module
    from kb.answering.answerability import RefusalModel

    model = RefusalModel({"type_missing": -8.0}, 4.0, {"type_missing": 0.0}, {"type_missing": 1.0}, 0.5, 0.5)
    monkeypatch.setattr(module, "load_model", lambda name: model)
    answer = base.assistant.ask("Wat kost het oprichten van een stichting bij de notaris?").complete()
    assert answer.refused and answer.citations == []
    assert answer.text.startswith("Dat staat niet in de bronnen.")
    assert settings.support_contact in answer.text
    assert "Een stichting oprichten" in answer.text  # nearby sources are suggested
    assert answer.warnings and "type_missing 1.00" in answer.warnings[0]  # the reason, for support staff


# ------------------------------------------------------------------------------------------ replace, delete
def test_changed_file_replaces_the_old_text(base, docs):
    path = docs / "stichting.md"
    path.write_text(
        DOCS["stichting.md"].replace(
            "Het bestuur neemt de besluiten.", "Het bestuur van drie personen neemt de besluiten."
        ),
        encoding="utf-8",
    )
    [result] = base.pipeline.ingest_paths([path]).results
    assert result.status == "replaced"
    texts = [c.text for c in base.store.chunks_of(result.doc_id)]
    assert "Een stichting heeft geen leden. Het bestuur van drie personen neemt de besluiten." in texts
    assert not any("Het bestuur neemt de besluiten." in t for t in texts)
    hits = base.retriever.search("Heeft een stichting leden?", 1)
    assert "drie personen" in hits[0].chunk.text


def test_deleted_document_is_gone_everywhere(base):
    doc_id = ids_of(base)["vereniging.md"]
    assert base.store.remove_document(doc_id) is not None
    assert "vereniging.md" not in ids_of(base)
    assert base.store.get_document(doc_id) is None and base.store.chunks_of(doc_id) == []
    assert base.store.chunk_count() == 3
    hits = base.retriever.search("Mag een vereniging winst verdelen onder de leden?", 5)
    assert hits and all(h.chunk.doc_id != doc_id for h in hits)
    answer = base.assistant.ask("Mag een vereniging winst verdelen onder de leden?").complete()
    assert all(c.hit.chunk.doc_id != doc_id for c in answer.citations)
    assert "Een vereniging mag geen winst verdelen" not in answer.text
    assert base.store.remove_document(doc_id) is None  # a second delete reports that nothing was there


def test_another_knowledge_base_on_the_same_folder_sees_the_changes(base, settings):
    doc_id = ids_of(base)["kantine.md"]
    later = KnowledgeBase(settings)  # as the next CLI command or a second app process would
    assert ids_of(later) == ids_of(base)
    assert later.retriever.search("omzetbelasting kantine", 1)[0].chunk.doc_id == doc_id
    base.store.remove_document(doc_id)
    assert "kantine.md" not in ids_of(later)
