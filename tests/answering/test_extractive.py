"""The default, LLM-free answerer: it quotes the most relevant passages of the top sources with [n] markers.

What a volunteer relies on: every [n] points at one of the sources shown, every quote is text that really is
in that source (left-out text between two passages is marked with "…"), a short top source is quoted whole,
each of the top sources is covered, the answer stays short, and the same question gives the same answer.
Tests of passage selection switch the whole-top-source rule off (``full_source_chars=0``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from kb.answering.extractive import ExtractiveAnswerer, Quote
from kb.answering.prompts import Prompts
from kb.retrieval.types import Hit
from kb.store import StoredChunk

QUESTION = "Mag een vereniging winst verdelen onder de leden?"
LINE = re.compile(r"^- “(?P<quote>.+)”(?: \((?P<label>[^()]+)\))? \[(?P<n>\d+)\]$")


def hit(n: int, title: str, section: tuple[str, ...], text: str) -> Hit:
    chunk = StoredChunk(
        f"{title.lower()}::v1::{n:05d}",
        title.lower(),
        text,
        "",
        title,
        f"{title.lower()}.md",
        "Partner A",
        "rechtsvorm",
        section,
        None,
        None,
        n,
    )
    return Hit(n, 1.0 / n, chunk)


HITS = [
    hit(
        1,
        "Vereniging",
        ("Vereniging", "Winst verdelen"),
        "Een vereniging mag geen winst verdelen onder haar leden.\n\n"
        "Het geld moet naar het doel van de   vereniging gaan.\n\n"
        "De kantine is op zaterdag open.",
    ),
    hit(
        2,
        "Stichting",
        ("Stichting", "Uitkeringen"),
        "Een stichting mag geen uitkeringen doen aan oprichters of bestuurders.\n\nEen stichting heeft geen leden.",
    ),
    hit(
        3,
        "Btw en de kantine",
        ("Btw en de kantine", "Kantine"),
        "De omzet van de kantine van een sportvereniging kan vrijgesteld zijn van omzetbelasting.",
    ),
]


def squash(text: str) -> str:
    return " ".join(text.split())


def assert_verbatim(quote: str, source: str) -> None:
    """Each stretch of a quote between "…" marks is a continuous piece of the source (up to whitespace)."""
    for piece in quote.split(" … "):
        assert piece in squash(source), f"niet letterlijk uit de bron: {piece!r}"


def units_in(quotes: list[Quote], units: list[str]) -> int:
    """How many of the given units the quotes contain."""
    return sum(u in q.text for q in quotes for u in units)


@pytest.fixture
def prompts(settings) -> Prompts:
    return Prompts(settings.prompts_dir)


@pytest.fixture
def answerer(hashing_embedder, prompts):
    def make(**kw) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(hashing_embedder, prompts, **kw)

    return make


LEAD = re.compile(r"^“(?P<quote>.+)”(?: \((?P<label>[^()]+)\))? \[(?P<n>\d+)\]$")  # a label once per place


def answer(answerer: ExtractiveAnswerer, question: str, hits: list[Hit]) -> tuple[str, list[Quote]]:
    """The composed answer, and the passages selected (numbered by the hits as given)."""
    pieces, _, _ = answerer.stream(question, hits)
    return "".join(pieces), answerer.select(question, hits)


def shown(answerer: ExtractiveAnswerer, question: str, hits: list[Hit]) -> tuple[str, list[Quote], list[Hit]]:
    """The composed answer, its quotes (lead first) and the sources in the order the answer numbers them."""
    pieces, quotes, order = answerer.stream(question, hits)
    return "".join(pieces), quotes, [hits[i] for i in order]


def parse(text: str) -> list[tuple[str, str, int]]:
    """(label, quote, n) of every quoted line of a composed answer: the lead lines, then the supporting ones."""
    out = []
    for line in text.splitlines():
        match = LEAD.match(line) or LINE.match(line)
        if match:
            out.append((match["label"], match["quote"], int(match["n"])))
        else:
            assert line in ("", "Meer uit de bronnen:", "Dit zeggen de bronnen over je vraag:"), line
    return out


# ------------------------------------------------------------------------------------------ the answer contract
def test_every_marker_points_at_a_shown_source_and_every_quote_is_in_it(answerer):
    text, quotes, hits = shown(answerer(), QUESTION, HITS)
    parsed = parse(text)
    assert parsed, "het antwoord citeert niets"
    for _, quote, n in parsed:
        assert 1 <= n <= len(hits)
        assert_verbatim(quote, hits[n - 1].chunk.text)
    # every marker in the text is one of the quoted sources, numbered 1..n without gaps
    numbers = {int(m) for m in re.findall(r"\[(\d+)\]", text)}
    assert numbers == {q.n for q in quotes} == set(range(1, len(numbers) + 1))


def test_answer_leads_with_quoted_sentences_and_a_short_citation(answerer):
    text, quotes, hits = shown(answerer(), QUESTION, HITS)
    first = text.splitlines()[0]
    match = LEAD.match(first)
    assert match, first
    assert match["quote"] == "Een vereniging mag geen winst verdelen onder haar leden."
    assert match["label"] == "Vereniging — Winst verdelen" and match["n"] == "1"
    lead = text.split("\n\nMeer uit de bronnen:")[0]
    assert len(lead.split()) <= 80
    # the lead sentence is not repeated in the supporting passages
    assert text.count("Een vereniging mag geen winst verdelen onder haar leden.") == 1


def test_law_articles_are_cited_by_their_article(answerer):
    from kb.answering.extractive import short_citation

    law = hit(
        1,
        "Burgerlijk Wetboek Boek 2 – Titel 1, 2, 3, 6",
        ("Burgerlijk Wetboek Boek 2", "art. 2:34 BW – Notulen"),
        "Van het verhandelde in elke algemene vergadering worden notulen gemaakt.",
    )
    assert short_citation(law) == "art. 2:34 BW"
    assert short_citation(HITS[0]) == "Vereniging — Winst verdelen"


def test_sources_are_numbered_as_shown_when_a_lower_ranked_one_answers(answerer, hashing_embedder):
    from kb.answering.extractive import renumber_order

    assert renumber_order([3, 1, 3], 4) == [2, 0, 1, 3]
    off = hit(1, "Kantine", ("Kantine", "Open"), "De kantine is op zaterdag open.")
    text, quotes, hits = shown(answerer(cover_sources=0, max_quotes=1, full_source_chars=0), QUESTION, [off, HITS[0]])
    assert hits[0].chunk.title == "Vereniging" and "[1]" in text and "[2]" not in text


def test_the_list_after_a_colon_is_quoted_with_its_lead_in(answerer):
    text = (
        "De algemene vergadering besluit over de volgende zaken:\n\n- de begroting;\n- de jaarrekening;\n"
        "- de benoeming van het bestuur.\n\nDe kantine is op zaterdag open."
    )
    hits = [hit(1, "Vereniging", ("Vereniging", "Vergadering"), text)]
    out, quotes, _ = shown(
        answerer(full_source_chars=0, max_quotes=1), "Waarover besluit de algemene vergadering?", hits
    )
    assert "zaken: - de begroting; - de jaarrekening; - de benoeming van het bestuur." in out
    assert not any(q.text.rstrip().endswith(":") for q in quotes)


def test_a_list_of_links_is_never_quoted(answerer):
    links = "Meer weten: [KvK](https://www.kvk.nl/vereniging), [Belastingdienst](https://www.belastingdienst.nl/anbi)"
    hits = [hit(1, "Vereniging", ("Vereniging", "Meer weten"), f"{links}\n\nEen vereniging mag geen winst verdelen.")]
    out, _, _ = shown(answerer(full_source_chars=0), QUESTION, hits)
    assert "kvk.nl" not in out and "Een vereniging mag geen winst verdelen." in out


MORE_LINKS = (
    "- Boek 2 Burgerlijk Wetboek, titel 2 (verenigingen): https://wetten.overheid.nl/BWBR0003045\n"
    "- Inschrijving in het handelsregister: https://www.kvk.nl\n"
    "- De kosten van een notaris verschillen per kantoor. Vraag vooraf een offerte aan bij een notaris."
)


@pytest.mark.parametrize("full_source_chars", [0, 1200])
def test_no_item_of_a_list_of_links_is_quoted_from_stored_passages(hashing_embedder, prompts, full_source_chars):
    """The store's passages of a "Meer weten" section are its list items, one by one (the kosten item has no
    link of its own); none of them is quoted, and the top source is not quoted whole with its list."""
    links = hit(1, "Notaris", ("Notaris", "Meer weten"), f"Wat kost een notaris?\n\n{MORE_LINKS}")
    prose = hit(2, "Notaris", ("Notaris", "Oprichten"), "De notaris maakt de akte van oprichting met de statuten.")
    items = MORE_LINKS.split("\n")
    vectors = hashing_embedder.encode_documents(["Wat kost een notaris?", *items, prose.chunk.text])
    stored = {
        links.chunk.chunk_id: list(zip(["Wat kost een notaris?", *items], vectors[:4], strict=True)),
        prose.chunk.chunk_id: [(prose.chunk.text, vectors[4])],
    }
    a = ExtractiveAnswerer(
        hashing_embedder, prompts, full_source_chars=full_source_chars, stored_units=lambda ids: stored
    )
    out, quotes, _ = shown(a, "Wat kost een notaris voor het oprichten?", [links, prose])
    assert "https://" not in out and "De kosten van een notaris" not in out
    assert not any("Boek 2" in q.text or "kosten" in q.text for q in quotes)
    assert "De notaris maakt de akte van oprichting met de statuten." in out


def test_labels_name_title_and_section(answerer):
    text, _ = answer(answerer(max_quotes=3, cover_sources=3), QUESTION, HITS)
    labels = {n: label for label, _, n in parse(text) if label}
    assert labels == {1: "Vereniging — Winst verdelen", 2: "Stichting — Uitkeringen", 3: "Btw en de kantine — Kantine"}
    # each label is written once: a later line from the same place has only its number
    assert [label for label, _, n in parse(text)].count("Vereniging — Winst verdelen") == 1


def test_label_is_the_title_alone_without_a_distinct_section(prompts, answerer):
    hits = [
        hit(1, "Stichting", (), "Een stichting heeft geen leden."),
        hit(2, "Vereniging", ("Vereniging",), "Een vereniging heeft leden."),
    ]
    quotes = [Quote(1, "Een stichting heeft geen leden."), Quote(2, "Een vereniging heeft leden.")]
    text = answerer().compose(quotes, hits)
    assert text.splitlines()[2:] == [
        "- “Een stichting heeft geen leden.” (Stichting) [1]",
        "- “Een vereniging heeft leden.” (Vereniging) [2]",
    ]


def test_support_heading_comes_from_the_prompts_folder(hashing_embedder, tmp_path: Path):
    (tmp_path / "extractive_support_nl.txt").write_text("Ook in de documenten:\n", encoding="utf-8")
    (tmp_path / "extractive_lead_nl.txt").write_text("Volgens de documenten:\n", encoding="utf-8")
    a = ExtractiveAnswerer(hashing_embedder, Prompts(tmp_path), max_quotes=3, cover_sources=3)
    text, _ = answer(a, QUESTION, HITS)
    assert "\n\nOok in de documenten:\n- " in text


# ------------------------------------------------------------------------------------------ the top source whole
def test_short_top_source_is_quoted_whole(answerer):
    _, quotes = answer(answerer(max_quotes=1), QUESTION, HITS)
    # the key fact may stand in another paragraph than the one most like the question: all of it is quoted
    assert quotes == [Quote(1, squash(HITS[0].chunk.text))]


def test_whole_top_source_counts_as_one_quote_and_others_are_still_covered(answerer):
    _, quotes = answer(answerer(max_quotes=3, cover_sources=3), QUESTION, HITS)
    assert [q.n for q in quotes] == [1, 2, 3]
    assert quotes[0].text == squash(HITS[0].chunk.text)


def test_long_top_source_is_not_quoted_whole(answerer):
    limit = len(squash(HITS[0].chunk.text)) - 1
    _, quotes = answer(answerer(max_quotes=1, full_source_chars=limit), QUESTION, HITS)
    assert quotes == [Quote(1, "Een vereniging mag geen winst verdelen onder haar leden.")]
    _, quotes = answer(answerer(max_quotes=1, full_source_chars=limit + 1), QUESTION, HITS)
    assert quotes == [Quote(1, squash(HITS[0].chunk.text))]


def test_leading_source_url_line_is_not_quoted(answerer):
    text = "Bron: https://wetten.overheid.nl/BWBR0002629\n\nDe omzet van de kantine kan vrijgesteld zijn."
    hits = [hit(1, "Wet OB", ("Wet OB", "art. 11"), text)]
    _, quotes = answer(answerer(), "Is de omzet van de kantine vrijgesteld?", hits)
    assert quotes == [Quote(1, "De omzet van de kantine kan vrijgesteld zijn.")]
    _, quotes = answer(answerer(full_source_chars=0), "Is de omzet van de kantine vrijgesteld?", hits)
    assert quotes == [Quote(1, "De omzet van de kantine kan vrijgesteld zijn.")]


@pytest.mark.parametrize(
    "line",
    [
        "Bron: Kamer van Koophandel",
        "Bron: https://wetten.overheid.nl/BWBR0003572 (via wetgeving-nl)",
        "Bron: BWB-XML toestand 2022-01-01. Geen auteursrecht (art. 11 Aw).",
    ],
)
def test_whole_source_line_is_left_out_of_the_quote(answerer, line):
    hits = [hit(1, "Stichting", ("Stichting", "Leden"), f"{line}\n\nEen stichting heeft geen leden.")]
    _, quotes = answer(answerer(), "Heeft een stichting leden?", hits)
    assert quotes == [Quote(1, "Een stichting heeft geen leden.")]


# ------------------------------------------------------------------------------------------ passage selection
TWO_GOOD = [
    hit(
        1,
        "Vereniging",
        ("Vereniging", "Winst"),
        "Een vereniging mag geen winst verdelen onder haar leden.\n\n"
        "De kantine is op zaterdag open.\n\n"
        "Winst verdelen onder de leden mag een vereniging dus niet.",
    ),
    hit(2, "Stichting", ("Stichting", "Leden"), "Een stichting heeft geen leden."),
]


def test_most_relevant_passage_of_the_top_source_is_quoted(answerer):
    _, quotes = answer(answerer(max_quotes=1, full_source_chars=0), QUESTION, HITS)
    assert quotes == [Quote(1, "Een vereniging mag geen winst verdelen onder haar leden.")]


def test_each_top_source_gets_its_best_passage(answerer):
    # the second source is weaker than the first source's second passage, but is covered all the same
    _, quotes = answer(answerer(max_quotes=2, cover_sources=2, full_source_chars=0), QUESTION, TWO_GOOD)
    assert [q.n for q in quotes] == [1, 2]
    assert quotes[1].text == "Een stichting heeft geen leden."


def test_left_out_text_between_passages_is_marked(answerer):
    _, quotes = answer(answerer(max_quotes=2, cover_sources=1, full_source_chars=0), QUESTION, TWO_GOOD)
    # two passages of source 1, in document order, in one quote; the irrelevant middle one is left out
    assert quotes == [
        Quote(
            1,
            "Een vereniging mag geen winst verdelen onder haar leden. … "
            "Winst verdelen onder de leden mag een vereniging dus niet.",
        )
    ]


def test_adjacent_passages_read_as_one_continuous_quote(answerer):
    hits = [
        hit(
            1,
            "Vereniging",
            ("Vereniging", "Winst"),
            "Een vereniging mag geen winst verdelen.\n\nDe leden krijgen geen winst van de vereniging.\n\n"
            "De kantine is op zaterdag open.",
        )
    ]
    _, quotes = answer(answerer(max_quotes=2, full_source_chars=0), QUESTION, hits)
    assert quotes == [
        Quote(1, "Een vereniging mag geen winst verdelen. De leden krijgen geen winst van de vereniging.")
    ]
    assert_verbatim(quotes[0].text, hits[0].chunk.text)


def test_equal_passages_prefer_the_better_ranked_source(answerer):
    same = "Een vereniging mag geen winst verdelen onder haar leden."
    hits = [hit(1, "Eerste", ("Eerste", "A"), same), hit(2, "Tweede", ("Tweede", "B"), same)]
    _, quotes = answer(answerer(max_quotes=1, cover_sources=0, full_source_chars=0), QUESTION, hits)
    assert quotes == [Quote(1, same)]


PARAGRAPHS = ["Een vereniging mag geen winst verdelen.", "Winst gaat naar het doel.", "Leden krijgen geen winst."]


def test_number_of_quotes_is_limited(answerer):
    # the same paragraphs in every source, each time with its own ending (identical text is quoted once)
    many = [
        hit(i, f"Bron{i}", (f"Bron{i}", "Winst"), "\n\n".join(f"{p} Bron {i}." for p in PARAGRAPHS))
        for i in range(1, 9)
    ]
    for limit in (1, 3, 6):
        _, quotes = answer(answerer(max_quotes=limit, full_source_chars=0), QUESTION, many)
        assert units_in(quotes, PARAGRAPHS) == limit
    # the whole top source is one quote: with a limit of 3, two passages of other sources follow it
    _, quotes = answer(answerer(max_quotes=3), QUESTION, many)
    assert quotes[0] == Quote(1, " ".join(f"{p} Bron 1." for p in PARAGRAPHS))
    assert units_in(quotes[1:], PARAGRAPHS) == 2


def test_length_budget_is_respected(answerer):
    paragraphs = [
        f"Een vereniging mag geen winst verdelen onder haar leden, regel {i}. " + "Uitleg over de winst. " * 10
        for i in range(4)
    ]
    paragraphs = [p.strip() for p in paragraphs]
    hits = [hit(1, "Vereniging", ("Vereniging", "Winst"), "\n\n".join(paragraphs))]
    assert all(250 < len(p) < 300 for p in paragraphs)
    _, quotes = answer(answerer(max_chars=600, full_source_chars=0), QUESTION, hits)
    assert units_in(quotes, paragraphs) == 2 and sum(len(q.text) for q in quotes) <= 600 + len(" … ")
    # a budget smaller than any passage still quotes the single best one
    _, quotes = answer(answerer(max_chars=10, full_source_chars=0), QUESTION, hits)
    assert len(quotes) == 1 and units_in(quotes, paragraphs) == 1


def test_nothing_quotable_gives_no_quotes(answerer, prompts):
    a = answerer()
    assert a.select(QUESTION, []) == []
    assert a.select(QUESTION, [hit(1, "Leeg", (), "- -\n\n€ 5")]) == []
    assert a.compose([], []).strip() == prompts.line("extractive_lead_nl.txt")


# ------------------------------------------------------------------------------------------ determinism, streaming
def test_same_question_gives_the_same_answer(answerer):
    for kw in ({}, {"full_source_chars": 0}):
        first = answer(answerer(**kw), QUESTION, HITS)
        for _ in range(3):
            assert answer(answerer(**kw), QUESTION, HITS) == first


def test_stream_pieces_rebuild_the_composed_answer(answerer):
    a = answerer(max_quotes=6, cover_sources=3)
    pieces, quotes, order = a.stream(QUESTION, HITS)
    pieces = list(pieces)
    shown_hits = [HITS[i] for i in order]
    text = a.compose(
        quotes[len(a.lead(QUESTION, a.select(QUESTION, HITS), HITS)) :],
        shown_hits,
        quotes[: len(a.lead(QUESTION, a.select(QUESTION, HITS), HITS))],
    )
    assert len(text.split(" ")) > 24 and len(pieces) > 1  # long enough to arrive in several pieces
    assert "".join(pieces) == text
    assert all(p.endswith(" ") for p in pieces[:-1]) and not pieces[-1].endswith(" ")


# ------------------------------------------------------------------------------------------ stored passage vectors
class CountingEmbedder:
    """Wraps an embedder and counts how often documents are embedded."""

    def __init__(self, inner):
        self.inner = inner
        self.documents = 0
        self.queries = 0

    def encode_documents(self, texts, **kw):
        self.documents += 1
        return self.inner.encode_documents(texts, **kw)

    def encode_queries(self, texts):
        self.queries += 1
        return self.inner.encode_queries(texts)


def test_stored_passage_vectors_are_used_without_re_embedding(hashing_embedder, prompts):
    counting = CountingEmbedder(hashing_embedder)
    q = hashing_embedder.encode_queries([QUESTION])[0]
    asked: list[list[str]] = []
    hits = HITS[:2]
    lexical_match = "Een vereniging mag geen winst verdelen onder haar leden."
    dense_match = "Het geld moet naar het doel van de   vereniging gaan."

    def stored(chunk_ids):
        asked.append(chunk_ids)
        # the stored vectors, not the texts, decide the dense score: make the lexical match point away
        return {
            hits[0].chunk.chunk_id: [(lexical_match, -q), (dense_match, q)],
            hits[1].chunk.chunk_id: [("Een stichting heeft geen leden.", np.zeros_like(q))],
        }

    a = ExtractiveAnswerer(
        counting,
        prompts,
        max_quotes=1,
        full_source_chars=0,  # type: ignore[arg-type]
        stored_units=stored,
    )
    quotes = a.select(QUESTION, hits)
    assert asked == [[h.chunk.chunk_id for h in hits]]
    assert counting.documents == 0 and counting.queries == 1
    assert quotes == [Quote(1, "Het geld moet naar het doel van de vereniging gaan.")]  # whitespace squashed


def chunk_vectors_only(embedder, hits):
    """What a store without passage vectors gives: each chunk with only its own vector."""
    vectors = embedder.encode_documents([h.chunk.text for h in hits])
    return lambda ids: {h.chunk.chunk_id: [(h.chunk.text, v)] for h, v in zip(hits, vectors, strict=True)}


def test_units_of_a_chunk_with_only_its_own_vector_are_embedded_at_answer_time(hashing_embedder, prompts):
    counting = CountingEmbedder(hashing_embedder)
    stored = chunk_vectors_only(hashing_embedder, HITS[:2])
    a = ExtractiveAnswerer(counting, prompts, max_quotes=2, full_source_chars=0, stored_units=stored)
    quotes = a.select(QUESTION, HITS[:2])
    assert counting.documents == 2  # the units of each multi-paragraph chunk
    assert quotes[0] == Quote(1, "Een vereniging mag geen winst verdelen onder haar leden.")


def test_without_unit_embedding_units_borrow_their_chunks_vector(hashing_embedder, prompts):
    """embed_units=False: nothing is embedded at answer time; within a chunk, word overlap picks the unit."""
    counting = CountingEmbedder(hashing_embedder)
    stored = chunk_vectors_only(hashing_embedder, HITS[:2])
    a = ExtractiveAnswerer(counting, prompts, max_quotes=2, full_source_chars=0, stored_units=stored, embed_units=False)
    quotes = a.select(QUESTION, HITS[:2])
    assert counting.documents == 0 and counting.queries == 1
    assert quotes[0] == Quote(1, "Een vereniging mag geen winst verdelen onder haar leden.")
    for q in quotes:
        assert_verbatim(q.text, HITS[q.n - 1].chunk.text)


def test_a_source_quoted_whole_has_nothing_embedded_at_answer_time(hashing_embedder, prompts):
    """The short top source is quoted whole, so its units are never ranked: only the others' units are asked
    for (and embedded when the store has no passage vectors), and the answer is the same as before."""
    counting = CountingEmbedder(hashing_embedder)
    provide = chunk_vectors_only(hashing_embedder, HITS)
    asked: list[list[str]] = []

    def stored(ids):
        asked.append(ids)
        return provide(ids)

    a = ExtractiveAnswerer(counting, prompts, max_quotes=3, stored_units=stored)
    quotes = a.select(QUESTION, HITS)
    assert asked == [[h.chunk.chunk_id for h in HITS[1:]]]
    assert counting.documents == 1  # the second source's two paragraphs; the third is one unit
    assert quotes[0].n == 1 and quotes[0].text == squash(HITS[0].chunk.text)
    plain = ExtractiveAnswerer(hashing_embedder, prompts, max_quotes=3)
    assert quotes == plain.select(QUESTION, HITS)  # embedding every unit at answer time chooses the same


def test_stored_path_with_nothing_stored_gives_no_quotes(hashing_embedder, prompts):
    a = ExtractiveAnswerer(hashing_embedder, prompts, stored_units=lambda ids: {})
    assert a.select(QUESTION, HITS) == []


def test_real_store_answer_quotes_its_sources(small_kb, hashing_embedder, prompts):
    store, retriever = small_kb
    hits = retriever.search(QUESTION, 5)
    a = ExtractiveAnswerer(hashing_embedder, prompts, stored_units=store.passage_vectors)
    text, quotes = answer(a, QUESTION, hits)
    assert quotes and quotes[0].n == 1 and hits[0].chunk.title == "Vereniging"
    assert "winst verdelen onder haar leden" in quotes[0].text
    text, _, numbered = shown(a, QUESTION, hits)
    for _, quote, n in parse(text):
        assert 1 <= n <= len(numbered)
        assert_verbatim(quote, numbered[n - 1].chunk.text)
    assert answer(a, QUESTION, hits) == answer(a, QUESTION, hits)


STICHTING_MET_UITZONDERING = """---
title: "Stichting"
topic: rechtsvorm
---
# Stichting

## Winst

Een stichting mag geen winst verdelen aan oprichters of aan de leden van het bestuur.

Behalve bij een ideële uitkering.

Winst van een stichting moet naar het doel van de stichting gaan, net als bij een vereniging.
"""


def test_stored_passages_mark_left_out_short_paragraphs(settings, hashing_embedder, prompts, tmp_path):
    from ingest.pipeline import IngestPipeline
    from kb.retrieval.retriever import Retriever
    from kb.store import KnowledgeStore

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "vereniging.md").write_text(
        '---\ntitle: "Vereniging"\ntopic: rechtsvorm\n---\n# Vereniging\n\n## Winst verdelen\n\n'
        "Een vereniging mag geen winst verdelen onder haar leden.\n",
        encoding="utf-8",
    )
    (folder / "stichting.md").write_text(STICHTING_MET_UITZONDERING, encoding="utf-8")
    store = KnowledgeStore(settings)
    assert IngestPipeline(store, lambda: hashing_embedder, settings).ingest_paths([folder]).ok
    hits = Retriever(store, lambda: hashing_embedder, settings).search(QUESTION, 3)
    assert [h.chunk.title for h in hits[:2]] == ["Vereniging", "Stichting"]
    _, quotes = answer(
        ExtractiveAnswerer(hashing_embedder, prompts, stored_units=store.passage_vectors), QUESTION, hits
    )
    second = next(q for q in quotes if q.n == 2)
    assert "Een stichting mag geen winst verdelen" in second.text and "net als bij een vereniging" in second.text
    assert_verbatim(second.text, hits[1].chunk.text)


def test_text_already_quoted_is_not_quoted_again(answerer):
    """Overlapping chunks (or a second copy of a document) must not fill the answer with the same sentence."""
    copy = hit(2, "Kopie", ("Kopie", "Winst verdelen"), "Een vereniging mag geen winst verdelen onder haar leden.")
    text, quotes = answer(answerer(), QUESTION, [HITS[0], copy, HITS[1]])
    sentence = "Een vereniging mag geen winst verdelen onder haar leden."
    assert text.count(sentence) == 1
    assert all(q.n != 2 for q in quotes)


def test_a_documents_introduction_gives_way_to_its_sections(answerer):
    """The text under a guide's title ("deze gids legt uit …") matches broadly but answers little."""
    intro = Hit(
        1,
        0.9,
        StoredChunk(
            "gids::v1::00000",
            "gids",
            "Deze gids legt uit hoe een vereniging winst verdeelt.",
            "",
            "Gids",
            "gids.md",
            "Partner A",
            "rechtsvorm",
            ("Gids",),
            None,
            None,
            0,
        ),
    )
    section = hit(
        2, "Vereniging", ("Vereniging", "Winst verdelen"), "Een vereniging mag geen winst verdelen onder haar leden."
    )
    counts = {"gids": 6, "vereniging": 3}
    text, quotes = answer(answerer(chunk_count=counts.get), QUESTION, [intro, section])
    assert [q.n for q in quotes] == [2]
    assert "Deze gids legt uit" not in text
    # with nothing else to quote, the introduction is still used
    _, only = answer(answerer(chunk_count=counts.get), QUESTION, [intro])
    assert [q.n for q in only] == [1]


def test_a_first_section_under_its_own_heading_is_no_introduction(answerer):
    """A DOCX with a title and Heading-1 sections: its first section is content, and is quoted."""
    first = Hit(
        1,
        0.9,
        StoredChunk(
            "fonds::v1::00000",
            "fonds",
            "Het fonds geeft maximaal 850 euro per initiatief.",
            "",
            "Buurtfonds",
            "fonds.docx",
            "Partner A",
            "financiering",
            ("Bijdrage",),
            None,
            None,
            0,
        ),
    )
    text, quotes = answer(answerer(chunk_count={"fonds": 3}.get), "Hoeveel geld geeft het fonds?", [first, HITS[1]])
    assert quotes[0].n == 1 and "850 euro" in text


def test_a_document_that_is_one_short_text_is_not_an_introduction(answerer):
    note = Hit(
        1,
        0.9,
        StoredChunk(
            "notitie::v1::00000",
            "notitie",
            "Een vereniging mag geen winst verdelen.",
            "",
            "Notitie",
            "notitie.docx",
            "Partner A",
            "rechtsvorm",
            ("Notitie",),
            None,
            None,
            0,
        ),
    )
    _, quotes = answer(answerer(chunk_count={"notitie": 1}.get), QUESTION, [note, HITS[1]])
    assert quotes[0].n == 1
    long_text = Hit(
        1,
        0.9,
        StoredChunk(
            "regel::v1::00000",
            "regel",
            "Een vereniging mag geen winst verdelen. " * 20,
            "",
            "Regel",
            "regel.md",
            "Partner A",
            "rechtsvorm",
            ("Regel",),
            None,
            None,
            0,
        ),
    )
    _, quotes = answer(answerer(chunk_count={"regel": 3}.get), QUESTION, [long_text, HITS[1]])
    assert quotes[0].n == 1


# ------------------------------------------------------------------------------------------ one phone screen
TABLE_GUIDE_TEXT = (
    "| | Vereniging | Stichting | Coöperatie |\n|---|---|---|---|\n| Leden | ja | nee | ja |\n"
    "| Hoogste orgaan | algemene ledenvergadering | bestuur | algemene ledenvergadering |\n"
    "| Winst uitkeren aan leden | nee | nee (geen leden) | ja |\n\n"
    "Een **vereniging** is een rechtspersoon waarin leden samen aan een doel werken (art. 2:26 BW). "
    "Een **stichting** heeft geen leden en gebruikt een eigen vermogen voor een doel (art. 2:285 BW). "
    "Een **coöperatie** is een vereniging die een bedrijf voert voor haar leden (art. 2:53 BW)."
)
TABLE_HIT = hit(
    1,
    "Welke rechtsvorm past bij ons initiatief?",
    ("Welke rechtsvorm past bij ons initiatief?", "Wat is het verschil tussen vereniging, stichting en coöperatie?"),
    TABLE_GUIDE_TEXT,
)


def test_a_table_is_never_part_of_the_lead(answerer):
    text, quotes, hits = shown(answerer(), "Wat is het verschil tussen een stichting en een vereniging?", [TABLE_HIT])
    lead = text.split("\n\nMeer uit de bronnen:")[0]
    assert "|" not in lead and "---" not in lead
    lead_lines = lead.splitlines()
    assert 1 <= len(lead_lines) <= 2
    assert all(LEAD.match(line) for line in lead_lines), lead_lines
    assert "stichting** heeft geen leden" in lead or "vereniging** is een rechtspersoon" in lead
    # the table stays in the quoted passage, so the source card shows (and highlights) it
    assert any("| Leden | ja | nee | ja |" in q.text for q in quotes)


def test_the_lead_is_one_or_two_sentences_within_its_word_budget(answerer):
    long_text = " ".join(f"Een vereniging mag geen winst verdelen onder leden in geval {i}." for i in range(30))
    hits = [hit(1, "Vereniging", ("Vereniging", "Winst"), long_text), *HITS[1:]]
    a = answerer(lead_words=30)
    text, _, _ = shown(a, QUESTION, hits)
    lead = text.split("\n\nMeer uit de bronnen:")[0].splitlines()
    assert 1 <= len(lead) <= 2
    quoted = [LEAD.match(line)["quote"] for line in lead]
    assert sum(len(q.split()) for q in quoted) <= 30


def test_one_overlong_sentence_gives_way_to_a_shorter_one_that_answers(answerer):
    rambling = "Een vereniging " + " en ".join(f"doet ding {i}" for i in range(80)) + " maar verdeelt geen winst."
    hits = [hit(1, "Vereniging", ("Vereniging", "Winst"), f"{rambling} Een vereniging mag geen winst verdelen.")]
    text, _, _ = shown(answerer(lead_words=30, full_source_chars=0), QUESTION, hits)
    first = LEAD.match(text.splitlines()[0])
    assert first and first["quote"] == "Een vereniging mag geen winst verdelen."


def test_label_is_title_dash_section_even_when_the_title_is_a_question():
    from kb.answering.extractive import short_citation

    label = short_citation(TABLE_HIT)
    assert (
        label
        == "Welke rechtsvorm past bij ons initiatief? — Wat is het verschil tussen vereniging, stichting en coöperatie?"
    )
    assert "?, " not in label and "?:" not in label
    # a long title is cut at a word to at most 60 characters (the card names it in full); the section stays whole
    long = hit(
        1,
        "Vennootschapsbelasting voor verenigingen, stichtingen en coöperaties in de buurt",
        ("X", "Wanneer?"),
        "Tekst.",
    )
    title, section = short_citation(long).split(" — ")
    assert len(title) <= 60 and title.endswith("…") and " " not in title[-3:] and section == "Wanneer?"


def test_the_answer_never_writes_question_mark_comma_or_colon_after_a_label(answerer):
    other = hit(
        2, "Mag een stichting winst maken?", ("Mag een stichting winst maken?", "Kort antwoord"), HITS[1].chunk.text
    )
    text, _, _ = shown(answerer(), "Wat is het verschil tussen een stichting en een vereniging?", [TABLE_HIT, other])
    assert "?, " not in text and "?:" not in text and "maken? — Kort antwoord" in text


def test_supporting_lines_quote_their_best_sentences_within_the_budget(answerer):
    filler = " ".join(f"De kantine is op dag {i} open voor de buurt." for i in range(12))
    second = hit(
        2, "Stichting", ("Stichting", "Uitkeringen"), f"{filler} Een stichting mag geen winst uitkeren aan leden."
    )
    hits = [HITS[0], second]
    text, _, numbered = shown(answerer(support_words=20, full_source_chars=0), QUESTION, hits)
    support = text.split("Meer uit de bronnen:\n", 1)[1].splitlines()
    for _, quote, n in parse("\n".join(support)):
        assert_verbatim(quote, numbered[n - 1].chunk.text)
        assert len(quote.replace("…", "").split()) <= 20 + 12  # the budget, or one sentence that is longer
    stichting = next(q for _, q, n in parse(text) if numbered[n - 1].chunk.title == "Stichting")
    assert "Een stichting mag geen winst uitkeren aan leden." in stichting


def test_prose_sentences_leave_tables_and_the_line_that_introduces_them_out():
    from kb.answering.extractive import prose_sentences

    text = "Zo verschillen ze: | | A | B | |---|---|---| | Leden | ja | nee | Een vereniging heeft leden. Klaar."
    assert prose_sentences(text) == ["Een vereniging heeft leden.", "Klaar."]
    assert prose_sentences("Geen tabel hier. Wel | een streep.") == ["Geen tabel hier.", "Wel | een streep."]


def test_a_question_in_the_source_is_never_the_lead(answerer):
    """A guide often asks the reader's question itself ("Staat er geen regeling …?"); the lead quotes the
    sentence that answers it, not the question."""
    text = (
        "Staat er in de statuten geen regeling voor het wijzigen van de statuten van de stichting?\n\n"
        "Dan kan de rechter de statuten van de stichting wijzigen op verzoek van het bestuur (art. 2:294 BW)."
    )
    hits = [hit(1, "Stichting", ("Stichting", "Statuten wijzigen"), text)]
    a = answerer(full_source_chars=0)
    question = "Kunnen we de statuten van de stichting wijzigen als er geen regeling in de statuten staat?"
    lead = a.lead(question, a.select(question, hits), hits)
    assert lead and not any(q.text.endswith("?") for q in lead)
    assert lead[0].text.startswith("Dan kan de rechter")
