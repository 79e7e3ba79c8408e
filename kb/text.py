"""Plain-text helpers shared by ``ingest``, ``kb`` and ``ui``: sentences, paragraphs and web addresses.

One of each, so the chunker, the answerers, the citation check and the pages agree on what a sentence,
a paragraph and a usable link are.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

# A sentence ends at . ! ? ; or : (optionally followed by a closing quote or bracket), then whitespace,
# then something that starts a sentence: a capital, a digit, or an opening quote or bracket before one.
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?;:])|(?<=[.!?;:][\"'”’)\]]))\s+(?=[\"'“‘«(\[]?[A-ZÀ-Ý0-9])",
)
# Words whose abbreviation point does not end a sentence ("art. 2:26", "bijv. De", "o.a. Het").
_ABBREVIATION = re.compile(
    r"(?:\b(?:art|artt|nr|nrs|jo|bijv|resp|zgn|incl|excl|max|min|ca|mr|dhr|mevr|mw|blz|p|pag|hfdst|lid|"
    r"nl|vgl|evt|tel|dr|drs|ir|ing|prof)\.|"
    r"\b(?:[a-z]\.){1,3})$",
    re.IGNORECASE,
)
# A piece that is only the number of a list item ("1.", "12b."): it belongs to the sentence after it.
_ITEM_NUMBER = re.compile(r"^\(?\d{1,3}[a-z]?[.)]$")
# A Markdown heading line is a sentence of its own.
_HEADING_LINE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S")

_BLANK_LINE = r"\n[ \t\f\v]*\n"
_NUMBERED_ITEM = r"\n(?=[ \t]*\d+[a-z]?\.\s)"
_ANY_ITEM = r"\n(?=[ \t]*(?:\d+[a-z]?\.|[a-z]\.|[-•*])\s)"
_PARAGRAPH_BREAK = {
    "none": re.compile(_BLANK_LINE),
    "numbered": re.compile(f"{_BLANK_LINE}|{_NUMBERED_ITEM}"),
    "all": re.compile(f"{_BLANK_LINE}|{_ANY_ITEM}"),
}

ListItems = Literal["none", "numbered", "all"]


def split_sentences(text: str, *, keep_lead_ins: bool = False) -> list[str]:
    """Dutch prose as sentences, each stripped; never empty (a text without a sentence end is one sentence).

    A sentence ends at ``. ! ? ; :`` followed by a capital, a digit or a quote. Abbreviations do not end
    one ("art. 2:26 BW", "bijv. De", "o.a. Het", "Dhr. Jansen"), nor does a list number ("1. Kies een
    naam" is one sentence), nor a point inside a number ("1.200"). A Markdown heading line is a sentence
    of its own. With ``keep_lead_ins`` a sentence that ends on a colon keeps the one after it (the list or
    question it introduces). Line breaks inside a sentence are kept.
    """
    sentences: list[str] = []
    last = ""  # the piece last added: a heading line joins nothing, a bare list number joins what follows
    for block in _blocks(text):
        if _HEADING_LINE.match(block):
            sentences.append(last := block.strip())
            continue
        for part in (p.strip() for p in _SENTENCE_END.split(block)):
            if not part:
                continue
            if sentences and _joins_next(sentences[-1], last, keep_lead_ins):
                sentences[-1] = f"{sentences[-1]} {part}"
            else:
                sentences.append(part)
            last = part
    return sentences or [text.strip()]


def _blocks(text: str) -> list[str]:
    """``text`` cut before and after every Markdown heading line (the heading is a block of its own)."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if _HEADING_LINE.match(line):
            blocks.extend(["\n".join(current), line] if current else [line])
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _joins_next(sentence: str, last: str, keep_lead_ins: bool) -> bool:
    """Does the next piece belong to ``sentence`` (whose last piece is ``last``)?"""
    if _HEADING_LINE.match(last):
        return False
    if _ABBREVIATION.search(sentence) or _ITEM_NUMBER.match(last):
        return True
    return keep_lead_ins and sentence.endswith(":")


def split_paragraphs(text: str, *, items: ListItems = "none") -> list[str]:
    """The paragraphs of ``text``: parts between blank lines, each stripped, its inner line breaks kept
    (trailing spaces on a line dropped); blank parts are left out.

    ``items`` says which list items start a paragraph of their own: ``"numbered"`` a numbered item
    ("1.", "2a."; a numbered lid keeps its sub-items "a." and "-"), ``"all"`` every numbered, lettered
    ("a.") or bulleted ("-", "•", "*") item line.
    """
    paragraphs = []
    for part in _PARAGRAPH_BREAK[items].split(text):
        paragraph = "\n".join(line.rstrip() for line in part.split("\n")).strip()
        if paragraph:
            paragraphs.append(paragraph)
    return paragraphs


def web_address(text: str | None) -> str | None:
    """``text`` stripped when it is a complete web address, else None.

    Complete: scheme ``http`` or ``https``, a host name with a dot in it (or ``localhost``), a valid port
    if any, and no whitespace. So ``javascript:``, ``data:``, ``//host``, ``ftp://…``, ``https://`` and
    ``https://intranet`` are not web addresses.
    """
    value = (text or "").strip()
    if not value or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if "." not in host.strip(".") and host != "localhost" and ":" not in host:  # ":" - an IPv6 literal
        return None
    return value
