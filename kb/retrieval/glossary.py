"""Query expansion from the glossary: lay words ("club met leden") → legal terms ("vereniging").

The glossary is an ordinary document in the knowledge base (front matter ``glossary: true``, or a title that
starts with "Begrippenlijst"), editable by partners. Each term is an H2 heading followed by a line
``Ook wel: synoniem, synoniem, …``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.retrieval.dutch_text import fold
from kb.store import DocumentRecord, KnowledgeStore

_TERM = re.compile(r"^#{2,3}\s+(.+?)\s*$")
_ALSO = re.compile(r"^\s*(?:ook wel|ook|synoniemen)\s*:\s*(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    synonyms: tuple[str, ...]


def is_glossary(record: DocumentRecord) -> bool:
    flag = record.extra.get("glossary")
    return bool(flag) or record.title.casefold().startswith("begrippenlijst")


def parse_glossary(text: str) -> list[GlossaryEntry]:
    """Entries from glossary Markdown (or the extracted text of one: headings on their own line)."""
    entries: list[GlossaryEntry] = []
    term: str | None = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        heading = _TERM.match(line)
        if heading:
            term = heading.group(1).strip()
            continue
        also = _ALSO.match(line)
        if also:
            name = term or _previous_nonempty(lines, i)
            if name:
                synonyms = tuple(s.strip(" .;") for s in also.group(1).split(",") if s.strip(" .;"))
                entries.append(GlossaryEntry(name, synonyms))
            term = None
    return entries


def _previous_nonempty(lines: list[str], i: int) -> str | None:
    for j in range(i - 1, -1, -1):
        if lines[j].strip():
            return lines[j].strip().lstrip("#").strip()
    return None


def _contains_word(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.strip())}(?!\w)", text) is not None


class QueryExpander:
    """Adds the legal term after a question that uses one of its lay synonyms."""

    def __init__(self, entries: list[GlossaryEntry], doc_ids: frozenset[str] = frozenset()) -> None:
        self.doc_ids = doc_ids  # the glossary documents themselves
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for entry in entries:
            term = fold(entry.term).strip()
            for synonym in entry.synonyms:
                folded = fold(synonym).strip()
                if len(folded) < 2 or folded == term:
                    continue
                self._patterns.append((re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)"), entry.term))

    def __len__(self) -> int:
        return len(self._patterns)

    def expansions(self, query: str) -> list[str]:
        folded = fold(query)
        seen: list[str] = []
        for pattern, term in self._patterns:
            if pattern.search(folded) and term not in seen and not _contains_word(folded, fold(term)):
                seen.append(term)
        return seen

    def expand(self, query: str) -> str:
        extra = self.expansions(query)
        return f"{query} ({'; '.join(extra)})" if extra else query

    @classmethod
    def from_store(cls, store: KnowledgeStore) -> QueryExpander:
        entries: list[GlossaryEntry] = []
        doc_ids: set[str] = set()
        for record in store.list_documents():
            if is_glossary(record):
                doc_ids.add(record.doc_id)
                entries.extend(parse_glossary(store.document_text(record.doc_id) or ""))
        return cls(entries, frozenset(doc_ids))


_DEFINITION_QUESTION = re.compile(
    r"\b(wat (?:is|zijn|betekent|betekenen|houdt|houden|bedoelt? (?:men|je|u) met)|wat wordt (?:er )?bedoeld|"
    r"betekenis van|wat verstaat? (?:men|je|u)|uitleg van|definitie)\b",
    re.IGNORECASE,
)


def is_definition_question(query: str) -> bool:
    """'Wat betekent ANBI?', 'Wat is een ALV?': the glossary itself is then a good source."""
    return bool(_DEFINITION_QUESTION.search(query)) and len(query.split()) <= 12
