"""The partner directory table: one normalised key per organisation, validation with Dutch messages, and an
audit entry with every change in the same transaction; the starter file and its loading on an empty directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_directory import CARE, SMALL_DIRECTORY
from sqlalchemy import Engine, select

from ingest.pipeline import collect_files
from kb.access import PermissionDeniedError, Principal
from kb.config import PROJECT_ROOT, Settings
from kb.db import list_events, session_scope
from kb.db.directory import (
    AUDIT_PREFIX,
    DirectoryEntry,
    DirectoryError,
    EntryData,
    add_entry,
    get_entry,
    knowledge_partner_keys,
    list_entries,
    load_starter,
    remove_entry,
    update_entry,
)
from kb.naming import organisation_key
from kb.partners.directory import DirectoryService
from kb.partners.starter import read_starter

STAFF = Principal("sanne", "staff")


def test_the_directory_keys_organisations_as_the_document_register_does():
    assert organisation_key("  Nederland\tZorgt  Voor\nElkaar ") == "nederland-zorgt-voor-elkaar"
    assert organisation_key("STRASSE") == organisation_key("straße")
    assert organisation_key("Coöperatie Dorp & Zorg") == organisation_key("cooperatie dorp zorg")
    assert organisation_key(None) == "" == organisation_key("   ")


def test_an_entry_is_found_by_key_or_by_any_spelling_of_its_name(engine: Engine):
    with session_scope(engine) as session:
        add_entry(session, EntryData(name="Coöperatie Dorp & Zorg"), "sanne")
    with session_scope(engine) as session:
        for spelling in ("cooperatie-dorp-zorg", "COOPERATIE dorp zorg", " Coöperatie Dorp  &  Zorg "):
            entry = get_entry(session, spelling)
            assert entry is not None and entry.name == "Coöperatie Dorp & Zorg", spelling
        assert get_entry(session, "Dorp en Zorg") is None and get_entry(session, "  ") is None
        with pytest.raises(DirectoryError, match="staat al in de partnergids"):
            add_entry(session, EntryData(name="Cooperatie Dorp Zorg"))


def test_add_normalises_and_audits_in_the_same_transaction(engine: Engine):
    with session_scope(engine) as session:
        entry = add_entry(
            session,
            EntryData(
                name="  Steunpunt   Zorginitiatieven ",
                topics="Zorg, welzijn, zorg",
                website="zorg.example.org",
                email="Hulp@Zorg.example.org",
            ),
            "sanne",
        )
        assert entry.org_key == "steunpunt-zorginitiatieven" and entry.name == "Steunpunt Zorginitiatieven"
        assert entry.topics == ["zorg", "welzijn"] and entry.website == "https://zorg.example.org"
        assert entry.email == "hulp@zorg.example.org"
    with session_scope(engine) as session:
        (event,) = list_events(session)
        assert (event.action, event.doc_id, event.partner_org, event.username) == (
            "add",
            AUDIT_PREFIX + "steunpunt-zorginitiatieven",
            "Steunpunt Zorginitiatieven",
            "sanne",
        )
        assert "website" in (event.detail or "") and event.detail.startswith("Partnergids: toegevoegd")
        with pytest.raises(DirectoryError, match="staat al in de partnergids"):
            add_entry(session, EntryData(name="steunpunt ZORGINITIATIEVEN"))


def test_a_failed_transaction_keeps_neither_the_entry_nor_its_audit_entry(engine: Engine):
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        add_entry(session, SMALL_DIRECTORY[0], "sanne")
        raise RuntimeError("stroomstoring")
    with session_scope(engine) as session:
        assert list_entries(session) == [] and list_events(session) == []


def test_update_lists_changed_fields_and_audits_only_real_changes(engine: Engine):
    with session_scope(engine) as session:
        add_entry(session, SMALL_DIRECTORY[1], "sanne")
    changed_data = EntryData(
        **{**vars(SMALL_DIRECTORY[1]), "phone": "0800-9999", "kinds": ["zorgcoöperatie", "dorpshuis"]}
    )
    with session_scope(engine) as session:
        assert update_entry(session, CARE.upper(), changed_data, "piet") == ["soorten collectieven", "telefoon"]
        assert update_entry(session, CARE, changed_data, "piet") == []  # nothing changed: no audit entry
    with session_scope(engine) as session:
        entry = get_entry(session, CARE)
        assert entry is not None and entry.phone == "0800-9999" and entry.updated_at >= entry.created_at
        events = list_events(session)
        assert [e.action for e in events] == ["replace", "add"]
        assert events[0].detail == "Partnergids: gewijzigd: soorten collectieven, telefoon"
        with pytest.raises(DirectoryError, match="andere organisatie"):
            update_entry(session, CARE, EntryData(name="Iets Anders"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "heeft een naam nodig"),
        ("website", "javascript:alert(1)", "geen geldig webadres"),
        ("email", "geen-adres", "geen geldig e-mailadres"),
        ("phone", "bel ons", "geen geldig telefoonnummer"),
        ("description", "x" * 801, "beschrijving is te lang"),
        ("topics", ["a" * 41], "te lang"),
    ],
)
def test_bad_input_gets_a_dutch_error_and_stores_nothing(engine: Engine, field, value, message):
    data = EntryData(**{**vars(SMALL_DIRECTORY[0]), field: value})
    with pytest.raises(DirectoryError, match=message), session_scope(engine) as session:
        add_entry(session, data)
    with session_scope(engine) as session:
        assert list_entries(session) == [] and list_events(session) == []


def test_remove_audits_and_unknown_names_are_refused(engine: Engine):
    with session_scope(engine) as session:
        add_entry(session, SMALL_DIRECTORY[0])
        remove_entry(session, SMALL_DIRECTORY[0].name.lower(), "sanne")
        assert list_entries(session) == []
        assert [e.action for e in list_events(session)] == ["remove", "add"]
        with pytest.raises(DirectoryError, match="staat niet in de partnergids"):
            remove_entry(session, "Bestaat Niet")


def test_starter_loads_only_into_an_empty_directory(engine: Engine):
    with session_scope(engine) as session:
        assert load_starter(session, SMALL_DIRECTORY, "kb setup") == 3
        assert load_starter(session, SMALL_DIRECTORY[:1], "kb setup") == 0
        assert len(list_entries(session)) == 3


def test_the_shipped_starter_directory_is_valid_and_states_the_known_contact_routes():
    entries = {e.name: e for e in read_starter(Settings(_env_file=None).starter_directory)}
    nlzve = entries["Nederland Zorgt Voor Elkaar"]
    assert (nlzve.email, nlzve.phone, nlzve.opening_hours) == (
        "ondersteuningsteam@nlzve.nl",
        "0800-8010",
        "werkdagen 09.00–17.00",
    )
    assert "zorgcoöperatie" in nlzve.kinds
    editorial = entries[Settings(_env_file=None).default_partner]  # only what the project itself defines
    assert (editorial.website, editorial.email, editorial.phone, editorial.opening_hours) == (None,) * 4
    assert all(e.description for e in entries.values())


def test_the_starter_file_is_data_not_a_document():
    starter = PROJECT_ROOT / "knowledge_base"
    files = collect_files([starter])
    assert starter / "partners.yaml" not in files and any(f.suffix == ".md" for f in files)


def test_starter_file_errors_are_dutch(tmp_path: Path):
    bad = tmp_path / "partners.yaml"
    bad.write_text("organisations:\n  - name: X\n    telefoon: 123\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="Organisatie 1 .*Onbekend veld telefoon"):
        read_starter(bad)
    bad.write_text("organisations: [\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="geen geldige YAML"):
        read_starter(bad)
    with pytest.raises(DirectoryError, match="ontbreekt"):
        read_starter(tmp_path / "weg.yaml")


class _Record:
    def __init__(self, partner: str, title: str = "Gids", topic: str = "overig") -> None:
        self.partner, self.title, self.topic, self.doc_id = partner, title, topic, title


class _Store:
    def __init__(self, records: list[_Record]) -> None:
        self.records = records

    def list_documents(self) -> list[_Record]:
        return list(self.records)


def test_knowledge_partner_follows_from_the_documents_not_from_stored_state(engine: Engine):
    store = _Store([_Record("steunpunt  zorginitiatieven", "Zorg in de wijk")])
    service = DirectoryService(engine, store)  # type: ignore[arg-type]
    service.load_starter(SMALL_DIRECTORY)
    views = {v.name: v for v in service.entries()}
    assert views[CARE].is_knowledge_partner and views[CARE].documents == 1
    assert not views[SMALL_VILLAGES_NAME].is_knowledge_partner
    assert [d.title for d in service.documents_of(CARE)] == ["Zorg in de wijk"]
    store.records.clear()  # the documents go: the same entry is no knowledge partner any more
    assert not service.entry(CARE.lower()).is_knowledge_partner
    assert knowledge_partner_keys(["A  b", None, ""]) == {"a-b"}


SMALL_VILLAGES_NAME = SMALL_DIRECTORY[0].name


def test_only_staff_change_the_directory(engine: Engine):
    service = DirectoryService(engine)
    partner = Principal("anna", "partner", CARE)
    for change in (
        lambda p: service.add(p, SMALL_DIRECTORY[0]),
        lambda p: service.update(p, CARE, SMALL_DIRECTORY[1]),
        lambda p: service.remove(p, CARE),
    ):
        for who in (partner, Principal.anonymous()):
            with pytest.raises(PermissionDeniedError, match="Alleen medewerkers"):
                change(who)
    view = service.add(STAFF, SMALL_DIRECTORY[1])
    assert view.name == CARE and service.own_entry(partner) == view
    with session_scope(engine) as session:
        assert session.scalars(select(DirectoryEntry.org_key)).all() == [organisation_key(CARE)]
