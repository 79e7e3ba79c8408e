from kb.evaluation.metrics import AnswerRun, RetrievalRun, RetrievedItem, score_answers, score_retrieval
from kb.evaluation.questions import EvalQuestion
from kb.evaluation.report import format_answer_table, format_retrieval_table, summary_line


def q(id, type, topic, gold):
    return EvalQuestion(id, f"Vraag {id}?", tuple(gold), (), ("winst",), "", type, topic)


Q1 = q("q1", "literal", "rechtsvorm", ["art. 2:26 BW"])
Q2 = q("q2", "amount", "belasting", ["art. 6 Wet Vpb 1969"])
N1 = q("n1", "negative", "overig", [])
GOOD = RetrievedItem("bw2.md", ("BW", "art. 2:26 BW"))
WRONG = RetrievedItem("vpb.md", ("Wet Vpb", "art. 2 Wet Vpb 1969"))


def retrieval_report():
    return score_retrieval([RetrievalRun(Q1, [GOOD], 0.1), RetrievalRun(Q2, [WRONG], 0.3), RetrievalRun(N1, [], 0.2)])


def test_retrieval_table():
    text = format_retrieval_table(retrieval_report())
    lines = text.splitlines()
    assert lines[0] == "| Groep | n | R@1 | R@5 | R@10 | MRR |"
    assert "| totaal | 2 | 0.500 | 0.500 | 0.500 | 0.500 |" in lines
    assert "| type: literal | 1 | 1.000 | 1.000 | 1.000 | 1.000 |" in lines
    assert "| type: amount | 1 | 0.000 | 0.000 | 0.000 | 0.000 |" in lines
    assert "| onderwerp: belasting | 1 | 0.000 | 0.000 | 0.000 | 0.000 |" in lines
    miss = next(ln for ln in lines if ln.startswith("- q2"))
    assert (
        "niet gevonden" in miss and "art. 6 Wet Vpb 1969" in miss and "vpb.md § Wet Vpb > art. 2 Wet Vpb 1969" in miss
    )
    assert not any(ln.startswith("- q1") for ln in lines)
    assert "mediaan 200 ms" in text and "p95" in text
    assert "1 negatieve controlevragen" in text


def test_answer_table_and_summaries():
    report = score_answers(
        [
            AnswerRun(Q1, "Geen winst.", False, [GOOD], 0.5),
            AnswerRun(Q2, "Weet ik niet.", True, [], 0.5),
            AnswerRun(N1, "Staat niet in de bronnen.", True, [], 0.5),
        ]
    )
    text = format_answer_table(report)
    lines = text.splitlines()
    assert lines[0].startswith("| Groep | n | bevat feiten | juiste bron | onterecht geweigerd")
    assert "| totaal | 2 | 0.500 | 0.500 | 0.500 | 1 | 1.000 |" in lines
    assert "| type: negative | 0 | — | — | — | 1 | 1.000 |" in lines
    failure = next(ln for ln in lines if ln.startswith("- q2"))
    assert "onterecht geweigerd" in failure and "mist 'winst'" in failure and "geen juiste bron" in failure
    summary = summary_line(report)
    assert "\n" not in summary and "feiten 0.500" in summary and "geweigerd 1.000" in summary
    rsummary = summary_line(retrieval_report())
    assert "\n" not in rsummary and rsummary.startswith("Retrieval (n=2): R@1 0.500")
