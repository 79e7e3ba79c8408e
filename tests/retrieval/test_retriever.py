"""The retriever over a real store: modes, article references, diversity, the glossary, filters."""

from __future__ import annotations

import pytest

from ingest.pipeline import IngestPipeline
from kb.retrieval.question_pool import read_questions
from kb.retrieval.retriever import Retriever
from kb.retrieval.types import SearchFilters
from kb.store import KnowledgeStore

VERENIGING = """---
title: "Een vereniging oprichten"
topic: rechtsvorm
partner: "Buurtpartner"
---
# Een vereniging oprichten

## Notaris

Voor een vereniging met volledige rechtsbevoegdheid gaat het bestuur naar de notaris. De notaris legt de statuten vast in een akte.

## Leden

Volgens artikel 2:26 BW heeft een vereniging leden. De leden van de vereniging vormen samen de algemene ledenvergadering en kiezen het bestuur van de vereniging.
"""

STICHTING = """---
title: "Stichting"
topic: rechtsvorm
partner: "Juridisch Loket"
---
# Stichting

## Geen leden

Een stichting heeft geen leden. Het bestuur van de stichting beslist over het geld van de stichting.
"""

KANTINE = """---
title: "Btw en de kantine"
topic: belasting
partner: "Juridisch Loket"
---
# Btw en de kantine

## Kantine

De omzet van de kantine van een sportvereniging kan vrijgesteld zijn van btw.
"""

WETTEN = """---
title: "Wetteksten"
topic: overig
partner: "Juridisch Loket"
---
# Wetteksten

## Artikel 2:26 BW

De rechtspersoon heeft een doel dat in de akte staat.

## Artikel 5b AWR

Een instelling kan als algemeen nut beogende instelling worden aangemerkt.

## Artikel 6.32 Wet IB 2001

Giften zijn aftrekbaar voor zover zij de drempel te boven gaan.
"""

BEGRIPPEN = """---
title: "Begrippenlijst"
topic: overig
partner: "SamenWeten redactie"
---
# Begrippenlijst

## Vereniging

Ook wel: clubje, club met leden

Een vereniging is een rechtspersoon met leden.

## ANBI

Ook wel: goed doel

Een ANBI is een algemeen nut beogende instelling.
"""

DOCS = {
    "vereniging.md": VERENIGING,
    "stichting.md": STICHTING,
    "kantine.md": KANTINE,
    "wetten.md": WETTEN,
    "begrippenlijst.md": BEGRIPPEN,
}


def _no_model():
    raise AssertionError("the embedding model must not be loaded")


@pytest.fixture
def kb(ingest):
    """The small knowledge base in a store of this test's own (for a test that changes it)."""
    return ingest(DOCS)


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory, settings_under, make_hashing_embedder):
    """The small knowledge base, ingested once for this module: the tests below only read it (building it for
    each of them cost 0.2 s a test). Teardown checks that no test changed it."""
    root = tmp_path_factory.mktemp("retriever-kb")
    settings = settings_under(root)
    folder = root / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    store = KnowledgeStore(settings)
    embedder = make_hashing_embedder()
    report = IngestPipeline(store, lambda: embedder, settings).ingest_paths([folder])
    assert report.ok, [r.error for r in report.failed]
    revision = store.revision()
    yield store
    assert store.revision() == revision, "a test changed the shared knowledge base: give it `kb` instead"


def _retriever(store, settings, hashing_embedder, embedder=None, **overrides) -> Retriever:
    return Retriever(store, embedder or (lambda: hashing_embedder), settings.model_copy(update=overrides))


@pytest.fixture
def make_retriever(shared_kb, settings, hashing_embedder):
    """A retriever over the small knowledge base, with settings overrides (``retrieval_mode="lexical"``)."""

    def _make(embedder=None, **overrides) -> Retriever:
        return _retriever(shared_kb, settings, hashing_embedder, embedder, **overrides)

    return _make


def titles(hits) -> list[str]:
    return [h.chunk.title for h in hits]


def sections(hits) -> list[tuple[str, ...]]:
    return [h.chunk.section for h in hits]


def test_empty_query_returns_nothing(make_retriever):
    retriever = make_retriever(embedder=_no_model, retrieval_mode="hybrid")
    assert retriever.search("") == []
    assert retriever.search("   \n") == []


def test_dense_mode_ranks_by_cosine_similarity(make_retriever):
    hits = make_retriever(retrieval_mode="dense", lexical_blend=0.0, guide_bridge=0.0, hubness_weight=0.0).search(
        "Wie beslist over het geld van een stichting?", 4
    )
    assert sections(hits)[0] == ("Stichting", "Geen leden")
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    for h in hits:
        assert set(h.signals) == {"fused", "dense"} and h.score == pytest.approx(h.signals["dense"])
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_dense_mode_returns_k_hits_even_without_shared_words(make_retriever):
    assert len(make_retriever(retrieval_mode="dense").search("xylofoon", 3)) == 3


def test_lexical_mode_needs_no_embedding_model(make_retriever):
    retriever = make_retriever(embedder=_no_model, retrieval_mode="lexical")
    hits = retriever.search("Hoe zit het met de omzet van de kantine?", 5)
    assert titles(hits) == ["Btw en de kantine"]  # only chunks that share a word with the question
    assert set(hits[0].signals) == {"fused", "lexical"}
    assert hits[0].score == pytest.approx(hits[0].signals["lexical"]) and hits[0].score > 0
    assert retriever.search("xylofoon", 5) == []


def test_hybrid_mode_fuses_both_rankings(make_retriever, settings):
    hits = make_retriever(retrieval_mode="hybrid").search("btw over de omzet van de kantine", 3)
    top = hits[0]
    assert top.chunk.title == "Btw en de kantine"
    assert set(top.signals) == {"fused", "dense", "lexical"}
    # first in both rankings: reciprocal-rank fusion of rank 1 and rank 1
    expected = settings.dense_weight / (settings.rrf_k + 1) + settings.lexical_weight / (settings.rrf_k + 1)
    assert top.score == pytest.approx(expected)


def test_hybrid_without_lexical_weight_follows_the_dense_order(make_retriever):
    query = "Wie kiest het bestuur van een vereniging?"
    dense = make_retriever(retrieval_mode="dense").search(query, 4)
    hybrid = make_retriever(retrieval_mode="hybrid", lexical_weight=0.0).search(query, 4)
    assert [h.chunk.chunk_id for h in hybrid] == [h.chunk.chunk_id for h in dense]


ARTICLE_QUESTION = "Wat zegt artikel 2:26 over de leden van een vereniging en het bestuur?"


@pytest.mark.parametrize(
    "mode",
    [
        "dense",
        "hybrid",
        "lexical",
    ],
)
def test_article_named_in_the_question_comes_first(make_retriever, mode):
    hits = make_retriever(retrieval_mode=mode).search(ARTICLE_QUESTION, 3)
    assert sections(hits)[0] == ("Wetteksten", "Artikel 2:26 BW")
    # the guide that cites the article is still found
    assert ("Een vereniging oprichten", "Leden") in sections(hits)


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("Wat regelt art. 5b AWR?", "Artikel 5b AWR"),
        ("Hoe werkt art. 6.32 Wet IB 2001 voor onze donateurs?", "Artikel 6.32 Wet IB 2001"),
        ("Geldt 2:26 ook voor een buurtclub?", "Artikel 2:26 BW"),
    ],
)
def test_article_reference_formats(make_retriever, question, section):
    hits = make_retriever(retrieval_mode="dense").search(question, 3)
    assert sections(hits)[0] == ("Wetteksten", section)


def test_article_reference_respects_filters(make_retriever):
    hits = make_retriever(retrieval_mode="dense").search(ARTICLE_QUESTION, 3, SearchFilters(topic="rechtsvorm"))
    assert hits and "Wetteksten" not in titles(hits)
    assert all(h.chunk.topic == "rechtsvorm" for h in hits)


def test_k_defaults_to_top_k(make_retriever):
    assert len(make_retriever(retrieval_mode="dense", top_k=2).search("vereniging")) == 2
    assert len(make_retriever(retrieval_mode="dense", top_k=2).search("vereniging", 4)) == 4


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (SearchFilters(topic="belasting"), lambda c: c.topic == "belasting"),
        (SearchFilters(partner="Juridisch Loket"), lambda c: c.partner == "Juridisch Loket"),
        (SearchFilters(topic="rechtsvorm", partner="Juridisch Loket"), lambda c: c.title == "Stichting"),
    ],
)
def test_topic_and_partner_filters(make_retriever, mode, filters, allowed):
    hits = make_retriever(retrieval_mode=mode).search("bestuur van de stichting en btw over de kantine", 5, filters)
    assert hits and all(allowed(h.chunk) for h in hits)


@pytest.mark.parametrize(
    "mode",
    [
        "dense",
        "lexical",
    ],
)
def test_partner_filter_ignores_case(make_retriever, mode):
    retriever = make_retriever(retrieval_mode=mode)
    query = "bestuur van de stichting"
    exact = retriever.search(query, 5, SearchFilters(partner="Juridisch Loket"))
    lower = retriever.search(query, 5, SearchFilters(partner="juridisch loket"))
    assert exact and [h.chunk.chunk_id for h in lower] == [h.chunk.chunk_id for h in exact]


def test_glossary_hidden_unless_definition_question(make_retriever):
    retriever = make_retriever(retrieval_mode="dense")  # glossary_in_results="definitions" is the default
    assert retriever.settings.glossary_in_results == "definitions"
    everything = 20  # more than the number of chunks: only the filter can keep a chunk out
    assert "Begrippenlijst" not in titles(retriever.search("Hoe richt ik een vereniging op?", everything))
    assert "Begrippenlijst" in titles(retriever.search("Wat betekent ANBI?", everything))


def test_glossary_in_results_always_and_never(make_retriever):
    everything = 20
    always = make_retriever(retrieval_mode="dense", glossary_in_results="always")
    assert "Begrippenlijst" in titles(always.search("Hoe richt ik een vereniging op?", everything))
    never = make_retriever(retrieval_mode="dense", glossary_in_results="never")
    assert "Begrippenlijst" not in titles(never.search("Wat betekent ANBI?", everything))


def test_glossary_expansion_finds_the_legal_term(make_retriever):
    retriever = make_retriever(embedder=_no_model, retrieval_mode="lexical")
    query = "Hoe richt ik een clubje op?"
    assert retriever.expand(query) == "Hoe richt ik een clubje op? (Vereniging)"
    hits = retriever.search(query, 3)
    assert hits and hits[0].chunk.title == "Een vereniging oprichten"
    assert "Begrippenlijst" not in titles(hits)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_the_embedding_model_gets_the_question_as_asked(make_retriever, hashing_embedder, mode):
    """Glossary terms feed word matching only: appended to the embedded question they measured as noise."""
    embedded: list[str] = []

    class Recording:
        def encode_queries(self, texts):
            embedded.extend(texts)
            return hashing_embedder.encode_queries(texts)

    retriever = make_retriever(embedder=lambda: Recording(), retrieval_mode=mode)
    retriever.search("Hoe richt ik een clubje op?", 3)
    # the hubness correction's example questions are embedded too (once), as they stand in their file
    pool = set(read_questions(retriever.settings.hubness_pool)) if retriever.settings.hubness_pool else set()
    assert [t for t in embedded if t not in pool] == ["Hoe richt ik een clubje op?"]


def test_without_expansion_the_lay_word_finds_only_the_glossary(make_retriever):
    retriever = make_retriever(embedder=_no_model, retrieval_mode="lexical", glossary_expansion=False)
    query = "Hoe richt ik een clubje op?"
    assert retriever.expand(query) == query
    # only the glossary knows "clubje"; with nothing else left, the glossary is returned rather than nothing
    assert titles(retriever.search(query, 3)) == ["Begrippenlijst"]


def test_retriever_sees_documents_added_later(kb, ingest, settings, hashing_embedder):
    retriever = _retriever(kb, settings, hashing_embedder, embedder=_no_model, retrieval_mode="lexical")
    assert retriever.search("Hoe vraag ik een subsidie aan?", 3) == []
    assert retriever.expand("Krijgen we gemeentegeld?") == "Krijgen we gemeentegeld?"
    ingest(
        {
            "subsidie.md": '---\ntitle: "Subsidie aanvragen"\ntopic: financiering\n---\n# Subsidie aanvragen\n\n'
            "Een subsidie vraag je aan bij de gemeente, ruim voor het begin van het project.\n",
            "begrippenlijst.md": BEGRIPPEN + "\n## Subsidie\n\nOok wel: gemeentegeld\n\nGeld van de overheid.\n",
        }
    )
    assert titles(retriever.search("Hoe vraag ik een subsidie aan?", 3))[0] == "Subsidie aanvragen"
    assert retriever.expand("Krijgen we gemeentegeld?") == "Krijgen we gemeentegeld? (Subsidie)"


VERGOEDING = """---
title: "Vrijwilligers"
topic: belasting
---
# Vrijwilligers

## Vergoeding

Een vergoeding voor vrijwilligers is onbelast tot een maximum per maand. De vergoeding voor vrijwilligers is geen loon.

Vrijwilligers met een vergoeding mogen niet meer krijgen dan het maximum per jaar. Daarboven is de vergoeding belast.

Houd bij welke vrijwilligers een vergoeding krijgen en hoe hoog de vergoeding voor vrijwilligers per maand is.

## Verzekering

Vrijwilligers zijn vaak verzekerd via de gemeente.
"""

BEGROTING = """---
title: "Begroting"
topic: financiering
---
# Begroting

Zet de vergoeding voor vrijwilligers op de begroting.
"""


@pytest.fixture
def long_section(ingest, settings, hashing_embedder):
    """A section split over three chunks (small chunk size), plus two other sections on the same subject."""
    small = settings.model_copy(update={"chunk_size": 200, "chunk_overlap": 0})
    store = ingest({"vrijwilligers.md": VERGOEDING, "begroting.md": BEGROTING}, small)
    assert len([c for c in store.iter_chunks() if c.section == ("Vrijwilligers", "Vergoeding")]) == 3

    def _make(**overrides) -> Retriever:
        update = {"retrieval_mode": "dense", **overrides}
        return Retriever(store, lambda: hashing_embedder, settings.model_copy(update=update))

    return _make


QUERY = "vergoeding voor vrijwilligers per maand"
LONG = ("Vrijwilligers", "Vergoeding")


def test_long_section_dominates_without_the_diversity_rule(long_section):
    hits = long_section(max_per_section=3).search(QUERY, 3)
    assert sections(hits) == [LONG, LONG, LONG]


def test_at_most_max_per_section_chunks_of_one_section(long_section):
    hits = long_section(max_per_section=1).search(QUERY, 3)
    assert sections(hits)[0] == LONG
    assert sorted(sections(hits)[1:]) == [("Begroting",), ("Vrijwilligers", "Verzekering")]
    two = long_section(max_per_section=2).search(QUERY, 3)
    assert sections(two)[:2] == [LONG, LONG] and sections(two)[2] != LONG


def test_held_back_chunks_fill_up_when_too_few_remain(long_section):
    hits = long_section(max_per_section=1).search(QUERY, 5)
    assert len(hits) == 5 and [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert sections(hits)[3:] == [LONG, LONG]  # the held-back chunks come last
    assert len({h.chunk.chunk_id for h in hits}) == 5


# ------------------------------------------------------------------------------------------ blends and the bridge
GIDS = """---
title: "Lid worden en opzeggen"
topic: rechtsvorm
partner: "SamenWeten redactie"
sources:
  - "art. 2:36 BW"
---
# Lid worden en opzeggen

## Hoe zeg je je lidmaatschap op?

Een lid kan opzeggen tegen het einde van het boekjaar met een opzegtermijn van vier weken (art. 2:36 lid 1 BW).
"""

BW = """---
title: "Burgerlijk Wetboek Boek 2"
topic: rechtsvorm
partner: "Wetgeving"
---
# Burgerlijk Wetboek Boek 2

## art. 2:36 BW – Opzegging

1. Opzegging van het lidmaatschap door het lid kan slechts geschieden tegen het einde van een verenigingsjaar.

## art. 2:14 BW – Nietige besluiten

1. Een besluit van een orgaan van een rechtspersoon dat in strijd is met de wet of de statuten, is nietig.
"""


def test_guide_bridge_lifts_the_cited_article_towards_the_matching_guide(ingest, settings, hashing_embedder):
    store = ingest({"gids.md": GIDS, "bw.md": BW, **DOCS})
    question = "Hoe kan ik stoppen als lid van onze club?"
    plain = Retriever(store, lambda: hashing_embedder, settings).search(question, 8)
    bridged = Retriever(store, lambda: hashing_embedder, settings.model_copy(update={"guide_bridge": 1.0})).search(
        question, 8
    )

    def position(hits, heading):
        return next((h.rank for h in hits if h.chunk.section[-1] == heading), 99)

    guide = position(bridged, "Hoe zeg je je lidmaatschap op?")
    assert guide <= 2
    assert position(bridged, "art. 2:36 BW – Opzegging") <= guide + 1
    assert position(bridged, "art. 2:36 BW – Opzegging") <= position(plain, "art. 2:36 BW – Opzegging")
    # the uncited article is not lifted
    assert position(bridged, "art. 2:14 BW – Nietige besluiten") >= position(plain, "art. 2:14 BW – Nietige besluiten")


def test_lexical_and_document_blends_add_to_the_dense_score(make_retriever):
    question = "Wie beslist over het geld van een stichting?"
    dense = make_retriever().search(question, 4)
    blended = make_retriever(lexical_blend=0.2, document_blend=0.25).search(question, 4)
    assert sections(blended)[0] == ("Stichting", "Geen leden")
    assert blended[0].score > dense[0].score  # BM25 and the document aggregate added


def test_hubness_correction_marks_down_the_chunk_near_the_pool_questions(make_retriever, tmp_path):
    """A pool of questions about the foundation's money makes that section a hub: its score drops by
    weight · its mean similarity to the nearest pool questions, and the pool is embedded once (cached)."""
    pool = tmp_path / "pool.txt"
    pool.write_text("Wie beslist over het geld van een stichting?\nHeeft een stichting leden?\n", encoding="utf-8")
    query = "Wie beslist over het geld van een stichting?"
    off = make_retriever(retrieval_mode="dense", lexical_blend=0.0, guide_bridge=0.0, hubness_weight=0.0)
    on = make_retriever(
        retrieval_mode="dense", lexical_blend=0.0, guide_bridge=0.0, hubness_weight=1.0, hubness_k=1, hubness_pool=pool
    )
    before = {h.chunk.chunk_id: h.score for h in off.search(query, 50)}  # every chunk: the same set
    hits = on.search(query, 50)
    after = {h.chunk.chunk_id: h.score for h in hits}
    corr = on.hubness()
    assert corr is not None and len(corr) == 2
    for h in hits:  # support staff see what the correction took off
        assert h.signals["hubness"] == pytest.approx(-corr.penalty(h.chunk.chunk_id))
    for cid, score in after.items():
        assert score == pytest.approx(before[cid] - corr.penalty(cid), abs=1e-5)
    top = max(before, key=lambda c: before[c])
    assert corr.penalty(top) == pytest.approx(before[top], abs=1e-4)  # its nearest pool question is the query
    assert list(tmp_path.glob("data/vector-cache/question-pool-*.npy")) or not on.settings.vector_cache


def test_hubness_correction_without_a_pool_changes_nothing(make_retriever, tmp_path):
    query = "Wie beslist over het geld van een stichting?"
    off = make_retriever(retrieval_mode="dense", hubness_weight=0.0)
    missing = make_retriever(retrieval_mode="dense", hubness_weight=1.0, hubness_pool=tmp_path / "geen.jsonl")
    assert missing.hubness() is None
    assert [h.score for h in missing.search(query, 4)] == pytest.approx([h.score for h in off.search(query, 4)])
