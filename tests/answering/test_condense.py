from kb.answering.condense import condense, looks_like_follow_up, rule_based_condense
from kb.answering.types import Turn


def history(q: str) -> list[Turn]:
    return [Turn("user", q), Turn("assistant", "Antwoord.")]


def test_subject_swap_for_follow_up():
    out = rule_based_condense("En voor een stichting?", history("Moet een vereniging zich inschrijven bij de KvK?"))
    assert "stichting" in out and "vereniging" not in out and "inschrijven" in out


def test_follow_up_without_subject_carries_previous_question():
    out = rule_based_condense("En hoe lang duurt dat?", history("Hoe vraag ik een subsidie aan bij de gemeente?"))
    assert out.startswith("Hoe vraag ik een subsidie aan") and out.endswith("En hoe lang duurt dat?")


def test_standalone_question_is_left_alone():
    q = "Wat moet er in de statuten van een coöperatie staan?"
    assert rule_based_condense(q, history("Moet een vereniging zich inschrijven?")) == q
    assert not looks_like_follow_up(q)


def test_llm_rewrite_used_and_failure_falls_back():
    h = history("Moet een vereniging zich inschrijven bij de KvK?")
    assert condense("En een stichting?", h, lambda q, hist: "Moet een stichting zich inschrijven?") == (
        "Moet een stichting zich inschrijven?"
    )

    def broken(q, hist):
        raise ConnectionError("down")

    assert "stichting" in condense("En voor een stichting?", h, broken)
    assert condense("Iets?", [], broken) == "Iets?"
