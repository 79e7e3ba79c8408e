"""Cross-validation folds: fixed, stratified by type, disjoint and complete."""

import pytest

from kb.evaluation.folds import spread, stratified_folds, train_test
from kb.evaluation.questions import EvalQuestion


def q(i: int, type_: str) -> EvalQuestion:
    gold = () if type_ == "negative" else ("art. 1 BW",)
    return EvalQuestion(f"dev-{i:03d}", f"vraag {i}", gold, (), (), "", type_, "overig")


QUESTIONS = [q(i, t) for i, t in enumerate(["literal"] * 41 + ["reasoning"] * 14 + ["amount"] * 9 + ["negative"] * 6)]


def test_folds_are_disjoint_complete_and_balanced():
    folds = stratified_folds(QUESTIONS, 5, seed=0)
    flat = [i for f in folds for i in f]
    assert sorted(flat) == list(range(len(QUESTIONS)))
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    for type_ in ("literal", "reasoning", "amount", "negative"):
        counts = [sum(QUESTIONS[i].type == type_ for i in f) for f in folds]
        assert max(counts) - min(counts) <= 1, (type_, counts)


def test_folds_are_fixed_and_do_not_depend_on_input_order():
    a = stratified_folds(QUESTIONS, 5, seed=0)
    assert a == stratified_folds(QUESTIONS, 5, seed=0)
    reversed_questions = list(reversed(QUESTIONS))
    b = stratified_folds(reversed_questions, 5, seed=0)
    ids = lambda folds, qs: [sorted(qs[i].id for i in f) for f in folds]  # noqa: E731
    assert ids(a, QUESTIONS) == ids(b, reversed_questions)
    assert stratified_folds(QUESTIONS, 5, seed=1) != a


def test_train_test_and_spread():
    folds = stratified_folds(QUESTIONS, 5)
    train, test = train_test(folds, 2)
    assert set(train).isdisjoint(test) and len(train) + len(test) == len(QUESTIONS)
    s = spread([0.8, 0.9, None, 1.0])
    assert s.values == (0.8, 0.9, 1.0) and s.mean == pytest.approx(0.9) and s.sd == pytest.approx(0.1)
    assert str(s) == "0.900 ± 0.100"
    with pytest.raises(ValueError):
        stratified_folds(QUESTIONS, 1)
