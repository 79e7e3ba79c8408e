"""Sentence-level evidence: stems, lexical overlap, quotable units, cosine scores and support scores.

The extractive answerer quotes the units that :func:`split_units` returns, so those units must be verbatim
pieces of the source (up to whitespace). Citation checking relies on :func:`support_score`: a claim that one
sentence of a long source states must score as supported, an unrelated claim must not.
"""

from __future__ import annotations

import numpy as np
import pytest

from kb.answering.evidence import (
    Unit,
    cosine_matrix,
    lexical_overlap,
    split_units,
    stems,
    support_score,
    without_link_lists,
)


def squash(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------ stems / overlap
def test_stems_drop_stop_words_and_fold_inflections_and_accents():
    assert stems("Mag een vereniging winst verdelen?") == stems("vereniging winst verdeel")
    assert "mag" not in stems("Mag een vereniging winst verdelen?")
    # inflected and accented forms meet on one stem
    assert stems("De Coöperatie mag verdelen") == stems("de cooperatie verdeel")


def test_lexical_overlap_is_the_share_of_question_stems_found():
    question = "Mag een vereniging winst verdelen?"  # content stems: vereniging, winst, verdelen
    assert lexical_overlap(question, "Een vereniging mag geen winst verdelen onder haar leden.") == 1.0
    assert lexical_overlap(question, "Een stichting mag geen winst verdelen.") == pytest.approx(2 / 3)
    assert lexical_overlap(question, "De kantine is open op zaterdag.") == 0.0


def test_lexical_overlap_ignores_case_and_is_not_symmetric():
    assert lexical_overlap("WINST VERDELEN", "winst verdelen") == 1.0
    short, long = "winst", "Een vereniging mag geen winst verdelen."
    assert lexical_overlap(short, long) == 1.0
    assert lexical_overlap(long, short) == pytest.approx(1 / 3)


def test_question_of_only_stop_words_has_no_overlap():
    assert lexical_overlap("Wat is het?", "Wat is het? Het is een vereniging.") == 0.0


# ------------------------------------------------------------------------------------------ split_units
def test_paragraphs_become_units_with_whitespace_normalised():
    text = "Een stichting heeft geen leden.\n\nHet bestuur   beslist\nover alles."
    assert split_units(text) == ["Een stichting heeft geen leden.", "Het bestuur beslist over alles."]


def test_numbered_lid_starts_a_new_unit_and_keeps_its_sub_items():
    text = (
        "Artikel 5 Bestuur\n"
        "1. Het bestuur bestaat uit:\n"
        "a. een voorzitter;\n"
        "b. een penningmeester.\n"
        "2. De leden kiezen het bestuur."
    )
    assert split_units(text) == [
        "Artikel 5 Bestuur",
        "1. Het bestuur bestaat uit: a. een voorzitter; b. een penningmeester.",
        "2. De leden kiezen het bestuur.",
    ]


def test_long_paragraph_is_split_into_sentences_keeping_abbreviations():
    text = (
        "Volgens art. 2:26 BW is een vereniging een rechtspersoon met leden. "
        "De vereniging mag geen winst verdelen. "
        "Het bestuur legt jaarlijks verantwoording af aan de algemene vergadering."
    )
    units = split_units(text, max_chars=80)
    assert units == [
        "Volgens art. 2:26 BW is een vereniging een rechtspersoon met leden.",
        "De vereniging mag geen winst verdelen.",
        "Het bestuur legt jaarlijks verantwoording af aan de algemene vergadering.",
    ]
    assert split_units(text) == [text]  # short enough: the paragraph stays whole


def test_units_are_verbatim_pieces_of_the_source():
    text = (
        "# Kantine\n\nDe omzet van de kantine kan vrijgesteld zijn van omzetbelasting.\n\n"
        "1. De vrijstelling geldt voor sportverenigingen.\n2. Er geldt een grens van € 68.067 per jaar.\n\n"
        + "Lange uitleg over de vrijstelling. "
        * 30
    )
    units = split_units(text)
    assert len(units) > 5
    for unit in units:
        assert unit in squash(text)


def test_fragments_without_three_word_characters_are_dropped():
    assert split_units("a\n\nab\n\n- - -\n\nabc") == ["abc"]
    assert split_units("") == []
    assert split_units("   \n\n  ") == []


MORE = (
    "Meer weten:\n"
    "- Boek 2 Burgerlijk Wetboek, titel 2 (verenigingen): https://wetten.overheid.nl/BWBR0003045\n"
    "- Inschrijving in het handelsregister: https://www.kvk.nl\n"
    "- De kosten van een notaris verschillen per kantoor. Vraag vooraf een offerte aan."
)


def test_a_list_whose_items_are_mostly_links_is_left_out_whole_with_its_lead_in():
    text = f"Een vereniging ontstaat door afspraken tussen leden.\n\n{MORE}\n\nDaarna volgt de inschrijving."
    out = without_link_lists(text)
    assert "kvk.nl" not in out and "Meer weten" not in out
    assert "De kosten van een notaris" not in out  # an item of the list, even without a link of its own
    assert "Een vereniging ontstaat door afspraken tussen leden." in out and "Daarna volgt de inschrijving." in out
    assert split_units(text) == [
        "Een vereniging ontstaat door afspraken tussen leden.",
        "Daarna volgt de inschrijving.",
    ]


def test_a_list_with_a_single_link_among_its_items_is_kept():
    text = "Wat je nodig hebt:\n- een bestuur\n- statuten (voorbeeld: https://example.nl)\n- een naam\n- leden"
    assert without_link_lists(text) == text
    assert split_units(text) == [" ".join(text.split())]


def test_unit_is_a_hashable_value():
    assert Unit(0, 1, "tekst") == Unit(0, 1, "tekst")
    assert len({Unit(0, 1, "tekst"), Unit(0, 1, "tekst"), Unit(1, 1, "tekst")}) == 2


# ------------------------------------------------------------------------------------------ cosine_matrix
def test_cosine_matrix_scores_each_text_in_order(hashing_embedder):
    texts = [
        "De kantine is open op zaterdag.",
        "Een vereniging mag geen winst verdelen onder haar leden.",
        "Een vereniging mag geen winst verdelen onder haar leden.",
    ]
    scores = cosine_matrix(hashing_embedder, "Een vereniging mag geen winst verdelen onder haar leden.", texts)
    assert scores.shape == (3,)
    assert scores[1] == pytest.approx(1.0, abs=1e-5) and scores[2] == pytest.approx(1.0, abs=1e-5)
    assert scores[0] < 0.5
    assert int(np.argmax(scores)) == 1


def test_cosine_matrix_of_no_texts_is_empty_without_embedding():
    class Exploding:
        def encode_queries(self, texts):
            raise AssertionError("nothing to embed")

        encode_documents = encode_queries

    scores = cosine_matrix(Exploding(), "vraag", [])  # type: ignore[arg-type]
    assert scores.shape == (0,) and scores.dtype == np.float32


# ------------------------------------------------------------------------------------------ support_score
SOURCE = (
    "Een vereniging heeft leden.\n\n"
    "Een vereniging mag geen winst verdelen onder haar leden.\n\n"
    "De algemene vergadering kiest het bestuur."
)


def test_lexical_support_is_the_best_unit_not_the_whole_text():
    # every stem of the claim is in one paragraph: fully supported, however much else the source says
    assert support_score(None, "Een vereniging mag geen winst verdelen.", SOURCE) == 1.0
    assert support_score(None, "De maan is van kaas gemaakt.", SOURCE) == 0.0


def test_support_with_embeddings_separates_supported_from_unsupported(hashing_embedder):
    supported = support_score(hashing_embedder, "Een vereniging mag geen winst verdelen onder de leden.", SOURCE)
    unsupported = support_score(hashing_embedder, "De maan is van kaas gemaakt.", SOURCE)
    assert 0.45 <= supported <= 1.0 + 1e-6  # above the default support threshold of check_answer
    assert unsupported < 0.45
    # the dense half counts: it is not the plain lexical score
    assert supported != support_score(None, "Een vereniging mag geen winst verdelen onder de leden.", SOURCE)


def test_support_falls_back_to_the_whole_text_when_it_has_no_units(hashing_embedder):
    # "AB" has fewer than three word characters, so split_units finds no unit: the whole text is compared
    assert split_units("AB") == []
    assert support_score(None, "AB", "AB") == 1.0
    assert support_score(hashing_embedder, "AB", "AB") == pytest.approx(1.0, abs=1e-5)
    assert support_score(None, "winst", "AB") == 0.0


# ------------------------------------------------------------------------------------------ unit_vectors
class ChunkOnlyStore:
    """A store without passage vectors: every chunk has only its own vector."""

    def __init__(self, embedder, chunks):
        from kb.store import StoredChunk

        self.chunks = {
            cid: StoredChunk(cid, "doc", text, "", "Titel", "doc.md", "P", "t", ("Titel",), None, None, i)
            for i, (cid, text) in enumerate(chunks.items())
        }
        self.vectors = dict(zip(chunks, embedder.encode_documents(list(chunks.values())), strict=True))

    def passage_vectors(self, ids):
        return {cid: [(self.chunks[cid].text, self.vectors[cid])] for cid in ids}

    def get_chunks(self, ids):
        return [self.chunks[cid] for cid in ids]


PARAGRAPHS = {
    "a": "Een vereniging mag geen winst verdelen onder haar leden, dat staat in de wet.\n\n"
    "Het geld moet naar het doel van de vereniging gaan, zoals de statuten zeggen.",
    "b": "Een stichting heeft geen leden en ook geen algemene vergadering van leden.\n\n"
    "Het bestuur van de stichting beslist over alles wat de stichting aangaat.",
}


class CountingDocs:
    def __init__(self, inner):
        self.inner = inner
        self.embedded: list[str] = []

    def encode_documents(self, texts, **kw):
        self.embedded += texts
        return self.inner.encode_documents(texts, **kw)

    def cached_mask(self, texts, titles=None):
        return self.inner.cached_mask(texts, titles)


def test_unit_vectors_embed_the_paragraphs_of_chunks_without_passage_vectors(hashing_embedder):
    from kb.answering.evidence import unit_vectors

    store = ChunkOnlyStore(hashing_embedder, PARAGRAPHS)
    counting = CountingDocs(hashing_embedder)
    got = unit_vectors(store, counting)(["a", "b"])
    assert [t for t, _ in got["a"]] == PARAGRAPHS["a"].split("\n\n")
    assert len(counting.embedded) == 4


def test_unit_vectors_do_not_embed_the_items_of_a_list_of_links(hashing_embedder):
    from kb.answering.evidence import unit_vectors

    prose = (
        "Een vereniging ontstaat als een aantal mensen afspreekt om samen, als leden, aan een doel te werken; "
        "daar is geen notaris voor nodig."
    )
    store = ChunkOnlyStore(hashing_embedder, {"a": f"{prose}\n\n{MORE}"})
    counting = CountingDocs(hashing_embedder)
    unit_vectors(store, counting)(["a"])
    assert counting.embedded and not any("http" in t or "De kosten" in t for t in counting.embedded)
    assert prose in counting.embedded


def test_unit_vectors_within_a_budget_lend_the_chunk_vector_to_later_chunks(hashing_embedder):
    from kb.answering.evidence import unit_vectors

    store = ChunkOnlyStore(hashing_embedder, PARAGRAPHS)
    counting = CountingDocs(hashing_embedder)
    got = unit_vectors(store, counting, budget_chars=200)(["a", "b"])
    assert counting.embedded == PARAGRAPHS["a"].split("\n\n")  # the first source always; the second is over
    assert [t for t, _ in got["b"]] == PARAGRAPHS["b"].split("\n\n")
    assert all(np.array_equal(v, store.vectors["b"]) for _, v in got["b"])
    assert not np.array_equal(got["a"][0][1], store.vectors["a"])


def test_over_budget_counts_only_paragraphs_not_yet_cached():
    from kb.answering.evidence import _over_budget

    owners = ["a", "a", "b", "c"]
    texts = ["x" * 100, "x" * 100, "y" * 150, "z" * 50]
    assert _over_budget(owners, texts, [False] * 4, 260) == {"b"}  # c still fits after b is left out
    assert _over_budget(owners, texts, [False, False, True, False], 260) == set()  # b costs nothing
    assert _over_budget(owners, texts, [False] * 4, 10) == {"b", "c"}  # the first source is always embedded


def test_with_a_budget_a_long_one_paragraph_chunk_gets_its_sentences_within_it(hashing_embedder):
    from kb.answering.evidence import unit_vectors

    sentence = "Een vereniging met volledige rechtsbevoegdheid schrijft zich in bij de Kamer van Koophandel."
    long = " ".join([sentence] * 9)  # one paragraph of more than 700 characters: split into sentences
    store = ChunkOnlyStore(hashing_embedder, {"a": PARAGRAPHS["a"], "long": long})
    counting = CountingDocs(hashing_embedder)
    got = unit_vectors(store, counting, budget_chars=5000)(["a", "long"])
    assert [t for t, _ in got["long"]] == split_units(long) and len(got["long"]) == 9
    assert len(counting.embedded) == 2 + 9
    counting = CountingDocs(hashing_embedder)
    lent = unit_vectors(store, counting, budget_chars=200)(["a", "long"])
    assert len(counting.embedded) == 2  # the long chunk is over the budget: its sentences borrow its vector
    assert len(lent["long"]) == 9 and all(np.array_equal(v, store.vectors["long"]) for _, v in lent["long"])
