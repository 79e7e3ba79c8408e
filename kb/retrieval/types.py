"""What a search returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kb.source_record import SourceRecord
from kb.store import StoredChunk


@dataclass(frozen=True)
class SearchFilters:
    """Restrict a search to a topic and/or a partner organisation."""

    topic: str | None = None
    partner: str | None = None

    def chroma_where(self, partner_spellings: Sequence[str] = ()) -> dict[str, Any] | None:
        """The filter as a Chroma ``where``; ``partner_spellings``: how the store spells the partner (case
        differs between uploads), so "juridisch loket" also finds "Juridisch Loket"."""
        clauses: list[dict[str, Any]] = []
        if self.topic:
            clauses.append({"topic": self.topic})
        if self.partner:
            spellings = sorted({self.partner, *partner_spellings})
            clauses.append({"partner": spellings[0]} if len(spellings) == 1 else {"partner": {"$in": spellings}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


# The default of every ``filters`` argument: no restriction (frozen, so one shared instance is safe).
NO_FILTERS = SearchFilters()


@dataclass
class Hit:
    """One retrieved chunk with its rank and score (higher is better), best first."""

    rank: int
    score: float
    chunk: StoredChunk
    signals: dict[str, float] = field(default_factory=dict)  # per-retriever scores, for support staff

    def to_dict(self) -> dict[str, Any]:
        """The hit as JSON (``kb search --json``, ``kb serve``, LangChain metadata): :meth:`SourceRecord.to_json`."""
        return SourceRecord.from_hit(self).to_json()
