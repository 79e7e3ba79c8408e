"""Two versions of one rule among the sources: which is the newest, said in the answer.

Sources are versions of the same rule when their deepest headings are equal and name an article ("art. 150
Gemeentewet", "Artikel 4") while they come from different documents with different ``valid_from`` dates (front
matter, or the "toestand JJJJ-MM-DD" in a law text's title). Headings such as "Kort antwoord" are no rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.retrieval.dutch_text import article_tokens, fold
from kb.retrieval.types import Hit


@dataclass(frozen=True)
class VersionGroup:
    rule: str  # the shared heading, e.g. "art. 150 Gemeentewet"
    sources: tuple[int, ...]  # 1-based source numbers, newest first
    dates: tuple[str, ...]  # their valid_from dates (ISO), newest first

    @property
    def newest(self) -> int:
        return self.sources[0]


def version_groups(hits: list[Hit], numbers: list[int]) -> list[VersionGroup]:
    """Groups of the given sources (1-based numbers into ``hits``) that are dated versions of one rule."""
    by_rule: dict[str, list[int]] = {}
    for n in dict.fromkeys(numbers):
        chunk = hits[n - 1].chunk
        if chunk.section and chunk.valid_from and article_tokens(chunk.section[-1]):
            by_rule.setdefault(fold(chunk.section[-1]).strip(), []).append(n)
    groups = []
    for ns in by_rule.values():
        docs = {hits[n - 1].chunk.doc_id for n in ns}
        dates = {hits[n - 1].chunk.valid_from for n in ns}
        if len(docs) < 2 or len(dates) < 2:
            continue
        ordered = sorted(ns, key=lambda n: (str(hits[n - 1].chunk.valid_from), -n), reverse=True)
        groups.append(
            VersionGroup(
                rule=hits[ordered[0] - 1].chunk.section[-1],
                sources=tuple(ordered),
                dates=tuple(str(hits[n - 1].chunk.valid_from) for n in ordered),
            )
        )
    return groups
