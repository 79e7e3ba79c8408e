"""DocumentService: access control before the store is touched, partner forced to the principal's
organisation, replace/remove, and the audit trail. A real Chroma store and SQLite database, no Streamlit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.pipeline import make_doc_id
from kb.access import PermissionDeniedError, Principal
from kb.db import dispose_engines, init_db, list_events, session_scope
from kb.documents import DocumentMetadata, DocumentNotFoundError, DocumentService, check_url
from kb.service import KnowledgeBase

ORG_A = "Buurtkracht Oost"
ORG_B = "Dorpshuis West"
STAFF = Principal("sanne", "staff")
ANNA = Principal("anna", "partner", ORG_A)
BRAM = Principal("bram", "partner", ORG_B)
VOLUNTEER = Principal.anonymous()

GUIDE = """# Zonnepanelen op het dorpshuis

## Subsidie

De gemeente geeft subsidie voor zonnepanelen op het dak van een dorpshuis.
"""


class _KB(KnowledgeBase):
    """The real KnowledgeBase with the small test embedding model."""

    def __init__(self, settings, embedder) -> None:
        super().__init__(settings)
        self._test_embedder = embedder

    def embedder(self):
        return self._test_embedder


@pytest.fixture
def kb(settings, hashing_embedder) -> KnowledgeBase:
    return _KB(settings, hashing_embedder)


@pytest.fixture
def engine(settings):
    yield init_db(settings.resolved_database_url())  # one database: a change and its audit entry commit together
    dispose_engines()


@pytest.fixture
def service(kb, engine) -> DocumentService:
    return DocumentService(kb, engine)


def upload(tmp_path: Path, name: str, text: str = GUIDE) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def events(engine, **filters):
    with session_scope(engine) as session:
        return list_events(session, **filters)


def snapshot(kb: KnowledgeBase, doc_id: str):
    record = kb.store.get_document(doc_id)
    return record, sorted(c.chunk_id for c in kb.store.chunks_of(doc_id))


@pytest.fixture
def doc_of_b(service, tmp_path) -> str:
    result = service.add(BRAM, upload(tmp_path, "zon.md"), "zon.md", DocumentMetadata(topic="financiering"))
    assert result.ok
    return result.doc_id


# ------------------------------------------------------------------------------------ adding
def test_partner_add_is_forced_into_their_own_organisation(service, kb, engine, tmp_path):
    result = service.add(
        ANNA,
        upload(tmp_path, "tmp123.md"),
        "Zonnepanelen.md",
        DocumentMetadata(
            title="Zon op het dak",
            topic="financiering",
            valid_from=dt.date(2026, 1, 1),
            url="https://example.org/zon",
            partner=ORG_B,
        ),
    )
    assert result.ok and result.status == "added" and result.chunks == 1
    record = kb.store.get_document(result.doc_id)
    assert record.partner == ORG_A  # not the requested ORG_B
    assert result.doc_id == make_doc_id(ORG_A, "Zonnepanelen.md")
    assert (record.title, record.topic, record.valid_from, record.url, record.source) == (
        "Zon op het dak",
        "financiering",
        "2026-01-01",
        "https://example.org/zon",
        "Zonnepanelen.md",
    )
    (event,) = events(engine)
    assert (event.username, event.action, event.doc_id, event.partner_org) == ("anna", "add", result.doc_id, ORG_A)
    assert event.at is not None and "Zon op het dak" in event.detail


def test_front_matter_cannot_steer_an_upload_into_another_organisation(service, kb, tmp_path, doc_of_b):
    before = snapshot(kb, doc_of_b)
    sneaky = f"---\ndoc_id: {doc_of_b}\npartner: {ORG_B}\ntitle: Overgenomen\n---\n# Overgenomen\n\nAndere tekst.\n"
    result = service.add(ANNA, upload(tmp_path, "zon.md", sneaky), "zon.md")
    assert result.ok
    assert result.doc_id == make_doc_id(ORG_A, "zon.md") != doc_of_b
    assert kb.store.get_document(result.doc_id).partner == ORG_A
    assert snapshot(kb, doc_of_b) == before


def test_spellings_of_one_organisation_are_one_organisation(service, kb, tmp_path):
    """Organisations have a stable key: case, spaces and dashes do not make a new, invisible one."""
    same = Principal("carla", "partner", " dorpshuis-WEST ")
    original = service.add(BRAM, upload(tmp_path, "zon.md"), "zon.md")
    assert [r.doc_id for r in service.list_for(same)] == [original.doc_id]
    again = service.add(same, upload(tmp_path, "zon.md", "# Anders\n\nAndere tekst.\n"), "zon.md")
    assert again.doc_id == original.doc_id and again.status == "replaced"
    assert kb.store.get_document(original.doc_id).partner == ORG_B  # the registered spelling stays
    assert service.partners() == [ORG_B]
    with pytest.raises(PermissionDeniedError):
        service.remove(Principal("dirk", "partner", "Dorpshuis Oost"), original.doc_id)


def test_staff_may_choose_the_partner_or_gets_the_default(service, kb, tmp_path):
    chosen = service.add(STAFF, upload(tmp_path, "a.md"), "a.md", DocumentMetadata(partner=ORG_B))
    default = service.add(STAFF, upload(tmp_path, "b.md"), "b.md")
    assert kb.store.get_document(chosen.doc_id).partner == ORG_B
    assert kb.store.get_document(default.doc_id).partner == kb.settings.default_partner


def test_volunteer_cannot_add_and_nothing_is_stored(service, kb, engine, tmp_path):
    with pytest.raises(PermissionDeniedError, match="Log in"):
        service.add(VOLUNTEER, upload(tmp_path, "a.md"), "a.md")
    assert kb.store.list_documents() == [] and events(engine) == []


def test_failed_upload_returns_a_dutch_error_and_writes_no_audit(service, kb, engine, tmp_path):
    empty = service.add(ANNA, upload(tmp_path, "leeg.md", "   \n"), "leeg.md")
    assert not empty.ok and "leeg.md" in empty.error
    unsupported = upload(tmp_path, "oud.doc")
    unsupported.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    old = service.add(ANNA, unsupported, "oud.doc")
    assert not old.ok and "Word" in old.error
    bad_url = service.add(ANNA, upload(tmp_path, "a.md"), "a.md", DocumentMetadata(url="javascript:alert(1)"))
    assert not bad_url.ok and "https://" in bad_url.error
    bad_topic = service.add(ANNA, upload(tmp_path, "a.md"), "a.md", DocumentMetadata(topic="sport"))
    assert not bad_topic.ok and "onbekend onderwerp" in bad_topic.error
    assert kb.store.list_documents() == [] and events(engine) == []


def test_check_url():
    assert check_url(" https://example.org/a ") == "https://example.org/a"
    assert check_url("") is None and check_url(None) is None
    for bad in ("javascript:alert(1)", "ftp://example.org", "example.org", "https://"):
        with pytest.raises(ValueError):
            check_url(bad)


# ------------------------------------------------------------------------------------ listing
def test_partner_lists_only_their_own_documents(service, tmp_path, doc_of_b):
    own = service.add(ANNA, upload(tmp_path, "eigen.md"), "eigen.md").doc_id
    assert [r.doc_id for r in service.list_for(ANNA)] == [own]
    assert [r.doc_id for r in service.list_for(BRAM)] == [doc_of_b]
    assert {r.doc_id for r in service.list_for(STAFF)} == {own, doc_of_b}
    with pytest.raises(PermissionDeniedError):
        service.list_for(VOLUNTEER)
    with pytest.raises(PermissionDeniedError, match=ORG_A):
        service.get_for(ANNA, doc_of_b)
    assert service.get_for(STAFF, doc_of_b).doc_id == doc_of_b


def test_full_text_is_readable_by_anyone(service, doc_of_b):
    assert "subsidie voor zonnepanelen" in service.full_text(doc_of_b)
    assert service.full_text("bestaat-niet") is None


def test_history_of_a_partner_shows_only_their_organisation(service, tmp_path, doc_of_b):
    service.add(ANNA, upload(tmp_path, "eigen.md"), "eigen.md")
    assert {e.partner_org for e in service.history_for(ANNA)} == {ORG_A}
    assert {e.partner_org for e in service.history_for(STAFF)} == {ORG_A, ORG_B}


# ------------------------------------------------------------------------------------ removing
def test_partner_cannot_remove_another_organisations_document(service, kb, engine, doc_of_b):
    before = snapshot(kb, doc_of_b)
    with pytest.raises(PermissionDeniedError, match="eigen organisatie"):
        service.remove(ANNA, doc_of_b)
    assert snapshot(kb, doc_of_b) == before
    assert [e.action for e in events(engine)] == ["add"]  # only Bram's upload


def test_partner_removes_own_document_with_audit(service, kb, engine, doc_of_b):
    removed = service.remove(BRAM, doc_of_b)
    assert removed.doc_id == doc_of_b
    assert kb.store.get_document(doc_of_b) is None and kb.store.chunks_of(doc_of_b) == []
    latest = events(engine)[0]
    assert (latest.username, latest.action, latest.doc_id, latest.partner_org) == ("bram", "remove", doc_of_b, ORG_B)


def test_staff_can_remove_any_document(service, kb, engine, doc_of_b):
    service.remove(STAFF, doc_of_b)
    assert kb.store.get_document(doc_of_b) is None
    assert events(engine, action="remove")[0].username == "sanne"


def test_removing_a_missing_document_is_a_clear_error(service):
    with pytest.raises(DocumentNotFoundError, match="bestaat niet"):
        service.remove(STAFF, "weg")


# ------------------------------------------------------------------------------------ replacing
def test_partner_cannot_replace_another_organisations_document(service, kb, engine, tmp_path, doc_of_b):
    before = snapshot(kb, doc_of_b)
    with pytest.raises(PermissionDeniedError):
        service.replace(ANNA, doc_of_b, upload(tmp_path, "nieuw.md", "# Nieuw\n\nIets heel anders.\n"), "nieuw.md")
    assert snapshot(kb, doc_of_b) == before
    assert [e.action for e in events(engine)] == ["add"]


def test_replace_keeps_id_and_metadata_and_is_audited(service, kb, engine, tmp_path, doc_of_b):
    old_record, old_chunks = snapshot(kb, doc_of_b)
    new_text = (
        "# Zonnepanelen\n\n## Subsidie\n\nDe subsidie is verhoogd.\n\n## Vergunning\n\nSoms is een vergunning nodig.\n"
    )
    result = service.replace(BRAM, doc_of_b, upload(tmp_path, "zon-v2.md", new_text), "zon-v2.md")
    assert result.ok and result.status == "replaced" and result.doc_id == doc_of_b
    record, chunks = snapshot(kb, doc_of_b)
    assert record.topic == old_record.topic == "financiering"  # kept from the current version
    assert record.partner == ORG_B and record.source == "zon-v2.md"
    assert set(chunks).isdisjoint(old_chunks) and len(chunks) == 2
    assert "verhoogd" in service.full_text(doc_of_b)
    latest = events(engine)[0]
    assert (latest.username, latest.action, latest.doc_id) == ("bram", "replace", doc_of_b)


def test_staff_can_replace_any_document(service, kb, tmp_path, doc_of_b):
    result = service.replace(
        STAFF,
        doc_of_b,
        upload(tmp_path, "n.md", "# N\n\nNieuwe inhoud.\n"),
        "n.md",
        DocumentMetadata(title="Nieuwe titel"),
    )
    assert result.ok and kb.store.get_document(doc_of_b).title == "Nieuwe titel"


def test_failed_replace_keeps_the_old_version(service, kb, engine, tmp_path, doc_of_b):
    before = snapshot(kb, doc_of_b)
    result = service.replace(BRAM, doc_of_b, upload(tmp_path, "leeg.md", ""), "leeg.md")
    assert not result.ok and result.error
    assert snapshot(kb, doc_of_b) == before
    assert [e.action for e in events(engine)] == ["add"]
