"""Word (.docx, python-docx): headings by style (also Dutch "Kop 1" and styles based on heading styles) or
outline level, numbered and bulleted lists, tables as Markdown, footnotes; headers and footers left out.

The zip container is checked before python-docx touches it, so a zip bomb is refused unopened.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.exceptions import OpcError
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.document import Block, ParsedDocument, markdown_table
from ingest.errors import CorruptFileError, FileTooLargeError
from ingest.loaders._units import MB, format_mb

_BOMB_RATIO = 100  # a member compressed more than 100:1 ...
_BOMB_MIN_BYTES = 10 * MB  # ... and unpacking to more than 10 MB is treated as a zip bomb
_HEADING_STYLE = re.compile(r"^(?:heading|kop|überschrift|titre)\s*(\d+)$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "titel"})
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


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

    reader = _Reader(document)
    blocks = reader.blocks()
    title_paragraph = reader.title_paragraph
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


def _w(tag: str) -> str:
    return f"{{{_W_NS}}}{tag}"


class _Reader:
    """Walks the body in document order: headings (by style, base style or outline level), list items with
    their number or bullet, tables as Markdown, footnotes right after the paragraph that refers to them.
    Headers and footers are not part of the body, so they are left out."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.title_paragraph: str | None = None
        self.footnotes = _footnotes(document)
        self.formats = _numbering_formats(document)
        self.counters: dict[tuple[str, int], int] = {}

    def blocks(self) -> list[Block]:
        blocks: list[Block] = []
        for item in self.document.iter_inner_content():
            if isinstance(item, Paragraph):
                blocks.extend(self._paragraph(item))
            elif isinstance(item, Table):
                text = markdown_table(_table_rows(item))
                if text:
                    blocks.append(Block(text, table=True))
        return blocks

    def _paragraph(self, paragraph: Paragraph) -> list[Block]:
        text, notes = self._text(paragraph)
        if not text.strip():
            return []
        chain = _style_chain(paragraph.style)
        if any(_style_label(s).lower() in _TITLE_STYLES for s in chain[:2]):
            if self.title_paragraph is None:
                self.title_paragraph = " ".join(text.split())
            return []
        level = _heading_level(paragraph, chain)
        if level:
            return [Block(" ".join(text.split()), heading_level=level)]
        marker = self._list_marker(paragraph, chain)
        out = [Block(f"{marker}{text.strip()}" if marker else text.strip())]
        out.extend(Block(f"[{n}] {self.footnotes[n]}") for n in notes if self.footnotes.get(n))
        return out

    def _text(self, paragraph: Paragraph) -> tuple[str, list[str]]:
        """The paragraph's text with footnote references as ``[n]``; the referenced footnote ids."""
        parts: list[str] = []
        notes: list[str] = []
        for element in paragraph._p.iter(_w("t"), _w("tab"), _w("br"), _w("cr"), _w("footnoteReference")):
            if element.tag == _w("t"):
                parts.append(element.text or "")
            elif element.tag == _w("tab"):
                parts.append("\t")
            elif element.tag in (_w("br"), _w("cr")):
                parts.append("\n")
            else:
                note = element.get(_w("id"))
                if note is not None:
                    parts.append(f"[{note}]")
                    notes.append(note)
        return "".join(parts), notes

    def _list_marker(self, paragraph: Paragraph, chain: list[Any]) -> str:
        num_id, level = _num_pr(paragraph._p.pPr)
        for style in chain:
            if num_id is not None:
                break
            num_id, style_level = _num_pr(getattr(style.element, "pPr", None))
            level = level if level is not None else style_level
        if num_id is None or num_id == "0":
            return ""
        level = level or 0
        for key in [k for k in self.counters if k[0] == num_id and k[1] > level]:
            del self.counters[key]
        count = self.counters.get((num_id, level), 0) + 1
        self.counters[(num_id, level)] = count
        fmt = self.formats.get((num_id, level), "bullet")
        indent = "  " * level
        if fmt == "bullet":
            return f"{indent}- "
        if fmt == "lowerLetter":
            return f"{indent}{_letters(count)}. "
        if fmt == "upperLetter":
            return f"{indent}{_letters(count).upper()}. "
        if fmt in ("lowerRoman", "upperRoman"):
            roman = _roman(count)
            return f"{indent}{roman.lower() if fmt == 'lowerRoman' else roman}. "
        if fmt == "none":
            return indent
        return f"{indent}{count}. "


def _style_chain(style: Any) -> list[Any]:
    chain: list[Any] = []
    while style is not None and style not in chain and len(chain) < 20:
        chain.append(style)
        style = style.base_style
    return chain


def _style_label(style: Any) -> str:
    return (style.name or style.style_id or "").strip()


def _heading_level(paragraph: Paragraph, chain: list[Any]) -> int:
    """1..6 from the paragraph's own outline level, else the first style in its chain that is a heading
    (``Heading 2``, ``Kop 2``, or a style with an outline level), else 0."""
    own = _outline_level(paragraph._p.pPr)
    if own is not None:
        return own
    for style in chain:
        for label in (style.name or "", style.style_id or ""):
            match = _HEADING_STYLE.match(label.strip())
            if match and int(match.group(1)) > 0:
                return min(int(match.group(1)), 6)
        level = _outline_level(getattr(style.element, "pPr", None))
        if level is not None:
            return level
    return 0


def _outline_level(ppr: Any) -> int | None:
    """``w:outlineLvl`` 0..8 as heading level 1..6; 9 (body text) or absent: None."""
    if ppr is None:
        return None
    element = ppr.find(_w("outlineLvl"))
    if element is None:
        return None
    try:
        value = int(element.get(_w("val")))
    except (TypeError, ValueError):
        return None
    return min(value + 1, 6) if 0 <= value < 9 else None


def _num_pr(ppr: Any) -> tuple[str | None, int | None]:
    if ppr is None:
        return None, None
    num_pr = ppr.find(_w("numPr"))
    if num_pr is None:
        return None, None
    num = num_pr.find(_w("numId"))
    ilvl = num_pr.find(_w("ilvl"))
    level = None
    if ilvl is not None:
        try:
            level = int(ilvl.get(_w("val")))
        except (TypeError, ValueError):
            level = None
    return (num.get(_w("val")) if num is not None else None), level


def _numbering_formats(document: Any) -> dict[tuple[str, int], str]:
    """(numId, level) → numFmt ('bullet', 'decimal', 'lowerLetter', …) from the numbering part."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    abstract: dict[str, dict[int, str]] = {}
    for node in numbering.findall(_w("abstractNum")):
        levels: dict[int, str] = {}
        for lvl in node.findall(_w("lvl")):
            fmt = lvl.find(_w("numFmt"))
            try:
                levels[int(lvl.get(_w("ilvl")))] = fmt.get(_w("val")) if fmt is not None else "decimal"
            except (TypeError, ValueError):
                continue
        abstract[node.get(_w("abstractNumId"))] = levels
    formats: dict[tuple[str, int], str] = {}
    for num in numbering.findall(_w("num")):
        ref = num.find(_w("abstractNumId"))
        if ref is None:
            continue
        for level, fmt in abstract.get(ref.get(_w("val")), {}).items():
            formats[(num.get(_w("numId")), level)] = fmt
    return formats


def _footnotes(document: Any) -> dict[str, str]:
    """Footnote id → text, from the footnotes part (separators left out)."""
    from lxml import etree

    for rel in document.part.rels.values():
        if rel.reltype.endswith("/footnotes") and not rel.is_external:
            try:
                root = etree.fromstring(rel.target_part.blob)
            except (etree.XMLSyntaxError, ValueError):
                return {}
            notes: dict[str, str] = {}
            for note in root.findall(_w("footnote")):
                if note.get(_w("type")) in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                text = " ".join("".join(t.text or "" for t in note.iter(_w("t"))).split())
                if text and note.get(_w("id")) is not None:
                    notes[note.get(_w("id"))] = text
            return notes
    return {}


def _letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(97 + rest) + out
    return out


def _roman(n: int) -> str:
    values = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ]
    out = ""
    for value, numeral in values:
        while n >= value:
            out += numeral
            n -= value
    return out


def _table_rows(table: Table) -> list[list[str]]:
    """Cell texts per row; a horizontally merged cell appears once."""
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous._tc:  # merged cell repeats itself
                continue
            previous = cell
            cells.append(" ".join(cell.text.split()))
        rows.append(cells)
    return rows
