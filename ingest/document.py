"""The format-independent shape of a loaded file, which every loader produces and the chunker consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FileKind = Literal["markdown", "text", "html", "pdf", "docx"]


@dataclass(frozen=True)
class Block:
    """One heading or one paragraph of body text, in reading order.

    ``heading_level`` is 0 for body text and 1..6 for a heading (1 = outermost).
    ``page`` is the 1-based page number for PDF input, else None.
    """

    text: str
    heading_level: int = 0
    page: int | None = None

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
