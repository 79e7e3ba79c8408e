import pytest

from kb.evaluation.metrics import (
    AnswerRun,
    RetrievalRun,
    RetrievedItem,
    first_match_rank,
    score_answers,
    score_retrieval,
)
from kb.evaluation.questions import EvalQuestion

OB = "ob_fondswerving_en_kantines_BWBR0034569.md"


def q(id, type, topic, gold=(), acceptable=(), must=()):
    return EvalQuestion(id, f"vraag {id}", tuple(gold), tuple(acceptable), tuple(must), "", type, topic)


Q1 = q("q1", "literal", "rechtsvorm", ["art. 2:26 BW"], must=["winst"])
Q2 = q("q2", "amount", "belasting", [f"{OB} § 2.1"], [f"{OB} § 2"], must=["zeven dagen", "€ 75.000"])
Q3 = q("q3", "literal", "belasting", ["art. 6.32 Wet IB 2001"], must=["twee derden"])
Q4 = q("q4", "reasoning", "overig", ["gemeentewet.md"], must=["21"])
N1 = q("n1", "negative", "overig")
N2 = q("n2", "negative", "financiering")

HIT_Q1 = RetrievedItem("bw2.md", ("BW Boek 2", "art. 2:26 BW"))
HIT_Q2 = RetrievedItem(f"beleidsregels/{OB}", ("Omzetbelasting", "2.1 Fondswerving"))
HIT_Q2_ACCEPTABLE = RetrievedItem(OB, ("Omzetbelasting", "2 De wettelijke vrijstelling"))
HIT_Q4 = RetrievedItem("wetten/gemeentewet.md", ("Gemeentewet", "art. 150 Gemeentewet"))


def other(n):
    return RetrievedItem(f"ander_{n}.md", ("Titel", f"art. {n} Iets"))


def retrieval_runs():
    return [
        RetrievalRun(Q1, [HIT_Q1, other(1)], 1.0),
        RetrievalRun(Q2, [other(1), HIT_Q2_ACCEPTABLE, HIT_Q2, HIT_Q2], 2.0),
        RetrievalRun(Q3, [other(i) for i in range(10)], 3.0),
        RetrievalRun(Q4, [other(i) for i in range(6)] + [HIT_Q4], 4.0),
        RetrievalRun(N1, [HIT_Q1], 10.0),
    ]


def test_first_match_rank_uses_gold_only():
    assert first_match_rank(Q2, [other(1), HIT_Q2_ACCEPTABLE, HIT_Q2]) == 3
    assert first_match_rank(Q2, [HIT_Q2_ACCEPTABLE]) is None
    assert first_match_rank(Q1, []) is None


def test_retrieval_scores_on_a_known_example():
    report = score_retrieval(retrieval_runs())
    o = report.overall
    assert o.n == 4 and report.n_negative == 1
    assert o.recall == {1: 0.25, 5: 0.5, 10: 0.75}
    assert o.mrr == pytest.approx((1 + 1 / 3 + 0 + 1 / 7) / 4)

    assert list(report.by_type) == ["literal", "reasoning", "amount"]
    assert report.by_type["literal"].n == 2
    assert report.by_type["literal"].recall == {1: 0.5, 5: 0.5, 10: 0.5}
    assert report.by_type["literal"].mrr == pytest.approx(0.5)
    assert report.by_type["reasoning"].recall == {1: 0.0, 5: 0.0, 10: 1.0}
    assert report.by_type["amount"].mrr == pytest.approx(1 / 3)
    assert "negative" not in report.by_type

    assert set(report.by_topic) == {"rechtsvorm", "belasting", "overig"}
    assert report.by_topic["belasting"].recall == {1: 0.0, 5: 0.5, 10: 0.5}
    assert report.by_topic["belasting"].mrr == pytest.approx(1 / 6)
    assert report.by_topic["overig"].n == 1  # the negative does not count


def test_misses_not_found_first_then_by_rank_with_first_hit():
    report = score_retrieval(retrieval_runs())
    assert [(m.id, m.rank) for m in report.misses] == [("q3", None), ("q2", 3), ("q4", 7)]
    miss = report.misses[0]
    assert miss.gold == ("art. 6.32 Wet IB 2001",)
    assert miss.question == "vraag q3"
    assert miss.first == other(0)


def test_timing_covers_every_query():
    t = score_retrieval(retrieval_runs()).timing
    assert t.n == 5
    assert t.median == 3.0
    assert t.p95 == pytest.approx(8.8)  # linear between 4 and 10 at position 3.8
    assert t.max == 10.0


def test_retrieval_report_to_dict_and_empty_groups():
    d = score_retrieval(retrieval_runs()).to_dict()
    assert d["overall"]["recall@5"] == 0.5
    assert d["misses"][0]["first"] == {"source": "ander_0.md", "section": ["Titel", "art. 0 Iets"]}
    empty = score_retrieval([RetrievalRun(N1, [], 0.1)])
    assert empty.overall.n == 0 and empty.overall.mrr is None and empty.overall.recall[1] is None


def answer_runs():
    return [
        AnswerRun(Q1, "Nee, een winstuitkering aan leden mag niet (art. 2:26 BW).", False, [HIT_Q1], 1.0),
        AnswerRun(Q2, "Binnen 7 dagen, tot 75000 euro.", False, [HIT_Q2_ACCEPTABLE], 1.0),
        AnswerRun(Q3, "Dat staat niet in de bronnen.", True, [], 1.0),
        AnswerRun(Q4, "Het bedrag is 2100 euro.", False, [other(3)], 1.0),
        AnswerRun(N1, "Dat staat niet in de bronnen.", True, [], 1.0),
        AnswerRun(N2, "Ja, dat mag.", False, [HIT_Q1], 1.0),
    ]


def test_answer_scores_on_a_known_example():
    report = score_answers(answer_runs())
    assert report.overall.n == 4 and report.overall.n_negative == 2
    assert report.must_contain_rate == 0.5
    assert report.citation_rate == 0.5
    assert report.wrong_refusal_rate == 0.25
    assert report.refusal_rate == 0.5
    assert [f.id for f in report.failures] == ["q3", "q4", "n2"]
    by_id = {r.id: r for r in report.results}
    assert by_id["q3"].missing == ("twee derden",)
    assert by_id["q4"].missing == ("21",) and not by_id["q4"].cited_ok
    assert by_id["q2"].cited_ok  # an acceptable citation counts for answers
    assert report.by_type["negative"].refusal == 0.5 and report.by_type["negative"].n == 0
    assert report.by_type["literal"].must_contain == 0.5
    assert report.by_topic["overig"].n == 1 and report.by_topic["overig"].refusal == 1.0
    d = report.to_dict()
    assert d["overall"]["citation"] == 0.5
    assert d["failures"][0]["refused"] is True


def test_retrieved_item_from_hit_like_objects():
    from types import SimpleNamespace

    hit = SimpleNamespace(chunk=SimpleNamespace(source="a.md", section=["H1", "H2"]))
    assert RetrievedItem.from_hit(hit) == RetrievedItem("a.md", ("H1", "H2"))
    assert RetrievedItem("a.md", ["x"]).section == ("x",)
