"""The glossary: parsing "## Term" + "Ook wel: …", expanding lay words to legal terms, definition questions."""

from __future__ import annotations

import pytest

from kb.retrieval.glossary import (
    GlossaryEntry,
    QueryExpander,
    is_definition_question,
    is_glossary,
    parse_glossary,
)
from kb.store import DocumentRecord

GLOSSARY_MD = """---
title: "Begrippenlijst"
topic: overig
glossary: true
---
# Begrippenlijst

Deze lijst legt juridische woorden uit in gewone taal.

## Vereniging

Ook wel: club met leden, clubje, buurtvereniging

Een vereniging is een rechtspersoon met leden (art. 2:26 BW).

## Coöperatie

Ook wel: coop, coöperatieve vereniging.

Een coöperatie is een vereniging die overeenkomsten sluit met haar leden.

### ANBI
Synoniemen: goed doel; , algemeen nut beogende instelling;

Een ANBI is een instelling die zich voor het algemeen nut inzet.

## Statuten

De statuten zijn de regels van de organisatie; hier staan geen synoniemen bij.
"""

ENTRIES = [
    GlossaryEntry("Vereniging", ("club met leden", "clubje", "buurtvereniging")),
    GlossaryEntry("Coöperatie", ("coop", "coöperatieve vereniging")),
    GlossaryEntry("ANBI", ("goed doel", "algemeen nut beogende instelling")),
]


def test_parse_markdown_glossary():
    assert parse_glossary(GLOSSARY_MD) == ENTRIES


def test_parse_extracted_text_without_heading_marks():
    # what the store keeps of a Markdown file: the headings as plain lines, paragraphs split by blank lines
    extracted = (
        "Begrippenlijst\n\nDeze lijst legt juridische woorden uit.\n\n"
        "Vereniging\n\nOok wel: club met leden, clubje, buurtvereniging\n\nEen vereniging heeft leden.\n\n"
        "Coöperatie\n\nook wel : coop, coöperatieve vereniging.\n\nEen coöperatie sluit overeenkomsten.\n\n"
        "ANBI\nSynoniemen: goed doel, algemeen nut beogende instelling"
    )
    assert parse_glossary(extracted) == ENTRIES


def test_heading_without_synonyms_and_h1_give_no_entry():
    entries = parse_glossary("# Begrippenlijst\n\n## Statuten\n\nDe regels van de vereniging.\n")
    assert entries == []


def test_ook_line_under_a_heading_belongs_to_that_heading_only():
    text = "## Bestuur\n\nOok: dagelijks bestuur, DB\n\nHet bestuur leidt.\n\n## Kascommissie\n\nOok wel: kascontrole\n"
    assert parse_glossary(text) == [
        GlossaryEntry("Bestuur", ("dagelijks bestuur", "DB")),
        GlossaryEntry("Kascommissie", ("kascontrole",)),
    ]


def _record(title: str, extra: dict | None = None) -> DocumentRecord:
    return DocumentRecord(
        doc_id="x",
        source="x.md",
        title=title,
        partner="SamenWeten redactie",
        topic="overig",
        language="nl",
        ingested_at="2026-01-01T00:00:00+00:00",
        sha256="0" * 64,
        kind="markdown",
        extra=extra or {},
    )


def test_is_glossary_by_front_matter_flag_or_title():
    assert is_glossary(_record("Woordenlijst", {"glossary": True}))
    assert is_glossary(_record("Begrippenlijst: gewone woorden en juridische termen"))
    assert is_glossary(_record("BEGRIPPENLIJST"))
    assert not is_glossary(_record("Woordenlijst", {"glossary": False}))
    assert not is_glossary(_record("Een vereniging oprichten", {"last_reviewed": "2026-11-26"}))
    assert not is_glossary(_record("Over de begrippenlijst"))


@pytest.fixture
def expander() -> QueryExpander:
    return QueryExpander(
        ENTRIES
        + [
            GlossaryEntry("Btw", ("BTW", "omzetbelasting")),
            GlossaryEntry("Notariële akte", ("akte van de notaris", "officiële akte")),
            GlossaryEntry("VOG", ("verklaring omtrent het gedrag",)),
        ]
    )


def test_lay_synonym_expands_to_the_legal_term(expander):
    assert expander.expansions("Hoe richten we een clubje op?") == ["Vereniging"]
    assert expander.expand("Hoe richten we een clubje op?") == "Hoe richten we een clubje op? (Vereniging)"
    query = "Wij zijn een Club met Leden, wat nu?"
    assert expander.expand(query) == f"{query} (Vereniging)"


def test_no_expansion_when_the_term_is_already_in_the_query(expander):
    query = "Is een clubje altijd een vereniging?"
    assert expander.expansions(query) == []
    assert expander.expand(query) == query


def test_no_expansion_without_a_synonym(expander):
    query = "Hoe vraag ik subsidie aan bij de gemeente?"
    assert expander.expand(query) == query


def test_synonyms_match_whole_words_only(expander):
    assert expander.expansions("Hoeveel clubjes zijn er?") == []  # 'clubje' inside 'clubjes'
    assert expander.expansions("Een cooperatieve bakkerij") == []  # only the full synonym counts
    assert expander.expansions("Een koffiecoop in de wijk") == []  # 'coop' inside another word


def test_accents_are_ignored_when_matching(expander):
    assert expander.expansions("Hebben wij een officiele akte nodig?") == ["Notariële akte"]
    assert expander.expansions("Hebben wij een OFFICIËLE akte nodig?") == ["Notariële akte"]
    assert expander.expansions("Wat kost lid worden van de coop?") == ["Coöperatie"]
    # the term is recognised in the query with or without its accents
    assert expander.expansions("Is een notariele akte van de notaris nodig?") == []


def test_term_inside_another_word_does_not_block_the_expansion(expander):
    query = "Heeft de vrijwilliger van de vogelwacht een verklaring omtrent het gedrag nodig?"
    assert expander.expansions(query) == ["VOG"]


def test_several_terms_are_added_once_each(expander):
    query = "Kan een clubje of club met leden een goed doel zijn?"
    assert expander.expansions(query) == ["Vereniging", "ANBI"]
    assert expander.expand(query) == f"{query} (Vereniging; ANBI)"


def test_synonym_equal_to_the_term_is_not_a_pattern(expander):
    assert len(QueryExpander([GlossaryEntry("Btw", ("BTW", "btw", "x"))])) == 0  # same word, or too short
    assert expander.expansions("Moeten wij btw betalen?") == []
    assert expander.expansions("Moeten wij omzetbelasting betalen?") == ["Btw"]


def test_empty_expander_leaves_queries_alone():
    empty = QueryExpander([])
    assert len(empty) == 0 and empty.expand("clubje") == "clubje"


def test_from_store_reads_only_glossary_documents(store, ingest):
    ingest(
        {
            "begrippen.md": GLOSSARY_MD.replace('title: "Begrippenlijst"', 'title: "Woorden"'),  # flag only
            "vereniging.md": '---\ntitle: "Vereniging"\ntopic: rechtsvorm\n---\n# Vereniging\n\n'
            "## Leden\n\nOok wel: dit is geen begrippenlijst\n\nEen vereniging heeft leden.\n",
        }
    )
    expander = QueryExpander.from_store(store)
    glossary_ids = {r.doc_id for r in store.list_documents() if r.title == "Woorden"}
    assert expander.doc_ids == frozenset(glossary_ids) and len(glossary_ids) == 1
    assert expander.expand("Wat kost een clubje?") == "Wat kost een clubje? (Vereniging)"
    assert expander.expansions("dit is geen begrippenlijst") == []  # the guide's line is no glossary entry


@pytest.mark.parametrize(
    "question",
    [
        "Wat is een ALV?",
        "Wat betekent ANBI?",
        "wat zijn statuten",
        "Wat houdt decharge in?",
        "Wat bedoelt men met een batig saldo?",
        "Wat wordt er bedoeld met quorum?",
        "Wat verstaat u onder een rechtspersoon?",
        "Kun je de betekenis van UBO uitleggen?",
        "Geef de definitie van een coöperatie",
    ],
)
def test_definition_questions(question):
    assert is_definition_question(question)


@pytest.mark.parametrize(
    "question",
    [
        "Hoe richt ik een vereniging op?",
        "Moeten wij btw betalen over de kantine?",
        "Waarom heeft een stichting geen leden?",
        "Wat isoleert een dak het best?",  # 'is' must be a whole word
        # a long question that happens to contain "wat is" asks for more than a definition
        "Wat is de beste manier om als bewonersgroep met een klein budget en veel vrijwilligers "
        "een buurthuis te beginnen?",
    ],
)
def test_other_questions_are_not_definition_questions(question):
    assert not is_definition_question(question)
