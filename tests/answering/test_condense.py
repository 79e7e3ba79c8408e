"""The rule-based follow-up rewrite replaces the subject (same class of term), it does not append."""

import pytest

from kb.answering.condense import condense, find_subjects, looks_like_follow_up, rule_based_condense, swap_subjects
from kb.answering.types import Turn


def history(*questions: str) -> list[Turn]:
    turns = []
    for q in questions:
        turns += [Turn("user", q), Turn("assistant", "Antwoord.")]
    return turns


def test_subject_swap_for_follow_up():
    out = rule_based_condense("En voor een stichting?", history("Moet een vereniging zich inschrijven bij de KvK?"))
    assert out == "Moet een stichting zich inschrijven bij de KvK?"


def test_compound_subject_is_replaced_whole():
    # the example: "buurtvereniging" is a vereniging; the follow-up must not be appended
    out = rule_based_condense(
        "En voor een stichting?", history("Moeten we naar de notaris om een buurtvereniging te beginnen?")
    )
    assert out == "Moeten we naar de notaris om een stichting te beginnen?"


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        ("Wie is aansprakelijk in een stichting?", "En bij een coöperatie?", "Wie is aansprakelijk in een coöperatie?"),
        (
            "Heeft een coöperatie statuten nodig?",
            "Hoe zit het met een vereniging?",
            "Heeft een vereniging statuten nodig?",
        ),
        (
            "Moet onze zorgcoöperatie btw betalen over de contributie?",
            "En vennootschapsbelasting?",
            "Moet onze zorgcoöperatie vennootschapsbelasting betalen over de contributie?",
        ),
        (
            "Wanneer moet een stichting vennootschapsbelasting betalen?",
            "En de btw?",
            "Wanneer moet een stichting btw betalen?",
        ),
        (
            "Kan een donateur een periodieke gift aftrekken?",
            "En een gewone gift?",
            "Kan een donateur een gewone gift aftrekken?",
        ),
        ("Moet een vereniging btw afdragen?", "Geldt dat ook voor een stichting?", "Moet een stichting btw afdragen?"),
        ("Moet een vereniging btw afdragen?", "Een stichting dan?", "Moet een stichting btw afdragen?"),
    ],
)
def test_subject_swaps_of_several_kinds(previous, follow_up, expected):
    assert rule_based_condense(follow_up, history(previous)) == expected


def test_swap_of_two_kinds_at_once():
    out = rule_based_condense(
        "En een stichting met vennootschapsbelasting?", history("Moet een vereniging btw betalen over de kantine?")
    )
    assert out == "Moet een stichting vennootschapsbelasting betalen over de kantine?"


def test_chain_of_follow_ups_keeps_the_first_questions_body():
    turns = history("Moeten we naar de notaris om een vereniging op te richten?", "En voor een stichting?")
    out = rule_based_condense("En een coöperatie?", turns)
    assert out == "Moeten we naar de notaris om een coöperatie op te richten?"


def test_follow_up_without_subject_carries_previous_question():
    out = rule_based_condense("En hoe lang duurt dat?", history("Hoe vraag ik een subsidie aan bij de gemeente?"))
    assert out.startswith("Hoe vraag ik een subsidie aan") and out.endswith("En hoe lang duurt dat?")


def test_follow_up_with_a_subject_of_a_kind_the_previous_lacks_is_read_together():
    out = rule_based_condense("En de btw?", history("Moeten we naar de notaris voor een vereniging?"))
    assert out == "Moeten we naar de notaris voor een vereniging? En de btw?"


def test_standalone_question_is_left_alone():
    q = "Wat moet er in de statuten van een coöperatie staan?"
    assert rule_based_condense(q, history("Moet een vereniging zich inschrijven?")) == q
    assert not looks_like_follow_up(q)
    # a short standalone question naming a subject is not elliptic
    assert not looks_like_follow_up("Wat is een stichting?")
    assert rule_based_condense("Wat is een stichting?", history("Moet een vereniging btw betalen?")) == (
        "Wat is een stichting?"
    )


def test_term_classes_know_compounds_but_not_short_heads_inside_words():
    subjects = {(s.text, s.term) for s in find_subjects("De buurtvereniging en de energiecoöperatie, ook bv's")}
    assert ("buurtvereniging", "vereniging") in subjects and ("energiecoöperatie", "cooperatie") in subjects
    assert not find_subjects("Een overval in de herfst")  # 'lid', 'bv' are whole words only
    assert swap_subjects("Wat doet de ledenvergadering?", "En het bestuur?") == "Wat doet de bestuur?"


def test_llm_rewrite_used_and_failure_falls_back():
    h = history("Moet een vereniging zich inschrijven bij de KvK?")
    assert condense("En een stichting?", h, lambda q, hist: "Moet een stichting zich inschrijven?") == (
        "Moet een stichting zich inschrijven?"
    )

    def broken(q, hist):
        raise ConnectionError("down")

    assert condense("En voor een stichting?", h, broken) == "Moet een stichting zich inschrijven bij de KvK?"
    assert condense("Iets?", [], broken) == "Iets?"
