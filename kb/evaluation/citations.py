"""Does a retrieved chunk match a benchmark citation? The rules of ``shared/bench/README.md``.

A citation has one of three forms:

* ``art. 2:26 BW`` (anything starting with ``art. ``): a heading in the chunk's path equals it, or starts
  with it followed by a space (``art. 6.32 Wet IB 2001 – Aftrekbare giften`` matches
  ``art. 6.32 Wet IB 2001``; ``art. 2:26 BW`` does not match ``art. 2:2 BW``). The file does not matter.
* ``FILE.md § 2.1``: the chunk comes from ``FILE.md`` (file names are compared, not paths) and a heading in
  its path equals ``2.1`` or starts with ``2.1 `` (``2.1 Fondswerving`` matches, ``2.1.1 …`` does not).
* ``FILE.md``: any chunk of that file.

Both sides are cleaned first: Unicode NFC, every run of whitespace (also no-break spaces) one space, stripped.
Apart from that the comparison is exact (case-sensitive), as the README says.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from kb.errors import KbError

CitationKind = Literal["article", "section", "file"]

ARTICLE_PREFIX = "art. "
_WHITESPACE = re.compile(r"\s+")
_ARTICLE_FORM = re.compile(r"^art\. \S+ \S.*$")
_FILE_FORM = re.compile(r"^[^/\\§]+\.[A-Za-z0-9]+$")


class CitationError(KbError, ValueError):
    """A citation string that cannot be read; the message is Dutch."""


def clean(text: str) -> str:
    """NFC, whitespace runs to one space, stripped."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def file_name(source: str) -> str:
    """The file name of a source that may be a path (``/`` or ``\\`` separated)."""
    return clean(re.split(r"[/\\]", clean(source))[-1])


def _clean_heading(heading: str) -> str:
    return clean(clean(heading).lstrip("#"))


@dataclass(frozen=True)
class ExpectedCitation:
    """A benchmark question's citation, parsed (not :class:`kb.answering.types.Citation`, a marker [n] in an
    answer): ``file`` is set for section and file citations, ``heading`` for article and
    section citations."""

    kind: CitationKind
    raw: str
    file: str | None = None
    heading: str | None = None

    def matches(self, source: str, section: Sequence[str]) -> bool:
        if self.file is not None and file_name(source) != self.file:
            return False
        if self.heading is None:
            return True
        return any(heading_matches(h, self.heading) for h in section)


def heading_matches(heading: str, target: str) -> bool:
    """``heading`` equals ``target`` or starts with ``target`` followed by a space."""
    h, t = _clean_heading(heading), clean(target)
    return h == t or h.startswith(t + " ")


@lru_cache(maxsize=4096)
def parse_citation(text: str) -> ExpectedCitation:
    """Read a citation; raises :class:`CitationError` when it is empty or a ``§`` has nothing on one side."""
    if not isinstance(text, str):
        raise CitationError(f"Een bronverwijzing moet tekst zijn, niet {type(text).__name__}.")
    c = clean(text)
    if not c:
        raise CitationError("Lege bronverwijzing; verwacht 'art. …', 'BESTAND.md § …' of 'BESTAND.md'.")
    if c.startswith(ARTICLE_PREFIX):
        return ExpectedCitation("article", c, heading=c)
    if "§" in c:
        left, _, right = c.partition("§")
        name, heading = file_name(left), clean(right)
        if not name or not heading:
            raise CitationError(
                f"Bronverwijzing '{c}' is onvolledig: verwacht 'BESTAND.md § kop' met aan beide kanten van § tekst."
            )
        return ExpectedCitation("section", c, file=name, heading=heading)
    return ExpectedCitation("file", c, file=file_name(c))


def citation_problem(text: str) -> str | None:
    """Why a citation does not have one of the documented forms (Dutch), or None when it does.

    Stricter than :func:`parse_citation`: an article citation needs a number and a law (``art. 2:26 BW``),
    a file needs a name with an extension (``FILE.md``).
    """
    try:
        cit = parse_citation(text)
    except CitationError as exc:
        return str(exc)
    if cit.kind == "article" and not _ARTICLE_FORM.match(cit.raw):
        return f"'{cit.raw}': een artikelverwijzing heeft de vorm 'art. NUMMER WET', zoals 'art. 2:26 BW'."
    if cit.file is not None and not _FILE_FORM.match(cit.file):
        return f"'{cit.raw}': '{cit.file}' is geen bestandsnaam met extensie, zoals 'regeling.md'."
    return None


def citation_matches(citation: str, source: str, section: Sequence[str]) -> bool:
    """Does the chunk from ``source`` under heading path ``section`` match ``citation``?

    An unreadable (empty) citation matches nothing.
    """
    try:
        cit = parse_citation(citation)
    except CitationError:
        return False
    return cit.matches(source, section)


def chunk_matches_any(citations: Iterable[str], source: str, section: Sequence[str]) -> bool:
    """Does the chunk match at least one of ``citations``?"""
    return any(citation_matches(c, source, section) for c in citations)
