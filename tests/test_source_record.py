"""kb.source_record: one source record, serialised for JSON, the database and the CSV export."""

from __future__ import annotations

import numpy as np

from kb.answering.types import Citation
from kb.db.history import CITATION_KEYS, SOURCE_KEYS, _sources_text
from kb.retrieval.types import Hit
from kb.source_record import SourceRecord
from kb.store import StoredChunk

CHUNK = StoredChunk(
    chunk_id="gids--stichting:3",
    doc_id="gids--stichting",
    text="Het bestuur beslist.",
    header="Gids > Bestuur",
    title="Gids stichting",
    source="stichting.pdf",
    partner="Steunpunt",
    topic="rechtsvorm",
    section=("Bestuur", "Taken"),
    page_start=4,
    page_end=5,
    index=3,
    url="https://example.org/gids",
)
HIT = Hit(rank=2, score=np.float32(0.8123456789), chunk=CHUNK, signals={"dense": np.float64(0.51234567)})


def test_json_carries_every_field_with_the_path_as_a_list():
    assert SourceRecord.from_hit(HIT).to_json() == {
        "rank": 2,
        "score": 0.812346,
        "doc_id": "gids--stichting",
        "chunk_id": "gids--stichting:3",
        "source": "stichting.pdf",
        "title": "Gids stichting",
        "partner": "Steunpunt",
        "topic": "rechtsvorm",
        "section": ["Bestuur", "Taken"],
        "page": 4,
        "page_end": 5,
        "text": "Het bestuur beslist.",
        "signals": {"dense": 0.512346},
    }
    assert HIT.to_dict() == SourceRecord.from_hit(HIT).to_json()  # kb search --json, kb serve, LangChain


def test_database_record_is_json_safe_and_reads_back():
    stored = SourceRecord.from_hit(HIT).to_db()
    assert stored == {
        "doc_id": "gids--stichting",
        "chunk_id": "gids--stichting:3",
        "title": "Gids stichting",
        "section": "Bestuur > Taken",
        "score": float(np.float32(0.8123456789)),
        "rank": 2,
    }
    assert tuple(stored) == SOURCE_KEYS and all(type(v) in (str, int, float) for v in stored.values())
    back = SourceRecord.from_db(stored)
    assert (back.doc_id, back.section, back.rank, back.score) == (
        "gids--stichting",
        ("Bestuur", "Taken"),
        2,
        stored["score"],
    )
    assert back.to_db() == stored


def test_an_incomplete_stored_record_reads_as_empty_fields():
    record = SourceRecord.from_db({"doc_id": "d"})
    assert (record.title, record.section, record.rank, record.score) == ("", (), None, None)


def test_csv_cell_names_title_and_path():
    assert SourceRecord.from_hit(HIT).to_csv_cell() == "Gids stichting — Bestuur > Taken"
    assert SourceRecord.from_db({"doc_id": "d"}).to_csv_cell() == "d"
    assert SourceRecord.from_db({}).to_csv_cell() == "?"
    stored = [SourceRecord.from_hit(HIT).to_db(), {"doc_id": "d", "section": ""}]
    assert _sources_text(stored) == "Gids stichting — Bestuur > Taken | d"


def test_a_citation_is_the_source_with_its_number_and_quote():
    citation = Citation(1, HIT, "Het bestuur beslist.", supported=True)
    assert citation.to_dict() == {
        "n": 1,
        "doc_id": "gids--stichting",
        "chunk_id": "gids--stichting:3",
        "source": "stichting.pdf",
        "title": "Gids stichting",
        "partner": "Steunpunt",
        "section": ["Bestuur", "Taken"],
        "page": 4,
        "url": "https://example.org/gids",
        "quote": "Het bestuur beslist.",
        "supported": True,
    }
    assert citation.to_db() == {
        "n": 1,
        "doc_id": "gids--stichting",
        "chunk_id": "gids--stichting:3",
        "section": "Bestuur > Taken",
        "quote": "Het bestuur beslist.",
    }
    assert tuple(citation.to_db()) == CITATION_KEYS
