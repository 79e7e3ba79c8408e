"""Checks against the shared benchmark; skipped when ../shared/bench is not there."""

import re
from pathlib import Path

import pytest

from kb.evaluation.citations import citation_matches, citation_problem
from kb.evaluation.questions import load_questions

BENCH = Path(__file__).parents[2].parent / "shared/bench"
DEV = BENCH / "dev.jsonl"
CORPUS = BENCH / "corpus"

pytestmark = pytest.mark.skipif(not DEV.exists(), reason="shared/bench/dev.jsonl ontbreekt")

_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


def test_dev_questions_load_and_citations_have_a_valid_form():
    questions = load_questions(DEV)
    assert len(questions) >= 1
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        assert q.type in {"literal", "reasoning", "amount", "negative"}, q.id
        assert q.is_negative == (q.type == "negative"), q.id
        if not q.is_negative:
            assert q.gold_citations and q.answer_must_contain, q.id
        for citation in q.gold_citations + q.acceptable_citations:
            assert citation_problem(citation) is None, (q.id, citation)


def _heading_paths(path: Path) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    stack: list[tuple[int, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _HEADING.match(line)
        if not m:
            continue
        level = len(m.group(1))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, m.group(2)))
        paths.append(tuple(h for _, h in stack))
    return paths


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/bench/corpus ontbreekt")
def test_every_dev_citation_matches_a_section_of_the_corpus():
    sections = [(f.name, p) for f in sorted(CORPUS.rglob("*.md")) for p in _heading_paths(f)]
    assert sections
    for q in load_questions(DEV):
        for citation in q.gold_citations + q.acceptable_citations:
            assert any(citation_matches(citation, src, path) for src, path in sections), (q.id, citation)


def test_every_expected_answer_contains_its_facts():
    from kb.evaluation.normalize import missing_facts

    for q in load_questions(DEV):
        assert missing_facts(q.expected_answer, q.answer_must_contain) == [], q.id
