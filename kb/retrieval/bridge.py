"""Guides as a bridge to the law: a guide section lends its match to the articles it cites.

A plain-Dutch guide section matches a volunteer's question well; the law article it rests on often does
not (legal wording). The guides name their articles in the text ("art. 2:36 lid 1 BW") and in the front
matter (``sources: ["art. 2:36 BW", …]``). :class:`CitationGraph` links each guide chunk to the article
chunks of the store whose heading is that article ("art. 2:36 BW – Opzegging"), so the retriever can lift
a cited article towards the score of the guide section that matched.

Law names are read from the store's own article headings (nothing here names a law), and a reference
matches a heading when the article number and the law name agree ("lid", "onder", "sub" parts skipped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kb.store import DocumentRecord, StoredChunk

_HEADING = re.compile(r"^art\.\s+(\S+)\s+(.+?)(?:\s+[–—-]\s+.*)?$", re.IGNORECASE)
_PARTS = r"(?:\s+(?:lid|leden|onder|sub|en|of|,)\s*[\w°]+)*"


def article_key(heading: str) -> tuple[str, str] | None:
    """("2:36", "bw") for the heading "art. 2:36 BW – Opzegging", else None."""
    match = _HEADING.match(heading.strip())
    if not match:
        return None
    return match.group(1).lower().rstrip("."), " ".join(match.group(2).lower().split())


@dataclass
class CitationGraph:
    """Guide chunk id → the article chunk ids it cites; and every article chunk by its key."""

    cites: dict[str, tuple[str, ...]] = field(default_factory=dict)
    articles: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cites)

    def cited_by(self, chunk_id: str) -> tuple[str, ...]:
        return self.cites.get(chunk_id, ())

    @classmethod
    def build(
        cls, chunks: Sequence[StoredChunk], documents: Iterable[DocumentRecord] = (), front_matter: bool = True
    ) -> CitationGraph:
        """Links from the chunks' own references; a guide chunk without any gets its document's front-matter
        ``sources`` when ``front_matter`` is on."""
        articles: dict[tuple[str, str], list[str]] = {}
        article_docs: set[str] = set()
        for c in chunks:
            key = next((k for k in (article_key(h) for h in reversed(c.section)) if k), None)
            if key:
                articles.setdefault(key, []).append(c.chunk_id)
                article_docs.add(c.doc_id)
        if not articles:
            return cls({}, {})
        laws = sorted({law for _, law in articles}, key=len, reverse=True)
        law_pattern = "|".join(re.escape(law) for law in laws)
        reference = re.compile(
            rf"\bart(?:ikel)?\.?\s+(\d+[a-z]?(?:[:.]\d+[a-z]?)*){_PARTS}\s+({law_pattern})(?![\w])", re.IGNORECASE
        )
        front: dict[str, list[str]] = {}
        for record in documents:
            sources = record.extra.get("sources") or []
            if isinstance(sources, str):
                sources = [sources]
            front[record.doc_id] = [str(s) for s in sources]

        def refs(text: str) -> list[tuple[str, str]]:
            return [
                (m.group(1).lower().rstrip("."), " ".join(m.group(2).lower().split()))
                for m in reference.finditer(" ".join(text.split()))
            ]

        cites: dict[str, tuple[str, ...]] = {}
        for c in chunks:
            if c.doc_id in article_docs:
                continue  # a law text citing another article is no guide
            keys = refs(c.text) or ([k for s in front.get(c.doc_id, []) for k in refs(s)] if front_matter else [])
            ids = [cid for k in dict.fromkeys(keys) for cid in articles.get(k, [])]
            if ids:
                cites[c.chunk_id] = tuple(dict.fromkeys(ids))
        return cls(cites, articles)
