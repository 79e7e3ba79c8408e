"""Benchmark questions: the schema of ``shared/bench/README.md`` and a loader for its JSON Lines files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kb.errors import KbError
from kb.evaluation.citations import CitationError, parse_citation

NEGATIVE = "negative"
QUESTION_TYPES = ("literal", "reasoning", "amount", NEGATIVE)

_REQUIRED_TEXT = ("id", "question", "type", "topic")
_REQUIRED_LISTS = ("gold_citations",)
_OPTIONAL_LISTS = ("acceptable_citations", "answer_must_contain")


class QuestionFileError(KbError, ValueError):
    """A question file that cannot be read; the Dutch message names the file and line."""


@dataclass(frozen=True)
class EvalQuestion:
    """One benchmark question."""

    id: str
    question: str
    gold_citations: tuple[str, ...]
    acceptable_citations: tuple[str, ...]
    answer_must_contain: tuple[str, ...]
    expected_answer: str
    type: str
    topic: str

    @property
    def is_negative(self) -> bool:
        """A negative control: the answer is not in the sources."""
        return self.type == NEGATIVE or not self.gold_citations

    @property
    def all_citations(self) -> tuple[str, ...]:
        """Gold first, then acceptable: everything an answer may reasonably cite."""
        return self.gold_citations + self.acceptable_citations

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalQuestion:
        """Build a question from one parsed JSON object; raises ValueError (Dutch) on a schema problem."""
        if not isinstance(data, Mapping):
            raise ValueError(f"verwacht een JSON-object, niet {type(data).__name__}")
        for name in _REQUIRED_TEXT:
            if name not in data:
                raise ValueError(f"veld '{name}' ontbreekt")
            if not isinstance(data[name], str) or not data[name].strip():
                raise ValueError(f"veld '{name}' moet een niet-lege tekst zijn")
        for name in _REQUIRED_LISTS:
            if name not in data:
                raise ValueError(f"veld '{name}' ontbreekt (gebruik [] voor een negatieve controlevraag)")
        lists = {name: _string_list(data, name) for name in _REQUIRED_LISTS + _OPTIONAL_LISTS}
        for name in ("gold_citations", "acceptable_citations"):
            for citation in lists[name]:
                try:
                    parse_citation(citation)
                except CitationError as exc:
                    raise ValueError(f"veld '{name}': {exc}") from None
        expected = data.get("expected_answer", "")
        if not isinstance(expected, str):
            raise ValueError("veld 'expected_answer' moet tekst zijn")
        return cls(
            id=data["id"].strip(),
            question=data["question"].strip(),
            gold_citations=lists["gold_citations"],
            acceptable_citations=lists["acceptable_citations"],
            answer_must_contain=lists["answer_must_contain"],
            expected_answer=expected.strip(),
            type=data["type"].strip(),
            topic=data["topic"].strip(),
        )


def _string_list(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"veld '{name}' moet een lijst met teksten zijn")
    return tuple(v for v in value)


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a JSON Lines file of questions (empty lines are skipped).

    Raises :class:`QuestionFileError` with the file, the line number and what to fix.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionFileError(f"Vragenbestand {p} bestaat niet. Controleer het pad.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"Vragenbestand {p} kan niet gelezen worden (UTF-8 verwacht): {exc}") from None
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{p} regel {number}: ongeldige JSON ({exc.msg}, kolom {exc.colno}).") from None
        try:
            question = EvalQuestion.from_dict(data)
        except ValueError as exc:
            raise QuestionFileError(f"{p} regel {number}: {exc}.") from None
        if question.id in seen:
            raise QuestionFileError(
                f"{p} regel {number}: id '{question.id}' komt al voor op regel {seen[question.id]}; ids moeten uniek zijn."
            )
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionFileError(f"Vragenbestand {p} bevat geen vragen.")
    return questions
