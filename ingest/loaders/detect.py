"""Recognise a file's type from its content and its extension.

Content wins where it is unambiguous (a PDF or Word file under another name is still read as one);
binary content under a text extension, or an extension we do not know, is refused with a Dutch hint.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ingest.document import FileKind
from ingest.errors import CorruptFileError, UnsupportedFileError

HEAD_BYTES = 8192
"""How many leading bytes :func:`detect_kind` needs to see."""

SUPPORTED_TYPES_NL = "PDF (.pdf), Word (.docx), Markdown (.md), HTML (.html, .htm) en tekst (.txt)"

_EXTENSIONS: dict[str, FileKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}
_TEXT_KINDS: frozenset[str] = frozenset({"markdown", "html", "text"})

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# Leading bytes of formats we do not ingest, with a Dutch description ("de inhoud is ...").
_OTHER_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "een PNG-afbeelding"),
    (b"\xff\xd8\xff", "een JPEG-afbeelding"),
    (b"GIF87a", "een GIF-afbeelding"),
    (b"GIF89a", "een GIF-afbeelding"),
    (b"II*\x00", "een TIFF-afbeelding"),
    (b"MM\x00*", "een TIFF-afbeelding"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "een oud Office-bestand (.doc, .xls of .ppt)"),
    (b"PK\x03\x04", "een zip-archief"),
    (b"PK\x05\x06", "een zip-archief"),
    (b"\x1f\x8b", "een gzip-archief"),
    (b"7z\xbc\xaf\x27\x1c", "een 7z-archief"),
    (b"Rar!\x1a\x07", "een RAR-archief"),
    (b"{\\rtf", "een RTF-document"),
    (b"\x7fELF", "een programma"),
    (b"MZ\x90\x00", "een Windows-programma (.exe)"),
)

# Extra advice for well-known types we do not read.
_EXTENSION_HINTS: dict[str, str] = {
    ".doc": "Open het in Word en kies 'Opslaan als' > Word-document (.docx).",
    ".odt": "Sla het in LibreOffice op als Word-document (.docx) of exporteer het naar PDF.",
    ".rtf": "Sla het op als Word-document (.docx) of exporteer het naar PDF.",
    ".xls": "Spreadsheets worden niet ondersteund: exporteer de inhoud naar PDF.",
    ".xlsx": "Spreadsheets worden niet ondersteund: exporteer de inhoud naar PDF.",
    ".ppt": "Presentaties worden niet ondersteund: exporteer ze naar PDF.",
    ".pptx": "Presentaties worden niet ondersteund: exporteer ze naar PDF.",
}

_HTML_SNIFF = re.compile(rb"^(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE)


def detect_kind(path: Path, head: bytes) -> FileKind:
    """The kind of ``path``, judged from its first bytes ``head`` (at least :data:`HEAD_BYTES`) and its name.

    For zip content the archive listing is read from ``path`` to tell a Word file from other zips.
    Raises :class:`UnsupportedFileError` or :class:`CorruptFileError` with a Dutch reason.
    """
    ext = path.suffix.lower()
    sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n\f")

    if sniff.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_ZIP_MAGICS):
        if _zip_has_word_document(path):
            return "docx"
        if ext == ".docx":
            raise CorruptFileError(
                path,
                "geen geldig Word-bestand (.docx): het archief bevat geen word/document.xml. "
                "Is het een ander Office-bestand met de verkeerde extensie? Open het in Word en "
                "sla het opnieuw op als .docx.",
            )
    other = _other_format(head)

    if ext == ".docx":
        if other and other.startswith("een oud Office"):
            advice = (
                "het is een oud Word-bestand (.doc) of een met een wachtwoord beveiligd Word-bestand. "
                "Open het in Word, verwijder een eventueel wachtwoord en sla het op als .docx."
            )
        else:
            advice = (
                "het is geen zip-archief, dus waarschijnlijk beschadigd of onvolledig gedownload. "
                "Open het in Word en sla het opnieuw op als .docx."
            )
        raise CorruptFileError(path, f"geen geldig Word-bestand (.docx): {advice}")

    if ext == ".pdf":
        if other:
            raise UnsupportedFileError(
                path, f"heeft de extensie .pdf, maar de inhoud is {other}. Lever een echte PDF aan."
            )
        raise CorruptFileError(
            path,
            "geen geldig PDF-bestand: de PDF-kop (%PDF-) ontbreekt. Het bestand is beschadigd of "
            "onvolledig; exporteer of download het opnieuw.",
        )

    kind = _EXTENSIONS.get(ext)
    if kind is None:
        if other is None and not _looks_binary(head) and _HTML_SNIFF.match(sniff):
            return "html"
        raise UnsupportedFileError(path, _unknown_extension_reason(ext, other))

    # A text extension (Markdown, HTML, tekst): the content must be text.
    if other:
        raise UnsupportedFileError(
            path,
            f"heeft de extensie {ext}, maar de inhoud is {other}, geen tekst. "
            f"Ondersteund worden: {SUPPORTED_TYPES_NL}.",
        )
    if _looks_binary(head):
        raise UnsupportedFileError(
            path,
            f"heeft de extensie {ext}, maar bevat binaire gegevens en is dus geen tekstbestand. "
            f"Sla het op als gewone tekst (UTF-8) of lever het aan als {SUPPORTED_TYPES_NL}.",
        )
    if kind != "html" and _HTML_SNIFF.match(sniff):
        return "html"
    return kind


def _zip_has_word_document(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return False


def _other_format(head: bytes) -> str | None:
    for magic, description in _OTHER_MAGICS:
        if head.startswith(magic):
            return description
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "een WebP-afbeelding"
    return None


def _looks_binary(head: bytes) -> bool:
    """NUL bytes mean binary, except in UTF-16 text that announces itself with a byte-order mark."""
    return b"\x00" in head and not head.startswith(_UTF16_BOMS)


def _unknown_extension_reason(ext: str, other: str | None) -> str:
    what = f"bestandstype {ext}" if ext else "een bestand zonder extensie"
    reason = f"{what} wordt niet ondersteund"
    hint = _EXTENSION_HINTS.get(ext)
    if other and not hint:
        reason += f" (de inhoud is {other})"
    reason += f". Ondersteund worden: {SUPPORTED_TYPES_NL}."
    return f"{reason} {hint}" if hint else reason
