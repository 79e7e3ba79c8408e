"""Word (.docx, python-docx): headings by style, paragraphs and table rows in document order.

The zip container is checked before python-docx touches it, so a zip bomb is refused unopened.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path

from docx import Document
from docx.opc.exceptions import OpcError
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.document import Block, ParsedDocument
from ingest.errors import CorruptFileError, FileTooLargeError
from ingest.loaders._units import MB, format_mb

_BOMB_RATIO = 100  # a member compressed more than 100:1 ...
_BOMB_MIN_BYTES = 10 * MB  # ... and unpacking to more than 10 MB is treated as a zip bomb
_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*(\d+)$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "titel"})


def load(path: Path, data: bytes, *, max_unpacked_bytes: int) -> ParsedDocument:
    """Blocks of a Word document; ``Title``/``Titel`` paragraphs give the title instead of a block."""
    check_container(path, data, max_unpacked_bytes=max_unpacked_bytes)
    try:
        document = Document(io.BytesIO(data))
    except (
        OpcError, KeyError, ValueError, SyntaxError, zipfile.BadZipFile, zlib.error, EOFError, OSError,
        NotImplementedError, RuntimeError,
    ) as exc:  # fmt: skip
        # lxml's XMLSyntaxError is a SyntaxError; ValueError covers e.g. macro-enabled .docm files;
        # zlib.error/EOFError damaged members; NotImplementedError/RuntimeError exotic or encrypted zips.
        raise CorruptFileError(
            path,
            f"het Word-bestand is beschadigd of geen gewoon Word-document ({type(exc).__name__}). "
            "Open het in Word en sla het opnieuw op als Word-document (.docx).",
        ) from exc

    blocks: list[Block] = []
    title_paragraph: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = _style_name(item)
            if style.lower() in _TITLE_STYLES:
                title_paragraph = title_paragraph or " ".join(text.split())
                continue
            heading = _HEADING_STYLE.match(style)
            if heading and int(heading.group(1)) > 0:
                blocks.append(Block(" ".join(text.split()), heading_level=min(int(heading.group(1)), 6)))
            else:
                blocks.append(Block(text))
        elif isinstance(item, Table):
            blocks.extend(Block(row) for row in _table_rows(item))

    declared = (document.core_properties.title or "").strip()
    first_h1 = next((b.text for b in blocks if b.heading_level == 1), None)
    title = declared or title_paragraph or first_h1
    return ParsedDocument(kind="docx", blocks=blocks, title=title)


def check_container(path: Path, data: bytes, *, max_unpacked_bytes: int) -> None:
    """Refuse a .docx that is no zip, lacks its main part, or unpacks too large (zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError) as exc:
        raise CorruptFileError(
            path,
            "geen geldig Word-bestand (.docx): het is geen leesbaar zip-archief. Het is mogelijk "
            "beschadigd of onvolledig gedownload; open het in Word en sla het opnieuw op als .docx.",
        ) from exc
    if not any(m.filename == "word/document.xml" for m in members):
        raise CorruptFileError(
            path,
            "geen geldig Word-bestand (.docx): word/document.xml ontbreekt. Open het in Word en sla "
            "het opnieuw op als .docx.",
        )
    total = sum(m.file_size for m in members)
    if total > max_unpacked_bytes:
        raise FileTooLargeError(
            path,
            f"het Word-bestand pakt uit tot {format_mb(total)} MB; de grens is {format_mb(max_unpacked_bytes)} MB "
            "(KB_MAX_UNPACKED_MB). Verklein grote afbeeldingen of splits het document.",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _BOMB_MIN_BYTES and ratio > _BOMB_RATIO:
            raise FileTooLargeError(
                path,
                f"een onderdeel van het Word-bestand ({member.filename}) pakt uit tot "
                f"{format_mb(member.file_size)} MB bij een compressie van {ratio:.0f}:1. Dat lijkt op een "
                "zip-bom, dus het bestand wordt niet geopend. Sla het document opnieuw op in Word.",
            )
    # Note: zipfile never returns more than a member's declared size, so understated sizes cannot
    # smuggle in more data than counted here.


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "").strip() if style is not None else ""


def _table_rows(table: Table) -> list[str]:
    """One string per row, cells joined by `` | ``; horizontally merged cells appear once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous._tc:  # merged cell repeats itself
                continue
            previous = cell
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
