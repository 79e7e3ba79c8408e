"""Structure-aware chunking: every chunk belongs to exactly one section.

Blocks are grouped by the heading path they sit under (every heading above them, outermost first). A chunk
never runs across the boundary of the deepest heading it sits under, so it can be cited to one section. A
section longer than ``chunk_size`` is split on paragraph boundaries, then on sentence boundaries, with a small
overlap of whole sentences. A table (Markdown table text) is split only between rows, each part repeating the
header row. PDF chunks carry the page range of the blocks they came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.document import Block, ParsedDocument
from kb.text import split_paragraphs, split_sentences


@dataclass(frozen=True)
class Chunk:
    """One citable piece of a document."""

    index: int
    text: str
    section: tuple[str, ...]
    page_start: int | None = None
    page_end: int | None = None

    def page_label(self) -> str | None:
        if self.page_start is None:
            return None
        if self.page_end is None or self.page_end == self.page_start:
            return str(self.page_start)
        return f"{self.page_start}-{self.page_end}"


@dataclass(frozen=True)
class _Piece:
    text: str
    page: int | None
    page_end: int | None = None
    table: bool = False


def embedding_header(title: str, section: tuple[str, ...]) -> str:
    """The context line that precedes a chunk's text when it is embedded or indexed."""
    parts = [title] + [h for h in section if h.strip() and h.strip() != title.strip()]
    return " > ".join(p.strip() for p in parts if p.strip())


def passages_of(text: str, min_chars: int = 60) -> tuple[str, ...]:
    """The paragraphs of a chunk that deserve their own vector: none when the chunk is one paragraph."""
    paragraphs = split_paragraphs(text, items="all")
    if len(paragraphs) < 2:
        return ()
    return tuple(p for p in paragraphs if len(p) >= min_chars)


def _sections(blocks: list[Block]) -> list[tuple[tuple[str, ...], list[_Piece]]]:
    """Group body blocks under their heading path, in document order."""
    stack: list[tuple[int, str]] = []
    sections: list[tuple[tuple[str, ...], list[_Piece]]] = []
    current: list[_Piece] | None = None
    for block in blocks:
        if block.is_heading:
            while stack and stack[-1][0] >= block.heading_level:
                stack.pop()
            stack.append((block.heading_level, block.text.strip()))
            current = None
            continue
        text = block.text.strip()
        if not text:
            continue
        if current is None:
            current = []
            sections.append((tuple(h for _, h in stack), current))
        current.append(_Piece(text, block.page, block.page_end, block.table))
    return sections


class SectionChunker:
    """Turns a parsed document into chunks of at most about ``chunk_size`` characters."""

    def __init__(self, chunk_size: int = 1200, chunk_overlap: int = 150) -> None:
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap moet kleiner zijn dan chunk_size")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._long_paragraph_splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=["\n", r"(?<=[.!?;])\s+", " ", ""],
            is_separator_regex=True,
            keep_separator=False,
        )

    def chunk(self, document: ParsedDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section, pieces in _sections(document.blocks):
            for group in self._pack(self._fit(pieces)):
                pages = [n for p in group for n in (p.page, p.page_end) if n is not None]
                chunks.append(
                    Chunk(
                        index=len(chunks),
                        text="\n\n".join(p.text for p in group),
                        section=section,
                        page_start=min(pages) if pages else None,
                        page_end=max(pages) if pages else None,
                    )
                )
        return chunks

    def _fit(self, pieces: list[_Piece]) -> list[_Piece]:
        """Break any paragraph longer than chunk_size into sentence-bounded parts."""
        fitted: list[_Piece] = []
        for piece in pieces:
            if len(piece.text) <= self.chunk_size:
                fitted.append(piece)
                continue
            if piece.table:
                fitted.extend(_Piece(part, piece.page, piece.page_end, True) for part in self._split_table(piece.text))
                continue
            for part in self._split_long(piece.text):
                fitted.append(_Piece(part, piece.page, piece.page_end))
        return fitted

    def _split_table(self, text: str) -> list[str]:
        """A Markdown table cut between rows; every part starts with the header row and its rule.

        A single row longer than the chunk size stays whole: a row is never cut."""
        lines = text.split("\n")
        header, rows = lines[:2], lines[2:]
        head = "\n".join(header)
        parts: list[str] = []
        current: list[str] = []
        size = len(head)
        for row in rows:
            if current and size + 1 + len(row) > self.chunk_size:
                parts.append("\n".join([head, *current]))
                current, size = [], len(head)
            current.append(row)
            size += 1 + len(row)
        if current or not parts:
            parts.append("\n".join([head, *current]))
        return parts

    def _split_long(self, text: str) -> list[str]:
        parts: list[str] = []
        current = ""
        for sentence in split_sentences(text):
            if len(sentence) > self.chunk_size:
                if current:
                    parts.append(current)
                    current = ""
                parts.extend(self._long_paragraph_splitter.split_text(sentence))
                continue
            candidate = f"{current} {sentence}".strip()
            if len(candidate) > self.chunk_size and current:
                parts.append(current)
                current = f"{self._tail(current)} {sentence}".strip()
                if len(current) > self.chunk_size:
                    current = sentence
            else:
                current = candidate
        if current:
            parts.append(current)
        return parts

    def _tail(self, text: str) -> str:
        """The last whole sentences of ``text`` that fit in the overlap."""
        tail: list[str] = []
        size = 0
        for sentence in reversed(split_sentences(text)):
            if size + len(sentence) > self.chunk_overlap:
                break
            tail.insert(0, sentence)
            size += len(sentence) + 1
        return " ".join(tail)

    def _pack(self, pieces: list[_Piece]) -> list[list[_Piece]]:
        """Greedily pack consecutive paragraphs; repeat the last short paragraph as overlap."""
        groups: list[list[_Piece]] = []
        current: list[_Piece] = []
        size = 0
        for piece in pieces:
            extra = len(piece.text) + (2 if current else 0)
            if current and size + extra > self.chunk_size:
                groups.append(current)
                carry = current[-1]
                if carry.table:  # no overlap out of a table: its rows stay whole
                    current, size = [], 0
                elif len(carry.text) <= self.chunk_overlap and len(carry.text) + len(piece.text) + 2 <= self.chunk_size:
                    current, size = [carry], len(carry.text)
                else:
                    tail = self._tail(carry.text)
                    if tail and tail != carry.text and len(tail) + len(piece.text) + 2 <= self.chunk_size:
                        current, size = [_Piece(tail, carry.page_end or carry.page)], len(tail)
                    else:
                        current, size = [], 0
                extra = len(piece.text) + (2 if current else 0)
            current.append(piece)
            size += extra
        if current:
            groups.append(current)
        return groups
