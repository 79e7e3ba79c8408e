"""What a search returns: filters as a Chroma ``where`` clause, and hits as plain dictionaries."""

from __future__ import annotations

import json

from kb.retrieval.types import Hit, SearchFilters
from kb.store import StoredChunk


def test_no_filters_means_no_where_clause():
    assert SearchFilters().chroma_where() is None
    assert SearchFilters(topic="", partner="").chroma_where() is None


def test_one_filter_is_a_plain_clause():
    assert SearchFilters(topic="belasting").chroma_where() == {"topic": "belasting"}
    assert SearchFilters(partner="Buurtpartner").chroma_where() == {"partner": "Buurtpartner"}


def test_two_filters_are_combined_with_and():
    where = SearchFilters(topic="rechtsvorm", partner="Buurtpartner").chroma_where()
    assert where == {"$and": [{"topic": "rechtsvorm"}, {"partner": "Buurtpartner"}]}


def test_hit_to_dict_is_json_ready():
    chunk = StoredChunk(
        chunk_id="buurtpartner--vereniging-md::abc::00002",
        doc_id="buurtpartner--vereniging-md",
        text="Een vereniging heeft leden.",
        header="Vereniging > Leden",
        title="Vereniging",
        source="vereniging.md",
        partner="Buurtpartner",
        topic="rechtsvorm",
        section=("Vereniging", "Leden"),
        page_start=3,
        page_end=4,
        index=2,
    )
    hit = Hit(rank=1, score=1.23456789, chunk=chunk, signals={"dense": 0.5123456789, "fused": 1.23456789})
    data = hit.to_dict()
    assert data == {
        "rank": 1,
        "score": 1.234568,
        "doc_id": "buurtpartner--vereniging-md",
        "chunk_id": "buurtpartner--vereniging-md::abc::00002",
        "source": "vereniging.md",
        "title": "Vereniging",
        "partner": "Buurtpartner",
        "topic": "rechtsvorm",
        "section": ["Vereniging", "Leden"],
        "page": 3,
        "page_end": 4,
        "text": "Een vereniging heeft leden.",
        "signals": {"dense": 0.512346, "fused": 1.234568},
    }
    assert json.loads(json.dumps(data)) == data
