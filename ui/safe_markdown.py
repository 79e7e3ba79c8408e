"""Markdown from documents and answers, rendered *safely*: structure kept, content escaped.

Partners write guides in Markdown (tables, lists, bold, headings), and answers quote them. Showing that text
raw (``| | Vereniging |…|---|``, ``**vereniging**``) is unreadable; handing it to the Markdown renderer as is
would let a document inject links, images, HTML or Streamlit directives. So the structure is *re-emitted* by
this module from what it recognises line by line, and every piece of content goes through
:func:`ui.components.escape_markdown` (every ASCII punctuation character backslash-escaped):

* a table (a row of cells followed by a ``|---|---|`` line) → a Markdown table whose cells are escaped text;
* list items (``-``, ``*``, ``+``, ``•``, ``1.``, ``1)``) → list items (nesting by indentation, at most 3 deep);
* headings (``#``…) → a bold line; block quotes (``>``) → block quotes;
* ``**bold**``/``__bold__`` inside a line → bold; everything else is literal text.

No HTML is ever produced or passed through (``unsafe_allow_html`` is never used), links in documents stay
text (the card's "Originele bron openen" button is the only link, and only to http(s)), and highlighting of
quoted sentences (``:orange-background[…]``) is put around already escaped runs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence

Spans = Sequence[tuple[int, int]]
InlineRenderer = Callable[[str, Spans], str]

_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LIST_ITEM = re.compile(r"^([ \t]*)([-*+•]|\d{1,3}[.)])[ \t]+(?=\S)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(?=\S)")
_BLOCK_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?")
MAX_LIST_DEPTH = 3


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each line of ``text`` (without the newline)."""
    bounds = []
    start = 0
    for line in text.split("\n"):
        bounds.append((start, start + len(line)))
        start += len(line) + 1
    return bounds


def is_table_row(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and stripped.count("|") >= 2


def is_table_separator(line: str) -> bool:
    return "|" in line and bool(_TABLE_SEPARATOR.match(line))


def is_structured_line(line: str) -> bool:
    """A line whose meaning depends on its Markdown structure (table row, list item, heading)."""
    return is_table_row(line) or is_table_separator(line) or bool(_LIST_ITEM.match(line) or _HEADING.match(line))


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cell offsets of the table row ``text[start:end]`` (pipes escaped with a backslash do not split)."""
    pipes = [i for i in range(start, end) if text[i] == "|" and (i == 0 or text[i - 1] != "\\")]
    line = text[start:end]
    first, last = start + (len(line) - len(line.lstrip())), start + len(line.rstrip())
    edges = [first - 1] if not pipes or pipes[0] != first else []
    edges += pipes
    if not pipes or pipes[-1] != last - 1:
        edges.append(last)
    return [(a + 1, b) for a, b in itertools.pairwise(edges)]


def _local(spans: Spans, start: int, end: int) -> list[tuple[int, int]]:
    return [(max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t":
        start += 1
    while end > start and text[end - 1] in " \t":
        end -= 1
    return start, end


def render_blocks(text: str, spans: Spans, inline: InlineRenderer) -> str:
    """``text`` as safe Markdown: structure re-emitted, content rendered by ``inline(piece, local_spans)``."""

    def piece(start: int, end: int) -> str:
        start, end = _trimmed(text, start, end)
        return inline(text[start:end], _local(spans, start, end)) if end > start else ""

    lines = _lines(text)
    blocks: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append("  \n".join(paragraph))
            paragraph.clear()

    i = 0
    while i < len(lines):
        start, end = lines[i]
        line = text[start:end]
        if not line.strip():
            flush()
            i += 1
            continue
        if is_table_row(line) and i + 1 < len(lines) and is_table_separator(text[slice(*lines[i + 1])]):
            flush()
            header = _cells(text, start, end)
            width = len(header)
            rows = [[piece(a, b) for a, b in header], ["---"] * width]
            i += 2
            while i < len(lines) and is_table_row(text[slice(*lines[i])]):
                cells = [piece(a, b) for a, b in _cells(text, *lines[i])]
                rows.append((cells + [""] * width)[:width])
                i += 1
            blocks.append("\n".join("| " + " | ".join(row) + " |" for row in rows))
            continue
        item = _LIST_ITEM.match(line)
        if item:
            flush()
            items = []
            while i < len(lines):
                start, end = lines[i]
                item = _LIST_ITEM.match(text[start:end])
                if not item:
                    break
                depth = min(MAX_LIST_DEPTH, len(item.group(1).expandtabs(4)) // 2)
                marker = "-" if not item.group(2)[0].isdigit() else item.group(2)[:-1] + "."
                items.append("    " * depth + marker + " " + piece(start + item.end(), end))
                i += 1
            # an item's first level must not be indented (it would become a code block or a sub-list)
            lowest = min(len(x) - len(x.lstrip(" ")) for x in items)
            blocks.append("\n".join(x[lowest:] for x in items))
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            blocks.append("**" + piece(start + heading.end(), end) + "**")
            i += 1
            continue
        quote = _BLOCK_QUOTE.match(line)
        if quote:
            flush()
            quoted = []
            while i < len(lines) and _BLOCK_QUOTE.match(text[slice(*lines[i])]):
                start, end = lines[i]
                quoted.append("> " + piece(start + _BLOCK_QUOTE.match(text[start:end]).end(), end))  # type: ignore[union-attr]
                i += 1
            blocks.append("  \n".join(quoted))
            continue
        if is_table_separator(line):  # a stray separator without a header: not content
            i += 1
            continue
        paragraph.append(piece(start, end))
        i += 1
    flush()
    return "\n\n".join(b for b in blocks if b)


def as_block_quote(markdown: str) -> str:
    """Rendered Markdown inside a block quote (tables and lists keep working inside it)."""
    return "\n".join("> " + line if line else ">" for line in markdown.split("\n"))


def structured_segment(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``text[start:end]`` to whole lines where it touches structure (a table gets its header row)."""
    lines = _lines(text)
    first = next((k for k, (a, b) in enumerate(lines) if a <= start <= b), 0)
    last = next((k for k, (a, b) in enumerate(lines) if a <= max(start, end - 1) <= b), len(lines) - 1)
    touched = [text[slice(*lines[k])] for k in range(first, last + 1)]
    if not any(is_structured_line(line) for line in touched) and first == last:
        return start, end
    if is_table_row(text[slice(*lines[first])]) or is_table_separator(text[slice(*lines[first])]):
        while first > 0 and (
            is_table_row(text[slice(*lines[first - 1])]) or is_table_separator(text[slice(*lines[first - 1])])
        ):
            first -= 1
    new_start = (
        lines[first][0] if (is_structured_line(text[slice(*lines[first])]) or start - lines[first][0] <= 3) else start
    )
    new_end = lines[last][1] if (is_structured_line(text[slice(*lines[last])]) or lines[last][1] - end <= 3) else end
    return new_start, new_end
