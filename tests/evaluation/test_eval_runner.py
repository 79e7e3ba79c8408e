from collections import Counter
from types import SimpleNamespace

import pytest

from kb.evaluation.metrics import RetrievedItem
from kb.evaluation.questions import EvalQuestion
from kb.evaluation.runner import run_answers, run_retrieval, split_halves


def q(id, type="literal", topic="rechtsvorm", gold=("art. 2:26 BW",), must=("winst",)):
    if type == "negative":
        gold, must = (), ()
    return EvalQuestion(id, f"vraag {id}", tuple(gold), (), tuple(must), "", type, topic)


GOOD = RetrievedItem("bw2.md", ("art. 2:26 BW",))
BAD = RetrievedItem("bw2.md", ("art. 2:27 BW",))


def test_run_retrieval_calls_search_with_k_and_scores():
    calls = []
    answers = {
        "vraag a": [GOOD] + [BAD] * 20,  # more than k: truncated
        "vraag b": [BAD] * 4 + [GOOD],
        "vraag c": [],
    }

    def search(text, k):
        calls.append((text, k))
        return answers[text]

    questions = [q("a"), q("b", type="amount"), q("c", type="negative")]
    report = run_retrieval(questions, search, k=10)
    assert calls == [("vraag a", 10), ("vraag b", 10), ("vraag c", 10)]
    assert report.overall.n == 2
    assert report.overall.recall == {1: 0.5, 5: 1.0, 10: 1.0}
    assert report.overall.mrr == pytest.approx((1 + 1 / 5) / 2)
    assert report.timing.n == 3 and report.timing.median >= 0


def test_run_retrieval_truncates_to_k_and_drops_larger_ks():
    report = run_retrieval([q("a")], lambda text, k: [BAD] * 5 + [GOOD], k=5)
    assert report.ks == (1, 5)
    assert report.overall.recall == {1: 0.0, 5: 0.0}
    assert report.misses[0].rank is None


def test_run_retrieval_accepts_hits_and_pairs():
    hit = SimpleNamespace(rank=1, score=0.9, chunk=SimpleNamespace(source="x/bw2.md", section=("art. 2:26 BW",)))
    assert run_retrieval([q("a")], lambda t, k: [hit]).overall.mrr == 1.0
    assert run_retrieval([q("a")], lambda t, k: [("bw2.md", ["art. 2:26 BW"])]).overall.mrr == 1.0


def test_run_answers():
    def ask(text):
        if text == "vraag a":
            return "Geen winst verdelen.", False, [GOOD]
        if text == "vraag b":
            return "Niet in de bronnen.", True, []
        return "Niet in de bronnen.", True, []

    report = run_answers([q("a"), q("b"), q("n", type="negative")], ask)
    assert report.must_contain_rate == 0.5
    assert report.citation_rate == 0.5
    assert report.wrong_refusal_rate == 0.5
    assert report.refusal_rate == 1.0
    assert report.timing.n == 3
    assert [f.id for f in report.failures] == ["b"]


def _bench():
    types = ["literal"] * 31 + ["reasoning"] * 12 + ["amount"] * 11 + ["negative"] * 6
    return [q(f"dev-{i:03d}", type=t) for i, t in enumerate(types, start=1)]


def test_split_halves_disjoint_complete_and_stratified():
    questions = _bench()
    a, b = split_halves(questions, seed=0)
    ids_a, ids_b = {x.id for x in a}, {x.id for x in b}
    assert not ids_a & ids_b
    assert ids_a | ids_b == {x.id for x in questions}
    assert abs(len(a) - len(b)) <= 1
    ca, cb = Counter(x.type for x in a), Counter(x.type for x in b)
    for t, n in Counter(x.type for x in questions).items():
        assert ca[t] + cb[t] == n
        assert abs(ca[t] - cb[t]) <= 1
    assert [x.id for x in a] == sorted(ids_a)  # input order kept


def test_split_halves_is_deterministic_per_seed():
    questions = _bench()
    assert split_halves(questions, seed=3) == split_halves(questions, seed=3)
    assert split_halves(questions, seed=0)[0] != split_halves(questions, seed=1)[0]


def test_split_halves_small_inputs():
    assert split_halves([]) == ([], [])
    one = [q("a")]
    a, b = split_halves(one)
    assert len(a) + len(b) == 1
