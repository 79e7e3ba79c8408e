"""The data an answer is made of; the same for every answerer (extractive or LLM)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from kb.retrieval.types import Hit
from kb.source_record import SourceRecord

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One message of the conversation so far."""

    role: Role
    content: str


@dataclass
class Citation:
    """A numbered source marker [n] in the answer, and the passage it rests on."""

    n: int
    hit: Hit
    quote: str = ""  # the sentences of the source that the answer uses
    supported: bool | None = None  # for LLM answers: did the cited chunk support the sentence(s)?

    def to_dict(self) -> dict[str, Any]:
        """The citation in the JSON answer (``kb ask --json``): :meth:`SourceRecord.to_citation_json`."""
        return SourceRecord.from_hit(self.hit).to_citation_json(self.n, self.quote, self.supported)

    def to_db(self) -> dict[str, Any]:
        """The citation as ``Exchange.citations`` stores it: :meth:`SourceRecord.to_citation_db`."""
        return SourceRecord.from_hit(self.hit).to_citation_db(int(self.n), self.quote)


@dataclass
class Answer:
    """A finished answer."""

    question: str
    standalone_query: str
    text: str
    refused: bool
    citations: list[Citation]  # the sources the answer cites, by number
    hits: list[Hit]  # everything retrieved (numbered 1..n in the order given to the answerer)
    confidence: float
    answerer: str
    warnings: list[str] = field(default_factory=list)  # e.g. removed invalid markers, unsupported claims
    uncertain: bool = False  # answered, but marked "Ik weet het niet zeker" (weak evidence); never refused too
    suggestions: list[Hit] = field(default_factory=list)  # a refusal's "Misschien nuttig" (≤ 3, relevant)
    help: list[dict[str, Any]] = field(default_factory=list)  # who can help: {organisation, why, contact}

    @property
    def consulted_not_cited(self) -> list[Hit]:
        """Retrieved sources from documents the answer does not cite (a cited document is not repeated)."""
        cited = {c.hit.chunk.doc_id for c in self.citations}
        return [h for h in self.hits if h.chunk.doc_id not in cited]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_query": self.standalone_query,
            "answer": self.text,
            "refused": self.refused,
            "uncertain": self.uncertain,
            "confidence": round(self.confidence, 4),
            "answerer": self.answerer,
            "citations": [c.to_dict() for c in self.citations],
            "sources": [h.to_dict() for h in self.hits],
            "consulted_not_cited": [h.chunk.chunk_id for h in self.consulted_not_cited],
            "warnings": list(self.warnings),
            "suggestions": [h.chunk.chunk_id for h in self.suggestions],
            "help": [dict(h) for h in self.help],
        }


class AnswerStream:
    """Iterate to receive the answer text in pieces; ``.answer`` is set once iteration is done."""

    def __init__(self, pieces: Iterator[str], finish: Callable[[str], Answer]) -> None:
        self._pieces = pieces
        self._finish = finish
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        collected: list[str] = []
        for piece in self._pieces:
            collected.append(piece)
            yield piece
        self.answer = self._finish("".join(collected))

    def then(self, step: Callable[[Answer], Answer]) -> AnswerStream:
        """Apply ``step`` to the finished answer (e.g. add who can help); returns this stream."""
        finish = self._finish
        self._finish = lambda text: step(finish(text))
        return self

    def complete(self) -> Answer:
        """Consume the whole stream and return the answer."""
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer
