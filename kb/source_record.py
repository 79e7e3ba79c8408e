"""One retrieved source as every output records it: JSON (``kb search``/``kb ask --json``, ``kb serve``,
LangChain metadata), the database (``Exchange.sources`` and ``Exchange.citations``) and the CSV export of the
review page and ``kb``.

:class:`SourceRecord` is the one place that decides which fields each of them carries and how (the JSON
keeps the heading path as a list, the database as one "A > B" string).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb.retrieval.types import Hit

SECTION_SEPARATOR = " > "
#: The keys of a source in ``Exchange.sources``.
DB_KEYS: tuple[str, ...] = ("doc_id", "chunk_id", "title", "section", "score", "rank")
#: The keys of a source inside a citation in ``Exchange.citations`` (besides ``n`` and ``quote``).
CITATION_DB_KEYS: tuple[str, ...] = ("doc_id", "chunk_id", "section")
#: The keys of a source inside a citation in the JSON answer (besides ``n``, ``quote`` and ``supported``).
CITATION_JSON_KEYS: tuple[str, ...] = ("doc_id", "chunk_id", "source", "title", "partner", "section", "page", "url")


@dataclass(frozen=True)
class SourceRecord:
    """A retrieved chunk with its rank and score; the fields every serialisation draws from."""

    doc_id: str
    chunk_id: str
    title: str = ""
    section: tuple[str, ...] = ()
    rank: int | None = None
    score: float | None = None
    source: str = ""
    partner: str = ""
    topic: str = ""
    page: int | None = None
    page_end: int | None = None
    url: str | None = None
    text: str = ""
    signals: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_hit(cls, hit: Hit) -> SourceRecord:
        c = hit.chunk
        return cls(
            doc_id=c.doc_id,
            chunk_id=c.chunk_id,
            title=c.title,
            section=tuple(c.section),
            rank=int(hit.rank),
            score=float(hit.score),
            source=c.source,
            partner=c.partner,
            topic=c.topic,
            page=c.page_start,
            page_end=c.page_end,
            url=c.url,
            text=c.text,
            signals=dict(hit.signals),
        )

    @classmethod
    def from_db(cls, stored: Mapping[str, Any]) -> SourceRecord:
        """A source as ``Exchange.sources`` (or a citation in ``Exchange.citations``) holds it; missing keys
        are empty."""
        section = stored.get("section") or ""
        parts = section.split(SECTION_SEPARATOR) if isinstance(section, str) else [str(s) for s in section]
        score, rank = stored.get("score"), stored.get("rank")
        return cls(
            doc_id=str(stored.get("doc_id") or ""),
            chunk_id=str(stored.get("chunk_id") or ""),
            title=str(stored.get("title") or ""),
            section=tuple(p for p in parts if p),
            rank=None if rank is None else int(rank),
            score=None if score is None else float(score),
        )

    @property
    def section_text(self) -> str:
        """The heading path as one string: ``"Deel > Stuk"``."""
        return SECTION_SEPARATOR.join(self.section)

    def to_json(self) -> dict[str, Any]:
        """For ``--json`` output, ``kb serve`` and LangChain metadata: the path as a list; no ``url`` (the
        contract of ``kb search --json``; a citation carries it)."""
        return {
            "rank": self.rank,
            "score": None if self.score is None else round(self.score, 6),
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "source": self.source,
            "title": self.title,
            "partner": self.partner,
            "topic": self.topic,
            "section": list(self.section),
            "page": self.page,
            "page_end": self.page_end,
            "text": self.text,
            "signals": {k: round(float(v), 6) for k, v in self.signals.items()},
        }

    def to_db(self) -> dict[str, Any]:
        """For ``Exchange.sources``: ids, title, the path as one string, score and rank (JSON-safe)."""
        return {
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "section": self.section_text,
            "score": self.score,
            "rank": self.rank,
        }

    def to_citation_json(self, n: int, quote: str, supported: bool | None) -> dict[str, Any]:
        """A citation [n] of this source in the JSON answer."""
        data = {**self.to_json(), "url": self.url}
        return {"n": n, **{k: data[k] for k in CITATION_JSON_KEYS}, "quote": quote, "supported": supported}

    def to_citation_db(self, n: int, quote: str) -> dict[str, Any]:
        """A citation [n] of this source in ``Exchange.citations``."""
        data = self.to_db()
        return {"n": n, **{k: data[k] for k in CITATION_DB_KEYS}, "quote": quote}

    def to_csv_cell(self) -> str:
        """How the CSV export names this source: ``"Titel — Deel > Stuk"`` (the doc id when untitled)."""
        label = self.title or self.doc_id or "?"
        return f"{label} — {self.section_text}" if self.section else label
