import json

import pytest

from kb.evaluation.questions import EvalQuestion, QuestionFileError, load_questions


def record(**overrides):
    data = {
        "id": "dev-001",
        "question": "Mogen we de winst verdelen?",
        "gold_citations": ["art. 2:26 BW"],
        "acceptable_citations": [],
        "answer_must_contain": ["winst"],
        "expected_answer": "Nee (art. 2:26 lid 3 BW).",
        "type": "literal",
        "topic": "rechtsvorm",
    }
    data.update(overrides)
    return data


def write(tmp_path, lines):
    path = tmp_path / "vragen.jsonl"
    path.write_text("\n".join(ln if isinstance(ln, str) else json.dumps(ln) for ln in lines) + "\n", encoding="utf-8")
    return path


def test_load_questions_reads_every_field(tmp_path):
    path = write(
        tmp_path,
        [
            record(),
            "",
            record(id="dev-002", type="negative", gold_citations=[], answer_must_contain=[], topic="overig"),
        ],
    )
    qs = load_questions(path)
    assert [q.id for q in qs] == ["dev-001", "dev-002"]
    q = qs[0]
    assert q.gold_citations == ("art. 2:26 BW",)
    assert q.answer_must_contain == ("winst",)
    assert q.expected_answer == "Nee (art. 2:26 lid 3 BW)."
    assert (q.type, q.topic) == ("literal", "rechtsvorm")
    assert not q.is_negative
    assert qs[1].is_negative
    assert q.to_dict()["gold_citations"] == ["art. 2:26 BW"]


def test_question_without_gold_is_negative_whatever_its_type():
    q = EvalQuestion.from_dict(record(gold_citations=[], type="literal"))
    assert q.is_negative


def test_all_citations_gold_first():
    q = EvalQuestion.from_dict(record(acceptable_citations=["art. 2:27 BW"]))
    assert q.all_citations == ("art. 2:26 BW", "art. 2:27 BW")


def test_optional_fields_default_to_empty(tmp_path):
    data = record()
    for name in ("acceptable_citations", "answer_must_contain", "expected_answer"):
        del data[name]
    (q,) = load_questions(write(tmp_path, [data]))
    assert q.acceptable_citations == () and q.answer_must_contain == () and q.expected_answer == ""


def test_bad_json_names_the_line(tmp_path):
    path = write(tmp_path, [record(), '{"id": "dev-002", "question": '])
    with pytest.raises(QuestionFileError, match=r"regel 2: ongeldige JSON"):
        load_questions(path)


@pytest.mark.parametrize("field", ["id", "question", "type", "topic", "gold_citations"])
def test_missing_field_names_line_and_field(tmp_path, field):
    bad = record(id="dev-003")
    del bad[field]
    path = write(tmp_path, [record(), record(id="dev-002"), bad])
    with pytest.raises(QuestionFileError, match=rf"regel 3: veld '{field}' ontbreekt"):
        load_questions(path)


def test_wrong_field_types(tmp_path):
    with pytest.raises(QuestionFileError, match=r"regel 1: veld 'gold_citations' moet een lijst"):
        load_questions(write(tmp_path, [record(gold_citations="art. 2:26 BW")]))
    with pytest.raises(QuestionFileError, match=r"regel 1: veld 'question' moet een niet-lege tekst"):
        load_questions(write(tmp_path, [record(question="  ")]))
    with pytest.raises(QuestionFileError, match=r"regel 1: verwacht een JSON-object"):
        load_questions(write(tmp_path, [[1, 2]]))


def test_unreadable_citation_is_rejected(tmp_path):
    with pytest.raises(QuestionFileError, match=r"regel 1: veld 'acceptable_citations'"):
        load_questions(write(tmp_path, [record(acceptable_citations=["bestand.md § "])]))


def test_duplicate_id(tmp_path):
    with pytest.raises(QuestionFileError, match=r"regel 2: id 'dev-001' komt al voor op regel 1"):
        load_questions(write(tmp_path, [record(), record()]))


def test_missing_and_empty_file(tmp_path):
    with pytest.raises(QuestionFileError, match="bestaat niet"):
        load_questions(tmp_path / "nergens.jsonl")
    empty = tmp_path / "leeg.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match="bevat geen vragen"):
        load_questions(empty)
