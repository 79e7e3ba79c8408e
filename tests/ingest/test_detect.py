"""detect_kind: content and extension together decide the type; mismatches get a Dutch reason."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.errors import CorruptFileError, UnsupportedFileError
from ingest.loaders import detect_kind


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _detect(path: Path) -> str:
    return detect_kind(path, path.read_bytes()[:8192])


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("gids.md", b"# Gids\n\nTekst", "markdown"),
        ("gids.markdown", b"Tekst", "markdown"),
        ("NOTITIE.TXT", b"Gewone tekst", "text"),
        ("pagina.html", b"<p>Hallo</p>", "html"),
        ("pagina.htm", b"Geen tags, toch HTML door de extensie", "html"),
        ("rapport.pdf", b"%PDF-1.7\n...", "pdf"),
        ("RAPPORT.PDF", b"%PDF-1.4\n...", "pdf"),
    ],
)
def test_kind_by_extension_and_content(tmp_path: Path, name: str, content: bytes, kind: str) -> None:
    assert _detect(_write(tmp_path / name, content)) == kind


def test_docx_needs_word_document_part(tmp_path: Path) -> None:
    path = _zip(tmp_path / "brief.docx", {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})

    assert _detect(path) == "docx"


def test_content_wins_for_pdf_and_docx_under_other_names(tmp_path: Path) -> None:
    assert _detect(_write(tmp_path / "download.txt", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")) == "pdf"
    assert _detect(_write(tmp_path / "zonder_extensie", b"%PDF-1.5\n")) == "pdf"
    assert _detect(_zip(tmp_path / "bijlage.bin", {"word/document.xml": "<w:document/>"})) == "docx"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("export.txt", b"<!DOCTYPE html><html><body><p>x</p></body></html>"),
        ("export.md", b"\xef\xbb\xbf\n  <html lang='nl'><body>x</body></html>"),
        ("pagina", b"<!doctype HTML>\n<p>x</p>"),
    ],
)
def test_html_is_sniffed_from_content(tmp_path: Path, name: str, content: bytes) -> None:
    assert _detect(_write(tmp_path / name, content)) == "html"


def test_markdown_mentioning_html_stays_markdown(tmp_path: Path) -> None:
    path = _write(tmp_path / "uitleg.md", b"# Uitleg\n\nGebruik <html> als eerste tag.")

    assert _detect(path) == "markdown"


def test_utf16_text_with_bom_is_text_not_binary(tmp_path: Path) -> None:
    path = _write(tmp_path / "kladblok.txt", "Hallo buren".encode("utf-16"))

    assert _detect(path) == "text"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("foto.md", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "PNG-afbeelding"),
        ("foto.txt", b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG-afbeelding"),
        ("oud.txt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "oud Office-bestand"),
        ("pagina.html", b"PK\x03\x04" + b"\x00" * 26, "zip-archief"),
        ("brief.txt", b"{\\rtf1\\ansi Hallo}", "RTF-document"),
    ],
)
def test_other_formats_under_text_extension_are_refused(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = _write(tmp_path / name, content)

    with pytest.raises(UnsupportedFileError) as info:
        _detect(path)

    assert name in str(info.value)
    assert expected in str(info.value)
    assert "geen tekst" in str(info.value)


def test_nul_bytes_under_text_extension_are_binary(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.md", b"title\x00\x00\x01\x02")

    with pytest.raises(UnsupportedFileError) as info:
        _detect(path)

    assert "export.md" in str(info.value) and "binaire gegevens" in str(info.value)


def test_png_renamed_to_pdf(tmp_path: Path, png_bytes: bytes) -> None:
    path = _write(tmp_path / "scan.pdf", png_bytes)

    with pytest.raises(UnsupportedFileError) as info:
        _detect(path)

    assert "scan.pdf" in str(info.value) and "PNG-afbeelding" in str(info.value)


def test_pdf_extension_without_pdf_header_is_corrupt(tmp_path: Path) -> None:
    path = _write(tmp_path / "half.pdf", b"dit is geen pdf")

    with pytest.raises(CorruptFileError) as info:
        _detect(path)

    assert "half.pdf" in str(info.value) and "%PDF-" in str(info.value)


def test_docx_not_a_zip_is_corrupt(tmp_path: Path) -> None:
    path = _write(tmp_path / "brief.docx", b"gewone tekst")

    with pytest.raises(CorruptFileError) as info:
        _detect(path)

    assert str(info.value).startswith("brief.docx: geen geldig Word-bestand (.docx)")


def test_old_word_file_named_docx_gets_save_as_advice(tmp_path: Path, ole_magic: bytes) -> None:
    path = _write(tmp_path / "oud.docx", ole_magic + b"\x00" * 100)

    with pytest.raises(CorruptFileError) as info:
        _detect(path)

    assert "oud.docx" in str(info.value) and "oud Word-bestand (.doc)" in str(info.value)


def test_zip_without_word_part_named_docx_is_corrupt(tmp_path: Path) -> None:
    path = _zip(tmp_path / "sheet.docx", {"xl/workbook.xml": "<workbook/>"})

    with pytest.raises(CorruptFileError) as info:
        _detect(path)

    assert "sheet.docx" in str(info.value) and "word/document.xml" in str(info.value)


def test_unknown_extension_lists_supported_types_and_hints(tmp_path: Path, ole_magic: bytes) -> None:
    path = _write(tmp_path / "notulen.doc", ole_magic + b"\x00" * 100)

    with pytest.raises(UnsupportedFileError) as info:
        _detect(path)

    message = str(info.value)
    assert message.startswith("notulen.doc: bestandstype .doc wordt niet ondersteund")
    for kind in ("PDF (.pdf)", "Word (.docx)", "Markdown (.md)", "HTML (.html, .htm)", "tekst (.txt)"):
        assert kind in message
    assert "'Opslaan als' > Word-document (.docx)" in message


def test_text_without_extension_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "LEESMIJ", b"Gewone tekst zonder extensie")

    with pytest.raises(UnsupportedFileError) as info:
        _detect(path)

    assert "LEESMIJ: een bestand zonder extensie wordt niet ondersteund" in str(info.value)
