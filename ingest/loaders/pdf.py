"""PDF (pypdf): the text layer page by page, split into paragraphs, each block keeping its page number."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from ingest.document import Block, ParsedDocument
from ingest.errors import CorruptFileError, EmptyDocumentError

logger = logging.getLogger(__name__)

_ENCRYPTED = (
    "de PDF is beveiligd met een wachtwoord en kan niet worden gelezen. Sla een kopie op zonder "
    "beveiliging (bijvoorbeeld via 'Afdrukken als PDF') en voeg die toe."
)
_NO_TEXT_LAYER = (
    "de PDF bevat geen tekstlaag (gescande PDF?) — gebruik eerst OCR (tekstherkenning), "
    "bijvoorbeeld met 'Tekst herkennen' in Acrobat of met ocrmypdf, en voeg het resultaat toe."
)
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
    | {"\ufb05": "st", "\ufb06": "st"}
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SHORT_LINE = 0.75  # a line shorter than this share of the page's longest line ends its paragraph


def load(path: Path, data: bytes) -> ParsedDocument:
    """Body blocks per page (``Block.page`` is 1-based); the title comes from the PDF metadata."""
    reader = _open(path, data)
    blocks: list[Block] = []
    unreadable: list[int] = []
    try:
        pages = list(reader.pages)
    except Exception as exc:  # pypdf raises many exception types on damaged page trees
        raise CorruptFileError(path, _damaged(exc)) from exc
    if not pages:
        raise EmptyDocumentError(path, "de PDF bevat geen pagina's.")
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # one damaged page should not cost the rest of the document
            logger.warning("%s: pagina %d overgeslagen: %s", path.name, number, exc)
            unreadable.append(number)
            continue
        blocks.extend(Block(p, page=number) for p in _paragraphs(_clean(text)))
    if not blocks:
        if len(unreadable) == len(pages):
            raise CorruptFileError(path, _damaged(None))
        raise EmptyDocumentError(path, _NO_TEXT_LAYER)
    metadata: dict[str, Any] = {"pages": len(pages)}
    if unreadable:
        metadata["unreadable_pages"] = unreadable
    return ParsedDocument(kind="pdf", blocks=blocks, title=_title(reader), metadata=metadata)


def _open(path: Path, data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as exc:  # PdfReadError, but also ValueError/KeyError/... on broken files
        raise CorruptFileError(path, _damaged(exc)) from exc
    if reader.is_encrypted:
        # Many PDFs only restrict printing/copying (empty user password); those we can open.
        try:
            opened = reader.decrypt("")
        except (DependencyError, FileNotDecryptedError, PdfReadError, NotImplementedError) as exc:
            raise CorruptFileError(path, _ENCRYPTED) from exc
        if not opened:
            raise CorruptFileError(path, _ENCRYPTED)
    return reader


def _damaged(exc: Exception | None) -> str:
    detail = f" ({type(exc).__name__})" if exc is not None else ""
    return (
        f"de PDF is beschadigd of onleesbaar{detail}. Open het bestand in een PDF-lezer en sla het "
        "opnieuw op (of exporteer het opnieuw vanuit het originele programma)."
    )


def _clean(text: str) -> str:
    text = text.translate(_LIGATURES).replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _paragraphs(text: str) -> list[str]:
    """Blank lines always separate paragraphs; otherwise a clearly short line ends one.

    pypdf rarely emits blank lines, so a line well short of the page's longest line (the last line
    of a paragraph, a heading, a list item) closes the paragraph unless the next line continues in
    lower case.
    """
    paragraphs: list[str] = []
    for chunk in _BLANK_LINE.split(text):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        longest = max(len(line) for line in lines)
        current: list[str] = []
        for index, line in enumerate(lines):
            current.append(line)
            following = lines[index + 1] if index + 1 < len(lines) else ""
            short = len(line) < _SHORT_LINE * longest
            if not following or (short and not following.lstrip()[:1].islower()):
                paragraphs.append("\n".join(current).strip())
                current = []
    return [p for p in paragraphs if p]


def _title(reader: PdfReader) -> str | None:
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # a damaged info dictionary only costs us the title
        return None
    if not raw:
        return None
    title = str(raw).strip()
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    title = re.sub(r"\.(?:docx?|pptx?|pdf)$", "", title, flags=re.IGNORECASE).strip()
    return title or None
