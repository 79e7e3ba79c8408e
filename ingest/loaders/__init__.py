"""File loaders: turn one PDF, Word, Markdown, HTML or text file into a :class:`ParsedDocument`.

Use :func:`load_file`; it checks the size, recognises the type by content and extension
(:func:`detect_kind`) and raises an :class:`~ingest.errors.IngestError` subclass with a Dutch reason
naming the file when the file cannot be used.
"""

from __future__ import annotations

from pathlib import Path

from ingest.document import FileKind, ParsedDocument
from ingest.errors import EmptyDocumentError, FileTooLargeError, IngestError
from ingest.loaders import docx, html, markdown, pdf, text
from ingest.loaders._units import format_mb
from ingest.loaders.detect import HEAD_BYTES, SUPPORTED_TYPES_NL, detect_kind

__all__ = ["SUPPORTED_TYPES_NL", "detect_kind", "load_file"]

_NO_TEXT: dict[FileKind, str] = {
    "markdown": "het Markdown-bestand bevat geen tekst (alleen kopjes, front matter of witruimte).",
    "text": "het tekstbestand bevat alleen witruimte.",
    "html": "de pagina bevat geen leesbare tekst (na het weglaten van scripts, menu's en opmaak).",
    "pdf": "de PDF bevat geen leesbare tekst.",
    "docx": "het Word-document bevat geen tekst (alleen kopjes of lege alinea's).",
}


def load_file(path: Path, *, max_bytes: int, max_unpacked_bytes: int) -> ParsedDocument:
    """Load ``path`` as blocks of text.

    ``max_bytes`` limits the file itself, ``max_unpacked_bytes`` what a .docx unpacks to
    (see ``Settings.max_file_bytes`` and ``Settings.max_unpacked_bytes``).
    """
    path = Path(path)
    data = _read(path, max_bytes)
    if not data.strip():
        reason = "het bestand is leeg (0 bytes)." if not data else "het bestand bevat alleen witruimte."
        raise EmptyDocumentError(path, reason)
    kind = detect_kind(path, data[:HEAD_BYTES])
    if kind == "docx":
        document = docx.load(path, data, max_unpacked_bytes=max_unpacked_bytes)
    else:
        document = {"markdown": markdown.load, "text": text.load, "html": html.load, "pdf": pdf.load}[kind](path, data)
    if not any(block.text.strip() and not block.is_heading for block in document.blocks):
        raise EmptyDocumentError(path, _NO_TEXT[kind])
    return document


def _read(path: Path, max_bytes: int) -> bytes:
    """The whole file, refusing it (before reading) when it is larger than ``max_bytes``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileTooLargeError(path, _too_large(size, max_bytes))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    except FileNotFoundError as exc:
        raise IngestError(path, "het bestand bestaat niet (meer); controleer de naam en de map.") from exc
    except IsADirectoryError as exc:
        raise IngestError(path, "dit is een map, geen bestand.") from exc
    except PermissionError as exc:
        raise IngestError(path, "geen toegang tot het bestand; controleer de rechten.") from exc
    except OSError as exc:
        raise IngestError(path, f"het bestand kan niet worden gelezen ({exc.strerror or exc}).") from exc
    if len(data) > max_bytes:
        raise FileTooLargeError(path, _too_large(len(data), max_bytes))
    return data


def _too_large(size: int, max_bytes: int) -> str:
    return (
        f"het bestand is {format_mb(size)} MB; de grens is {format_mb(max_bytes)} MB "
        "(KB_MAX_FILE_MB). Splits het bestand op of verklein het (bijvoorbeeld zonder afbeeldingen)."
    )
