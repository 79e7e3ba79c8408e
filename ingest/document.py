"""The format-independent shape of a loaded file, which every loader produces and the chunker consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FileKind = Literal["markdown", "text", "html", "pdf", "docx"]


@dataclass(frozen=True)
class Block:
    """One heading, one paragraph of body text, or one table, in reading order.

    ``heading_level`` is 0 for body text and 1..6 for a heading (1 = outermost).
    ``page`` is the 1-based page number for PDF input, else None; ``page_end`` is set when the block
    continues on a later page (a paragraph or table across a page break).
    ``table`` marks a table as Markdown table text (a header row, a ``| --- |`` rule, then one line a row):
    the chunker splits it only between rows and repeats the header row in every part.
    """

    text: str
    heading_level: int = 0
    page: int | None = None
    page_end: int | None = None
    table: bool = False

    @property
    def is_heading(self) -> bool:
        return self.heading_level > 0


@dataclass
class ParsedDocument:
    """A file turned into blocks, plus what the file itself says about its title and metadata."""

    kind: FileKind
    blocks: list[Block]
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # e.g. YAML front matter

    @property
    def full_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


def markdown_table(rows: list[list[str]]) -> str:
    """Rows of cell texts as a Markdown table; the first row is the header. Empty rows are dropped.

    Cell text is kept on one line and ``|`` inside a cell is escaped, so every table row is one line.
    """
    cleaned = [[" ".join((cell or "").split()).replace("|", "\\|") for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(cell for cell in row)]
    if not cleaned:
        return ""
    width = max(len(row) for row in cleaned)
    cleaned = [row + [""] * (width - len(row)) for row in cleaned]
    lines = ["| " + " | ".join(cleaned[0]) + " |", "| " + " | ".join(["---"] * width) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in cleaned[1:]]
    return "\n".join(lines)
