"""Refusal from evidence: general signals of a search, a fitted logistic model, three outcomes.

What a volunteer relies on: a question in lay words or with an abbreviation the law never uses is not
refused for that alone (no word-absence rule), a question asking for an amount the sources lack weighs
towards refusal, and the shipped model decides answer / uncertain / refuse by its thresholds.
"""

import json

import pytest

from kb.answering.answerability import (
    FEATURES,
    MODEL_PATH,
    RefusalModel,
    asked_type_missing,
    asking_part,
    evidence_features,
    fit_model,
    load_model,
)
from kb.retrieval.dutch_text import DutchAnalyzer
from kb.retrieval.types import Hit
from kb.store import StoredChunk

CORPUS = [
    "Een stichting wordt opgericht bij notariële akte. Het bestuur van de stichting beslist.",
    "Een vereniging heeft leden. De algemene vergadering van leden kiest het bestuur.",
    "De vrijstelling geldt tot een bedrag van € 15.000 per jaar.",
    "Het bezwaar moet binnen zes weken na de datum van het besluit worden ingediend bij de gemeente.",
]


def hit(text: str, dense: float = 0.6, doc: str = "d", rank: int = 1) -> Hit:
    chunk = StoredChunk(f"{doc}-c{rank}", doc, text, "", "T", "s.md", "p", "overig", ("T",), None, None, 0)
    return Hit(rank, dense, chunk, signals={"dense": dense})


ANALYZER = DutchAnalyzer(DutchAnalyzer.build_vocabulary(CORPUS))


def test_asking_part_takes_the_question_sentence():
    assert asking_part("We zijn een club. Wat moeten we doen? Dank.") == "Wat moeten we doen?"
    assert asking_part("Geen vraagteken hier. Laatste zin") == "Laatste zin"


def test_a_question_for_an_amount_or_a_term_needs_one_in_the_sources():
    assert asked_type_missing("Wat kost het om een stichting op te richten?", [hit(CORPUS[0])])
    assert not asked_type_missing("Wat kost het?", [hit(CORPUS[2])])
    assert asked_type_missing("Voor welke datum moeten we bezwaar maken?", [hit(CORPUS[0])])
    assert not asked_type_missing("Binnen hoeveel weken moeten we bezwaar maken?", [hit(CORPUS[3])])
    assert not asked_type_missing("Wie kiest het bestuur?", [hit(CORPUS[0])])


def test_a_question_for_a_quantity_needs_a_number_with_a_unit_not_a_numbered_lid():
    lid = "1. Het bestuur bestaat uit ten minste drie personen. 2. De leden kiezen het bestuur."
    assert asked_type_missing("Hoeveel mag de huur stijgen?", [hit(lid)])  # "1." and "2." number leden
    assert not asked_type_missing("Hoe lang heeft de gemeente voor het bezwaar?", [hit(CORPUS[3])])
    assert not asked_type_missing("Hoeveel bedraagt de vrijstelling?", [hit(CORPUS[2])])


def test_the_value_asked_for_must_stand_in_a_sentence_about_the_questions_subject():
    sources = [hit("De notaris stelt de akte op. Het bezwaar moet binnen zes weken worden ingediend.")]
    # a term in the sources, but about the bezwaar, not about the registration the question asks about
    assert asked_type_missing("Hoe lang duurt de inschrijving bij de notaris?", sources)
    assert not asked_type_missing("Binnen hoeveel weken moet het bezwaar binnen zijn?", sources)
    amount = [hit("De kantine verkoopt koffie. De boete voor te laat betalen is € 50.")]
    assert asked_type_missing("Hoe hoog is de boete voor een te late inschrijving bij de KvK?", amount) is False
    assert asked_type_missing("Hoe hoog is de huur van de zaal?", amount)


def test_features_are_general_signals_in_their_ranges():
    hits = [hit(CORPUS[1], 0.7, "a", 1), hit(CORPUS[0], 0.5, "b", 2)]
    f = evidence_features("Wie kiest het bestuur van een vereniging?", hits, ANALYZER, lexical_docs=["a"])
    assert set(f) == set(FEATURES)
    assert f["top_dense"] == pytest.approx(0.7) and f["margin"] == pytest.approx(0.2)
    assert f["agreement"] == pytest.approx(0.5)  # one of the two dense documents is also BM25's
    assert 0.9 <= f["coverage"] <= 1.0 and f["known"] == 1.0 and f["type_missing"] == 0.0


def test_unknown_words_lower_coverage_but_are_no_rule():
    hits = [hit(CORPUS[1])]
    f = evidence_features("Mag de penningmeester declaraties goedkeuren?", hits, ANALYZER)
    assert f["coverage"] < 0.5 and f["known"] < 0.5
    # the shipped model weighs it with every other signal; with strong evidence elsewhere it still answers
    model = RefusalModel(
        {"top_dense": 4.0, "known": 0.5},
        0.0,
        {"top_dense": 0.5, "known": 0.5},
        {"top_dense": 0.1, "known": 0.5},
        0.2,
        0.5,
    )
    assert model.decide({**f, "top_dense": 0.8}).outcome == "answer"


def test_glossary_terms_found_in_the_sources_count_as_covered():
    hits = [hit(CORPUS[1])]
    lay = evidence_features("Wie kiest de leiding van onze club?", hits, ANALYZER)
    legal = evidence_features("Wie kiest de leiding van onze club?", hits, ANALYZER, expansions=["vereniging"])
    assert legal["coverage"] > lay["coverage"]


def test_model_has_three_outcomes_by_its_thresholds():
    model = RefusalModel({"top_dense": 1.0}, 0.0, {"top_dense": 0.5}, {"top_dense": 0.1}, 0.3, 0.6)
    assert model.decide({"top_dense": 0.2}).outcome == "refuse"
    assert model.decide({"top_dense": 0.5}).outcome == "uncertain"
    assert model.decide({"top_dense": 0.9}).outcome == "answer"
    verdict = model.decide({"top_dense": 0.2})
    assert verdict.refused and not verdict.uncertain and verdict.reason


def test_fit_separates_and_keeps_wrong_refusals_within_the_bound():
    rows = [dict.fromkeys(FEATURES, 0.0) | {"top_dense": 0.5 + 0.01 * i} for i in range(40)]
    rows += [dict.fromkeys(FEATURES, 0.0) | {"top_dense": 0.3 + 0.01 * i} for i in range(8)]
    labels = [True] * 40 + [False] * 8
    model = fit_model(rows, labels, max_wrong_refusals=0.05, max_uncertain=0.2)
    wrong = sum(model.decide(r).refused for r, y in zip(rows, labels, strict=True) if y)
    assert wrong <= 2  # floor(0.05 · 40)
    assert sum(model.decide(r).refused for r, y in zip(rows, labels, strict=True) if not y) >= 6
    assert model.weights["top_dense"] > 0
    again = RefusalModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.decide(rows[0]) == model.decide(rows[0])


def test_shipped_model_uses_known_features_and_ordered_thresholds():
    model = load_model("embeddinggemma-300m", MODEL_PATH)
    assert model is not None and set(model.weights) <= set(FEATURES)
    assert model.refuse_below <= model.uncertain_below
    assert load_model("een-ander-model", MODEL_PATH) is None  # no model fitted for it: no evidence refusals


def test_a_model_is_saved_per_embedding_model(tmp_path):
    path = tmp_path / "model.json"
    a = RefusalModel({"top_dense": 1.0}, 0.0, {"top_dense": 0.5}, {"top_dense": 0.1}, 0.2, 0.5)
    b = RefusalModel({"top_dense": 2.0}, 0.0, {"top_dense": 0.8}, {"top_dense": 0.1}, 0.2, 0.5)
    a.save("gemma", path)
    b.save("e5", path)
    assert load_model("gemma", path) == a and load_model("e5", path) == b
