"""PDF: the text layer with its geometry (pdfplumber), turned into headings, paragraphs and tables.

pypdf opens the file first (encryption, damage, the outline and the title); pdfplumber gives every word with
its position, size and font. From those:

* **reading order**: per page the text is split into columns where a vertical gap runs between them;
* **running headers, footers and page numbers** are dropped: lines in the top or bottom margin that repeat
  (digits aside) on many pages at the same height, and lone page numbers ("3", "Pagina 3 van 9");
* **headings** come from the outline (bookmarks) where the file has one, else from typography: a line set
  clearly larger than the body text, or bold when the document marks no heading by size, or a standalone
  short line with a numbering pattern ("Artikel 3", "art. 2:26 BW", "2.1 …", "Hoofdstuk 4") or in capitals.
  The heading level is the rank of its size (larger is outer);
* **paragraphs** end at a larger vertical gap, a list marker, or a short line that ends a sentence; words
  hyphenated at a line end are joined; a paragraph continued on the next page stays one block;
* **tables** with ruled cells (pdfplumber's table finder) become Markdown table text;
* **scanned pages** (no text layer) are read with Tesseract OCR when it is installed (:mod:`ingest.loaders.ocr`);
  the document is then marked ``metadata["ocr"] = True``.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from ingest.document import Block, ParsedDocument, markdown_table
from ingest.errors import CorruptFileError, EmptyDocumentError
from ingest.loaders import ocr

logger = logging.getLogger(__name__)

_ENCRYPTED = (
    "de PDF is beveiligd met een wachtwoord en kan niet worden gelezen. Sla een kopie op zonder "
    "beveiliging (bijvoorbeeld via 'Afdrukken als PDF') en voeg die toe."
)
NO_TEXT_LAYER = (
    "de PDF bevat geen tekstlaag (gescande PDF?) — gebruik eerst OCR (tekstherkenning), "
    "bijvoorbeeld met 'Tekst herkennen' in Acrobat of met ocrmypdf, en voeg het resultaat toe."
)
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
    | {"\ufb05": "st", "\ufb06": "st", "\u00ad": None, "\x00": None}
)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demibold|extrabold|,b$|-b$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:(?:pagina|page|blz\.?|p\.)\s*)?\d{1,4}(?:\s*(?:van|/|of|\|)\s*\d{1,4})?(?:\s*[-–—])?$",
    re.IGNORECASE,
)
_LIST_MARKER = re.compile(r"^(?:\d{1,3}[a-z]?[.)]|[a-z][.)]|\(\d{1,3}[a-z]?\)|[-•▪◦–*])\s+\S")
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:artikel|art\.)\s+\d+[a-z]*(?:[:.]\d+[a-z]*)*\b"
    r"|(?:hoofdstuk|afdeling|paragraaf|titel|boek|bijlage|deel)\s+(?:\d+[a-z]*|[IVXLC]+)\b"
    r"|§\s*\d"
    r"|\d{1,2}(?:\.\d{1,2})+\.?\s+\S"
    r"|\d{1,2}\s+[A-ZÀ-Ý]\S*(?:\s+\S+){0,6}$)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]?$")
_HYPHEN_END = re.compile(r"[A-Za-zÀ-ÿ]-$")
_KEEP_HYPHEN_NEXT = frozenset({"en", "of", "tot", "noch", "and", "or"})

_LARGER = 1.12  # a heading's size is at least this share of the body size
_MARGIN = 0.12  # share of the page height that counts as top / bottom margin
_MAX_HEADING_CHARS = 200


@dataclass
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    page: int
    column: tuple[float, float]  # left and right edge of the column the line is in
    table: str | None = None  # Markdown table text when this "line" stands for a whole table
    heading: int = 0
    words: list[_Word] = field(default_factory=list)
    page_height: float = 842.0
    ocr: bool = False

    @property
    def style(self) -> tuple[float, bool]:
        return (round(self.size * 2) / 2, self.bold)


def load(path: Path, data: bytes) -> ParsedDocument:
    """Heading, body and table blocks with 1-based page numbers; title from the metadata or first heading."""
    reader = _open(path, data)
    try:
        page_count = len(reader.pages)
    except Exception as exc:  # pypdf raises many exception types on damaged page trees
        raise CorruptFileError(path, _damaged(exc)) from exc
    if not page_count:
        raise EmptyDocumentError(path, "de PDF bevat geen pagina's.")

    lines, sizes, unreadable, textless = _read_pages(path, data, page_count)
    metadata: dict[str, Any] = {"pages": page_count}
    if textless:
        recognised = ocr.recognise_pages(path, data, textless) if ocr.available() else {}
        for number, scanned in recognised.items():
            page_lines, page_sizes = _page_lines(_ocr_words(scanned), number, scanned.width, scanned.height)
            for line in page_lines:
                line.ocr = True
            lines.extend(_reading_order(page_lines))
            sizes.update(page_sizes)
        if recognised:
            metadata["ocr"] = True
            metadata["ocr_pages"] = sorted(recognised)
        elif len(textless) == page_count and not lines:
            raise EmptyDocumentError(path, NO_TEXT_LAYER)
    if not lines:
        if len(unreadable) == page_count:
            raise CorruptFileError(path, _damaged(None))
        raise EmptyDocumentError(path, NO_TEXT_LAYER)
    lines.sort(key=lambda line: line.page)  # OCR pages were appended; keep page order (stable sort)
    body_size = _body_size(sizes)
    lines = _drop_running_lines(lines, page_count, body_size)
    _mark_headings(lines, body_size, _outline(reader))
    blocks = _blocks(lines)
    if unreadable:
        metadata["unreadable_pages"] = unreadable
    declared = _title(reader)
    if declared and declared.casefold() == path.stem.casefold():
        declared = None  # a file name put in the metadata by a scanner or converter is no title
    title = declared or next((b.text for b in blocks if b.heading_level == 1), None)
    return ParsedDocument(kind="pdf", blocks=blocks, title=title, metadata=metadata)


# ------------------------------------------------------------------------------------ opening
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


def _read_pages(path: Path, data: bytes, page_count: int) -> tuple[list[_Line], Counter[float], list[int], list[int]]:
    """Lines of every page with a text layer; pages that failed, and pages without any text."""
    import pdfplumber  # imported here: pdfminer is slow to import and only PDFs need it

    lines: list[_Line] = []
    sizes: Counter[float] = Counter()
    unreadable: list[int] = []
    textless: list[int] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data), password="")
    except Exception as exc:  # pdfminer's syntax and password errors
        raise CorruptFileError(path, _damaged(exc)) from exc
    with pdf:
        for number in range(1, page_count + 1):
            try:
                page = pdf.pages[number - 1]
                words = _page_words(page)
                tables = _page_tables(page)
            except Exception as exc:  # one damaged page should not cost the rest of the document
                logger.warning("%s: pagina %d overgeslagen: %s", path.name, number, exc)
                unreadable.append(number)
                continue
            if not words and not tables:
                textless.append(number)
                continue
            words = [w for w in words if not any(_inside(w, bbox) for bbox, _ in tables)]
            page_lines, page_sizes = _page_lines(words, number, float(page.width), float(page.height))
            for bbox, text in tables:
                page_lines.append(
                    _Line(
                        text,
                        bbox[0],
                        bbox[2],
                        bbox[1],
                        bbox[3],
                        0.0,
                        False,
                        number,
                        (0.0, float(page.width)),
                        table=text,
                        page_height=float(page.height),
                    )
                )
            lines.extend(_reading_order(page_lines))
            sizes.update(page_sizes)
    return lines, sizes, unreadable, textless


def _page_words(page: Any) -> list[_Word]:
    raw = page.extract_words(
        x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False, use_text_flow=False, extra_attrs=["size", "fontname"]
    )
    words = []
    for w in raw:
        text = str(w["text"]).translate(_LIGATURES)
        if not text.strip():
            continue
        words.append(
            _Word(
                text,
                float(w["x0"]),
                float(w["x1"]),
                float(w["top"]),
                float(w["bottom"]),
                float(w["size"]),
                bool(_BOLD_FONT.search(str(w.get("fontname", "")).split("+")[-1])),
            )
        )
    return words


def _page_tables(page: Any) -> list[tuple[tuple[float, float, float, float], str]]:
    """Ruled tables (cell borders drawn) with at least two rows and two columns, as Markdown text."""
    found = []
    for table in page.find_tables():
        rows = [[(cell or "").translate(_LIGATURES) for cell in row] for row in table.extract()]
        rows = [row for row in rows if any(c.strip() for c in row)]
        if len(rows) < 2 or max(len(r) for r in rows) < 2:
            continue
        text = markdown_table(rows)
        if text:
            x0, top, x1, bottom = (float(v) for v in table.bbox)
            found.append(((x0, top, x1, bottom), text))
    return found


_ASCENDERS = frozenset("bdfhiklt0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜ§&()[]{}/?!%$€#@")
_DESCENDERS = frozenset("gjpqy(),;[]{}|")


def _ocr_words(page: ocr.OcrPage) -> list[_Word]:
    """Recognised words as text-layer words; the font size is estimated from the box heights.

    A box's height depends on the letters (x-height only, with ascenders, with descenders), so each word's
    height is divided by the share of the font size its letters cover; a line takes the median over its words.
    """

    def em(word: ocr.OcrWord) -> float:
        up = any(c in _ASCENDERS for c in word.text)
        down = any(c in _DESCENDERS for c in word.text)
        share = 0.95 if up and down else 0.72 if up or down else 0.5
        return (word.bottom - word.top) / share

    by_line: dict[tuple[int, int, int], list[ocr.OcrWord]] = defaultdict(list)
    for word in page.words:
        by_line[word.line].append(word)
    words: list[_Word] = []
    for line_words in by_line.values():
        size = round(statistics.median(em(w) for w in line_words) * 0.9, 1)
        for w in line_words:
            words.append(_Word(w.text.translate(_LIGATURES), w.x0, w.x1, w.top, w.bottom, size, False))
    return words


def _inside(word: _Word, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    cx, cy = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    return x0 - 1 <= cx <= x1 + 1 and top - 1 <= cy <= bottom + 1


# ------------------------------------------------------------------------------------ geometry
def _page_lines(words: list[_Word], page: int, width: float, height: float) -> tuple[list[_Line], Counter[float]]:
    """Words grouped into lines per column; the character count per font size (for the body size)."""
    sizes: Counter[float] = Counter()
    lines: list[_Line] = []
    for column, column_words in _columns(words, width):
        for group in _group_lines(column_words):
            lines.append(_make_line(group, page, column))
    for line in lines:
        for w in line.words:
            sizes[round(w.size * 2) / 2] += len(w.text)
    for line in lines:
        line.page_height = height
    return lines, sizes


def _columns(words: list[_Word], width: float) -> list[tuple[tuple[float, float], list[_Word]]]:
    """Split a page into columns at a vertical gap in its middle that no word crosses.

    A gap counts only when both sides carry a good share of the words, so a table-like line or an indented
    paragraph does not split the page. Words wider than the gap (a full-width title) stay in the first column
    of their height; they are ordered by position anyway.
    """
    if not words:
        return []
    extent = (min(w.x0 for w in words), max(w.x1 for w in words))
    if len(words) < 20:
        return [(extent, words)]
    step = 2.0
    bins = int(width / step) + 1
    covered = [0] * bins
    for w in words:
        for b in range(max(0, int(w.x0 / step)), min(bins, int(w.x1 / step) + 1)):
            covered[b] += 1
    left_edge = min(w.x0 for w in words)
    right_edge = max(w.x1 for w in words)
    span = right_edge - left_edge
    # candidate gaps: runs of bins crossed by at most 2% of the words, within the middle 60 %
    allowed = max(1, len(words) // 50)
    best: tuple[float, float] | None = None
    start = None
    for b in range(bins + 1):
        x = b * step
        free = b < bins and covered[b] <= allowed and left_edge + 0.2 * span < x < right_edge - 0.2 * span
        if free and start is None:
            start = x
        elif not free and start is not None:
            if x - start >= 10 and (best is None or x - start > best[1] - best[0]):
                best = (start, x)
            start = None
    if best is None:
        return [(extent, words)]
    cut = (best[0] + best[1]) / 2
    left = [w for w in words if w.x1 <= cut]
    right = [w for w in words if w.x0 >= cut]
    crossing = [w for w in words if w.x1 > cut and w.x0 < cut]
    if min(len(left), len(right)) < 0.2 * len(words) or len(crossing) > allowed:
        return [(extent, words)]
    # a line that crosses the cut (a full-width heading) belongs before the columns at its height
    first = left + crossing
    return [((left_edge, cut), first), ((cut, right_edge), right)]


def _group_lines(words: list[_Word]) -> list[list[_Word]]:
    """Words on one baseline (their bottoms within a third of the font size), sorted top to bottom."""
    ordered = sorted(words, key=lambda w: (round(w.bottom, 1), w.x0))
    groups: list[list[_Word]] = []
    for word in ordered:
        if groups:
            last = groups[-1]
            ref = statistics.median(w.bottom for w in last)
            size = max(w.size for w in last)
            if abs(word.bottom - ref) <= max(1.5, 0.35 * max(size, word.size)):
                last.append(word)
                continue
        groups.append([word])
    groups = _attach_superscripts(groups)
    for group in groups:
        group.sort(key=lambda w: w.x0)
    return groups


def _attach_superscripts(groups: list[list[_Word]]) -> list[list[_Word]]:
    """A group of only small words (footnote marks, superscripts) that overlaps a neighbouring line in height
    belongs to that line."""
    out: list[list[_Word]] = []
    for index, group in enumerate(groups):
        small = max(w.size for w in group)
        for neighbour in (groups[index + 1] if index + 1 < len(groups) else None, out[-1] if out else None):
            if not neighbour:
                continue
            size = max(w.size for w in neighbour)
            top, bottom = min(w.top for w in neighbour), max(w.bottom for w in neighbour)
            if small < 0.85 * size and all(w.bottom > top and w.top < bottom for w in group):
                neighbour.extend(group)
                break
        else:
            out.append(group)
    return out


def _make_line(words: list[_Word], page: int, column: tuple[float, float]) -> _Line:
    parts: list[str] = []
    previous: _Word | None = None
    for w in words:
        if previous is not None and w.x0 - previous.x1 > 0.12 * max(w.size, previous.size):
            parts.append(" ")
        parts.append(w.text)
        previous = w
    chars: Counter[float] = Counter()
    bold_chars = 0
    for w in words:
        chars[round(w.size * 2) / 2] += len(w.text)
        bold_chars += len(w.text) if w.bold else 0
    total = sum(chars.values()) or 1
    return _Line(
        text="".join(parts).strip(),
        x0=min(w.x0 for w in words),
        x1=max(w.x1 for w in words),
        top=min(w.top for w in words),
        bottom=max(w.bottom for w in words),
        size=chars.most_common(1)[0][0],
        bold=bold_chars >= 0.8 * total,
        page=page,
        column=column,
        words=words,
    )


def _reading_order(lines: list[_Line]) -> list[_Line]:
    """Columns left to right, each top to bottom; lines spanning the page (and tables) at their height.

    A full-width line above the columns comes first; one between column blocks splits them.
    """
    columns = sorted({line.column for line in lines if line.table is None})
    if len(columns) <= 1:
        return sorted(lines, key=lambda ln: (ln.top, ln.x0))
    spanning = sorted(
        (ln for ln in lines if ln.table is not None or ln.x1 - ln.x0 > 0.6 * (columns[-1][1] - columns[0][0])),
        key=lambda ln: ln.top,
    )
    rest = [ln for ln in lines if ln not in spanning]
    ordered: list[_Line] = []
    bands = [-1e9] + [l.top for l in spanning] + [1e9]  # noqa: E741
    for i in range(len(bands) - 1):
        if i > 0:
            ordered.append(spanning[i - 1])
        band = [l for l in rest if bands[i] <= l.top < bands[i + 1]]  # noqa: E741
        for column in columns:
            ordered.extend(sorted((l for l in band if l.column == column), key=lambda l: (l.top, l.x0)))  # noqa: E741
    return ordered


# ------------------------------------------------------------------------------------ page furniture
def _furniture_key(line: _Line, body: float) -> str:
    """Text that repeats across pages, digits counting as one symbol ("Pagina 3", "versie 2024 – p. 3").

    Lines set larger than the body text are headings ("Hoofdstuk 1" at the top of every chapter's page), never
    furniture: they get a key of their own."""
    if line.size >= body * _LARGER:
        return f"heading:{line.page}:{line.top}"
    return re.sub(r"\d+", "#", " ".join(line.text.lower().split()))


def _drop_running_lines(lines: list[_Line], page_count: int, body: float) -> list[_Line]:
    """Drop page numbers and lines repeated in the page margins (running headers and footers)."""

    def in_margin(line: _Line) -> bool:
        h = line.page_height
        return line.table is None and (line.top < _MARGIN * h or line.bottom > (1 - _MARGIN) * h)

    pages_of: dict[str, set[int]] = defaultdict(set)
    tops: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        if in_margin(line):
            key = _furniture_key(line, body)
            pages_of[key].add(line.page)
            tops[key].append(line.top)
    threshold = max(2, int(0.5 * page_count + 0.5)) if page_count >= 2 else 10**9
    repeated = {key for key, pages in pages_of.items() if len(pages) >= threshold}
    # With one or two pages repetition proves nothing; a small line alone at the very top or bottom is furniture.
    first_top: dict[int, float] = {}
    last_bottom: dict[int, float] = {}
    for line in lines:
        first_top[line.page] = min(first_top.get(line.page, 1e9), line.top)
        last_bottom[line.page] = max(last_bottom.get(line.page, -1e9), line.bottom)
    kept = []
    for line in lines:
        if in_margin(line):
            key = _furniture_key(line, body)
            if _PAGE_NUMBER.match(line.text.strip()):
                continue
            if (
                page_count < 3
                and line.size < 0.9 * body
                and len(line.text) <= 100
                and (line.top == first_top[line.page] or line.bottom == last_bottom[line.page])
            ):
                continue
            if key in repeated and abs(line.top - statistics.median(tops[key])) <= 12:
                continue
        kept.append(line)
    return kept


# ------------------------------------------------------------------------------------ headings
def _body_size(sizes: Counter[float]) -> float:
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _outline(reader: PdfReader) -> list[tuple[str, int, int | None]]:
    """(title, depth 1.., page number or None) of every bookmark, in order; [] when there are none."""
    found: list[tuple[str, int, int | None]] = []

    def walk(items: Any, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                title = " ".join(str(item.title).split())
                number = reader.get_destination_page_number(item)
                page = number + 1 if number is not None else None
            except Exception:
                title, page = " ".join(str(getattr(item, "title", "")).split()), None
            if title:
                found.append((title, depth, page))

    try:
        walk(reader.outline, 1)
    except Exception:  # a damaged outline only costs us the bookmarks
        return []
    return found


def _heading_candidate(line: _Line, body: float, size_marks_headings: bool) -> str | None:
    """Why a line looks like a heading: 'size', 'bold', 'pattern', or None."""
    text = line.text.strip()
    if line.table is not None or not text or len(text) > _MAX_HEADING_CHARS or not re.search(r"[A-Za-zÀ-ÿ]", text):
        return None
    if line.size >= body * _LARGER:
        return "size"
    if line.bold and not size_marks_headings and len(text) <= 120 and not text.endswith((",", ";")):
        return "bold"
    if len(text) <= 100 and not re.search(r"[.,;:]$", text):
        if _NUMBERED_HEADING.match(text):
            return "pattern"
        letters = [c for c in text if c.isalpha()]
        if len(letters) >= 4 and all(c.isupper() for c in letters) and len(text.split()) <= 12:
            return "pattern"
    return None


def _mark_headings(lines: list[_Line], body: float, outline: list[tuple[str, int, int | None]]) -> None:
    """Set ``line.heading`` (level) on heading lines; wrapped heading lines are joined in :func:`_blocks`."""
    size_marks = any(l.size >= body * _LARGER and l.table is None and re.search(r"[A-Za-z]", l.text) for l in lines)  # noqa: E741
    reasons = [_heading_candidate(l, body, size_marks) for l in lines]  # noqa: E741
    # a 'pattern' or 'bold' line counts only when it stands alone (its own paragraph)
    for i, reason in enumerate(reasons):
        following = lines[i + 1].text if i + 1 < len(lines) else ""
        if reason in ("pattern", "bold") and (not _stands_alone(lines, i) or following[:1].islower()):
            reasons[i] = None
        # a wrapped heading's last line may hold no letters ("… toestand" / "2026-10-01")
        if reason is None and i and reasons[i - 1] == "size" and lines[i].table is None:
            prev = lines[i - 1]
            if (
                prev.style == lines[i].style
                and prev.page == lines[i].page
                and lines[i].top - prev.bottom < 0.6 * prev.size
            ):
                reasons[i] = "size"
    # Three or more large lines set close together that end a sentence (or very many) are a paragraph in a
    # larger font (an introduction, a quote), not a heading; long breadcrumb headings do not end in a period.
    i = 0
    while i < len(lines):
        j = i
        while (
            j + 1 < len(lines)
            and reasons[i] in ("size", "bold")
            and reasons[j + 1] == reasons[i]
            and lines[j + 1].style == lines[i].style
            and lines[j + 1].page == lines[j].page
            and lines[j + 1].top - lines[j].bottom < 0.6 * lines[j].size
        ):
            j += 1
        run_chars = sum(len(lines[k].text) for k in range(i, j + 1))
        if (j - i >= 2 and re.search(r"[.!?]['\")]?$", lines[j].text)) or run_chars > 500:
            for k in range(i, j + 1):
                reasons[k] = None
        i = j + 1
    styled = sorted(
        {lines[i].style for i, r in enumerate(reasons) if r in ("size", "bold")}, key=lambda s: (-s[0], not s[1])
    )
    # Sizes estimated from OCR boxes scatter: styles within 10 % of each other are one level there.
    tolerance = 0.10 if any(l.ocr for l in lines) else 0.0  # noqa: E741
    level_of: dict[tuple[float, bool], int] = {}
    rank = 0
    for index, style in enumerate(styled):
        if index and not (
            style[1] == styled[index - 1][1] and styled[index - 1][0] - style[0] <= tolerance * styled[index - 1][0]
        ):
            rank += 1
        level_of[style] = min(rank + 1, 6)
    deepest = rank + 1 if styled else 0
    for line, reason in zip(lines, reasons):  # noqa: B905
        if reason in ("size", "bold"):
            line.heading = level_of[line.style]
        elif reason == "pattern":
            line.heading = min(deepest + 1, 6)
    if len(outline) >= 2:
        _apply_outline(lines, outline)


def _stands_alone(lines: list[_Line], i: int) -> bool:
    line = lines[i]
    for j in (i - 1, i + 1):
        if 0 <= j < len(lines):
            other = lines[j]
            if other.page != line.page or other.column != line.column or other.table is not None:
                continue
            gap = line.top - other.bottom if j < i else other.top - line.bottom
            if (
                gap < 0.45 * line.size
                and not (j < i and _SENTENCE_END.search(other.text))
                and other.style == line.style
            ):
                return False
    return True


def _norm(text: str) -> str:
    return " ".join(text.translate(_LIGATURES).split()).casefold()


def _apply_outline(lines: list[_Line], outline: list[tuple[str, int, int | None]]) -> None:
    """Bookmarks name the headings: a line (or run of lines) with a bookmark's text on its page becomes a
    heading at the bookmark's depth; the typographic levels of the other headings are mapped onto the depths
    their style had among matched headings."""
    matched_depths: dict[tuple[float, bool], Counter[int]] = defaultdict(Counter)
    start = 0
    for title, depth, page in outline:
        target = _norm(title)
        for i in range(start, len(lines)):
            line = lines[i]
            if page is not None and line.page < page:
                continue
            if page is not None and line.page > page + 1:
                break
            joined = ""
            for j in range(i, min(i + 4, len(lines))):
                joined = f"{joined} {_norm(lines[j].text)}".strip()
                if joined == target:
                    for k in range(i, j + 1):
                        if lines[k].heading:
                            matched_depths[lines[k].style][depth] += 1
                        lines[k].heading = min(depth, 6)
                    start = j + 1
                    break
                if not target.startswith(joined):
                    break
            else:
                continue
            if start == j + 1:
                break
    if not matched_depths:
        return
    remap = {style: counts.most_common(1)[0][0] for style, counts in matched_depths.items()}
    for line in lines:
        if line.heading and line.style in remap and line.heading != remap[line.style]:  # noqa: SIM102
            if not any(_norm(line.text) == _norm(t) for t, _, _ in outline):
                line.heading = min(remap[line.style], 6)


# ------------------------------------------------------------------------------------ blocks
def _blocks(lines: list[_Line]) -> list[Block]:
    vocabulary = frozenset(w.lower() for line in lines for w in _WORD_CHARS.findall(line.text))
    blocks: list[Block] = []
    gaps = _typical_gaps(lines)
    current: list[_Line] = []

    def flush() -> None:
        if not current:
            return
        first = current[0]
        if first.heading:
            text = " ".join(_join_lines([l.text for l in current], vocabulary).split())  # noqa: E741
            blocks.append(Block(text, heading_level=first.heading, page=first.page))
        else:
            text = _join_lines([l.text for l in current], vocabulary)  # noqa: E741
            pages = sorted({l.page for l in current})  # noqa: E741
            blocks.append(Block(text, page=pages[0], page_end=pages[-1] if pages[-1] != pages[0] else None))
        current.clear()

    for line in lines:
        if line.table is not None:
            flush()
            blocks.append(Block(line.table, page=line.page, table=True))
            continue
        if current and not _continues(current[-1], line, gaps, current[0]):
            flush()
        current.append(line)
    flush()
    return _merge_page_breaks(blocks, vocabulary)


def _typical_gaps(lines: list[_Line]) -> dict[float, float]:
    """Per font size, the usual gap between two lines of one paragraph (a low quantile of all gaps)."""
    by_size: dict[float, list[float]] = defaultdict(list)
    for a, b in zip(lines, lines[1:]):  # noqa: B905, RUF007
        if a.page == b.page and a.column == b.column and a.style == b.style and not a.heading and a.table is None:
            gap = b.top - a.bottom
            if -2 < gap < 2 * a.size:
                by_size[a.style[0]].append(gap)
    return {size: sorted(g)[len(g) // 4] for size, g in by_size.items() if g}


def _continues(previous: _Line, line: _Line, gaps: dict[float, float], first: _Line) -> bool:
    """Does ``line`` continue the paragraph (or heading) that ``previous`` is the last line of?"""
    if line.page != previous.page:
        return False  # page breaks are judged in _merge_page_breaks
    if line.column != previous.column or bool(line.heading) != bool(previous.heading):
        return False
    gap = line.top - previous.bottom
    if previous.heading:
        # a wrapped heading: same level, close below, and the line above filled most of the column
        width = previous.column[1] - previous.column[0]
        tight = gap < 0.35 * line.size  # line spacing only, no paragraph space: a wrapped heading
        return line.heading == previous.heading and (
            tight or (gap < 0.6 * line.size and previous.x1 - first.x0 > 0.55 * width)
        )
    if abs(line.style[0] - previous.style[0]) > (0.12 if line.ocr else 0.0) * previous.style[0]:
        return False
    usual = gaps.get(previous.style[0], 0.25 * previous.size)
    if gap > usual + 0.45 * previous.size or gap < -0.5 * previous.size:
        return False
    if _LIST_MARKER.match(line.text):
        return False
    width = previous.column[1] - previous.column[0]
    right = max(l.x1 for l in (previous, first))  # noqa: E741
    short = previous.x1 < right - 0.18 * width
    if short and _SENTENCE_END.search(previous.text) and not line.text[:1].islower():  # noqa: SIM103
        return False
    return True


_VOWELS = frozenset("aeiouyáéíóúàèëïöü")
_WORD_CHARS = re.compile(r"[\w-]+")


def _dehyphenate(head: str, tail: str, vocabulary: frozenset[str]) -> str:
    """Join ``head`` (ending in '-') and ``tail`` (the next line's first word) as the document writes it.

    The document's own words tell a line-end hyphenation ("regle-/ment") from a hyphenated compound broken
    after its hyphen ("subsidie-/ontvanger"); without evidence, Dutch spelling rules decide."""
    left = _WORD_CHARS.findall(head)[-1] if _WORD_CHARS.findall(head) else ""
    right = _WORD_CHARS.match(tail)
    right_word = right.group(0) if right else tail
    joined, kept = (left[:-1] + right_word).lower(), (left + right_word).lower()
    if kept in vocabulary and joined not in vocabulary:
        return head + tail
    if joined in vocabulary:
        return head[:-1] + tail
    stem = left[:-1]
    # Dutch writes a hyphen between clashing vowels (zonne-energie) and after capitals or digits (ANBI-status)
    if (stem[-1:].lower() in _VOWELS and right_word[:1].lower() in _VOWELS) or any(
        c.isupper() or c.isdigit() for c in stem
    ):
        return head + tail
    return head[:-1] + tail


def _join_lines(texts: list[str], vocabulary: frozenset[str] = frozenset()) -> str:
    """Lines of one paragraph as one string: soft line breaks become spaces, end-of-line hyphens joined."""
    out = ""
    for text in texts:
        text = text.strip()
        if not out:
            out = text
            continue
        first_word = text.split(" ", 1)[0].strip(",.;:").lower()
        if _HYPHEN_END.search(out) and text[:1].islower() and first_word not in _KEEP_HYPHEN_NEXT:
            out = _dehyphenate(out, text, vocabulary)
        else:
            out = f"{out} {text}"
    return out


def _merge_page_breaks(blocks: list[Block], vocabulary: frozenset[str]) -> list[Block]:
    """A body paragraph cut by a page break (it does not end a sentence; the next page starts in lower case)
    becomes one block with a page range; so does a heading that continues on the next page in lower case."""
    merged: list[Block] = []
    for block in blocks:
        if (
            merged
            and block.is_heading
            and merged[-1].heading_level == block.heading_level
            and block.page == (merged[-1].page or 0) + 1
            and block.text[:1].islower()
        ):  # a long heading wrapped onto the next page continues in lower case
            merged[-1] = Block(
                f"{merged[-1].text} {block.text}", heading_level=block.heading_level, page=merged[-1].page
            )
            continue
        if (
            merged
            and not block.is_heading
            and not block.table
            and not merged[-1].is_heading
            and not merged[-1].table
            and merged[-1].page is not None
            and block.page == (merged[-1].page_end or merged[-1].page) + 1
            and not _SENTENCE_END.search(merged[-1].text)
            and block.text[:1].islower()
        ):
            last = merged[-1]
            merged[-1] = Block(
                _join_lines([last.text, block.text], vocabulary), page=last.page, page_end=block.page_end or block.page
            )
            continue
        merged.append(block)
    return merged


def _title(reader: PdfReader) -> str | None:
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # a damaged info dictionary only costs us the title
        return None
    if not raw:
        return None
    title = str(raw).strip()
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    title = re.sub(r"\.(?:docx?|pptx?|pdf|odt)$", "", title, flags=re.IGNORECASE).strip()
    if title.casefold() in {"untitled", "naamloos", "document", "untitled document"}:
        return None
    return title or None
