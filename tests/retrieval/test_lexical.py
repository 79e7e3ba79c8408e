"""BM25 over chunks: ranking, Dutch analysis at work, article references, filters, and the revision cache."""

from __future__ import annotations

import numpy as np
import pytest

from kb.retrieval.lexical import LexicalIndex, LexicalIndexCache
from kb.retrieval.types import SearchFilters
from kb.store import StoredChunk


def chunk(
    chunk_id: str,
    text: str,
    section: tuple[str, ...] = (),
    *,
    title: str = "Gids",
    topic: str = "rechtsvorm",
    partner: str = "Buurtpartner",
) -> StoredChunk:
    section = section or (title,)
    return StoredChunk(
        chunk_id=chunk_id,
        doc_id=f"doc-{chunk_id}",
        text=text,
        header=" > ".join(section),
        title=title,
        source=f"{chunk_id}.md",
        partner=partner,
        topic=topic,
        section=section,
        page_start=None,
        page_end=None,
        index=0,
    )


CHUNKS = [
    chunk("stichting", "Een stichting heeft geen leden. Het bestuur van de stichting beslist.", ("Stichting",)),
    chunk("vereniging", "Een vereniging heeft leden die samen de algemene ledenvergadering vormen.", ("Vereniging",)),
    chunk(
        "vergoeding",
        "Vrijwilligers mogen een vergoeding krijgen zonder loonbelasting, tot een maximum per jaar.",
        ("Vrijwilligers",),
        topic="belasting",
        partner="Juridisch Loket",
    ),
    chunk(
        "kantine",
        "De omzet van de kantine van een sportvereniging kan vrijgesteld zijn van btw.",
        ("Btw", "Kantine"),
        topic="belasting",
        partner="Juridisch Loket",
    ),
    chunk("art226", "Een rechtspersoon met leden die gericht is op een doel.", ("Boek 2 BW", "Artikel 2:26")),
    chunk("art227", "De algemene vergadering heeft alle bevoegdheden.", ("Boek 2 BW", "Artikel 2:27")),
    chunk(
        "art5b",
        "Een instelling kan als algemeen nut beogend worden aangemerkt.",
        ("Algemene wet inzake rijksbelastingen", "Artikel 5b AWR"),
        topic="belasting",
        partner="Juridisch Loket",
    ),
    chunk(
        "art632",
        "Giften zijn aftrekbaar voor zover zij de drempel te boven gaan.",
        ("Wet inkomstenbelasting", "Art. 6.32 Wet IB 2001"),
        topic="belasting",
        partner="Juridisch Loket",
    ),
    chunk("noemt226", "Over de leden: zie ook artikel 2:26 BW in de wet.", ("Leden",)),
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex(CHUNKS)


def ids(results) -> list[str]:
    return [c.chunk_id for c, _ in results]


def test_chunk_using_the_query_words_ranks_first(index):
    results = index.search("Heeft een stichting een bestuur?", 5)
    assert ids(results)[0] == "stichting"
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_chunks_without_any_query_word_are_not_returned(index):
    results = index.search("kantine omzet", 10)
    assert ids(results) == ["kantine"]


def test_stemming_matches_other_inflections(index):
    assert ids(index.search("stichtingen", 3))[0] == "stichting"
    assert ids(index.search("verenigingen", 3))[0] == "vereniging"


def test_compound_in_query_finds_its_parts_in_the_text(index):
    # the text says "vrijwilligers ... een vergoeding"; the question uses the compound
    assert ids(index.search("Is een vrijwilligersvergoeding belast?", 3))[0] == "vergoeding"


def test_compound_in_text_is_found_by_its_parts(index):
    # "ledenvergadering" in the text is indexed with "leden" and "vergadering" as well
    scores = index.scores("vergadering")
    by_id = {c.chunk_id: s for c, s in zip(index.chunks, scores, strict=True)}
    assert by_id["vereniging"] > 0


def test_heading_words_are_searchable(index):
    # "Kantine" and "Btw" appear in the chunk's header; "sportvereniging" only in its text
    assert ids(index.search("btw", 3)) == ["kantine"]


def test_query_of_only_stop_words_scores_nothing(index):
    scores = index.scores("wat moeten wij daarmee doen")
    assert scores.shape == (len(CHUNKS),) and not scores.any()
    assert index.search("wat moeten wij daarmee doen", 5) == []
    assert index.search("xylofoon", 5) == []  # an unknown word likewise


def test_article_reference_is_matched_exactly(index):
    # "2:26" in a heading or in the text beats "2:27", which shares only "artikel" and "2"
    top = ids(index.search("Wat staat er in artikel 2:26?", 5))
    assert set(top[:2]) == {"art226", "noemt226"}
    assert top[2] == "art227"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wat zegt art. 2:26 BW?", ["art226"]),
        ("Wat regelt artikel 5b AWR?", ["art5b"]),
        ("Hoe werkt art. 6.32 Wet IB 2001?", ["art632"]),
        ("Geldt 2:27 ook voor ons?", ["art227"]),
        ("artikel 2:26 en artikel 2:27", ["art226", "art227"]),
        ("Wat is een vereniging?", []),
        ("Wat zegt artikel 2:28?", []),
    ],
)
def test_referenced_finds_chunks_whose_heading_names_the_article(index, question, expected):
    # "noemt226" mentions 2:26 in its text only: a heading is needed to be *the* article
    assert [c.chunk_id for c in index.referenced(question)] == expected


def test_referenced_respects_filters(index):
    assert [c.chunk_id for c in index.referenced("art. 5b AWR", SearchFilters(topic="belasting"))] == ["art5b"]
    assert index.referenced("art. 5b AWR", SearchFilters(topic="rechtsvorm")) == []
    assert index.referenced("art. 5b AWR", SearchFilters(partner="Buurtpartner")) == []


def test_mask_by_topic_and_case_insensitive_partner(index):
    assert index.mask(SearchFilters()).all()
    topic = index.mask(SearchFilters(topic="belasting"))
    assert {c.chunk_id for c, keep in zip(CHUNKS, topic, strict=True) if keep} == {
        "vergoeding",
        "kantine",
        "art5b",
        "art632",
    }
    partner = index.mask(SearchFilters(partner="juridisch loket"))
    assert np.array_equal(partner, topic)
    both = index.mask(SearchFilters(topic="rechtsvorm", partner="Juridisch Loket"))
    assert not both.any()


def test_search_respects_filters(index):
    query = "leden van een vereniging"
    assert "vereniging" in ids(index.search(query, 10))
    assert index.search(query, 10, SearchFilters(topic="belasting")) == []
    filtered = index.search("vereniging btw vergoeding", 10, SearchFilters(partner="JURIDISCH LOKET"))
    assert filtered and all(c.partner == "Juridisch Loket" for c, _ in filtered)


def test_search_returns_at_most_n(index):
    assert len(index.search("leden", 2)) == 2
    assert len(index.search("leden", 10)) > 2


def test_empty_index():
    empty = LexicalIndex([])
    assert empty.scores("vereniging").shape == (0,)
    assert empty.search("vereniging", 5) == []
    assert empty.referenced("artikel 2:26") == []


VERENIGING = """---
title: "Vereniging"
topic: rechtsvorm
partner: "Buurtpartner"
---
# Vereniging

Een vereniging heeft leden en een bestuur.
"""

KANTINE = """---
title: "Kantine"
topic: belasting
partner: "Juridisch Loket"
---
# Kantine

De omzet van de kantine kan vrijgesteld zijn van btw.
"""


def test_cache_reuses_the_index_until_the_store_changes(store, ingest):
    ingest({"vereniging.md": VERENIGING})
    cache = LexicalIndexCache(store)
    first = cache.get()
    assert [c.title for c in first.chunks] == ["Vereniging"]
    assert cache.get() is first  # same revision: no rebuild
    assert first.search("kantine", 5) == []

    ingest({"kantine.md": KANTINE})
    second = cache.get()
    assert second is not first
    assert [c.title for c, _ in second.search("kantine omzet", 5)] == ["Kantine"]

    doc_id = next(c.doc_id for c in second.chunks if c.title == "Kantine")
    assert store.remove_document(doc_id)
    third = cache.get()
    assert third is not second and third.search("kantine", 5) == []
