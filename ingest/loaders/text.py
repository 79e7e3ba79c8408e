"""Plain text: decode (UTF-8, UTF-16 with BOM, or clean Windows-1252) and split into paragraphs."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from ingest.document import Block, ParsedDocument
from ingest.errors import CorruptFileError
from kb.text import split_paragraphs

_UNDECODABLE = "kan de tekst niet lezen: sla het bestand op als UTF-8 en probeer het opnieuw"
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


def load(path: Path, data: bytes) -> ParsedDocument:
    """A ``.txt`` file as body blocks, one per paragraph (paragraphs end at blank lines)."""
    text = decode_text(path, data)
    return ParsedDocument(kind="text", blocks=[Block(p) for p in split_paragraphs(text)])


def decode_text(path: Path, data: bytes) -> str:
    """``data`` as text with ``\\n`` line ends.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are accepted; otherwise Windows-1252, but only
    when every byte is defined there and the result looks like ordinary text. Anything else raises
    :class:`CorruptFileError`.
    """
    text = _decode(data)
    if text is None:
        raise CorruptFileError(path, _UNDECODABLE)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return text if _looks_like_text(text) else None


def _looks_like_text(text: str) -> bool:
    """No stray control characters, and (for longer text) mostly ASCII as Dutch and English are."""
    controls = sum(1 for ch in text if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc")
    if controls > len(text) // 200:  # allow e.g. a single DOS end-of-file mark
        return False
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 40:
        return True
    ascii_share = sum(1 for ch in visible if ch.isascii()) / len(visible)
    return ascii_share >= 0.6
