"""Builders for real small input files (PDF, DOCX, zip bombs), written into pytest's tmp dirs.

Exposed as fixtures (not imported from this module: without ``__init__.py`` files ``import conftest``
would be ambiguous between test folders).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from fpdf import FPDF

from ingest.document import ParsedDocument
from ingest.loaders import load_file

MB = 1024 * 1024

_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.fixture
def load() -> Callable[..., ParsedDocument]:
    """``load_file`` with generous default limits, overridable per call."""

    def _load(path: Path, *, max_bytes: int = 25 * MB, max_unpacked_bytes: int = 200 * MB) -> ParsedDocument:
        return load_file(path, max_bytes=max_bytes, max_unpacked_bytes=max_unpacked_bytes)

    return _load


def _write_pdf(path: Path, pages: list[list[str]], *, title: str | None = None) -> Path:
    """A text PDF: one list of paragraphs per page (core font, so Latin-1 text only)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    pdf.output(str(path))
    return path


def _write_rectangle_pdf(path: Path) -> Path:
    """A PDF with a drawing but no text layer, like a scan."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(30, 30, 30)
    pdf.rect(20, 20, 120, 80, style="F")
    pdf.output(str(path))
    return path


def _docx_bytes(build: Callable[[Document], None]) -> bytes:
    document = Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _write_zip_bomb_docx(path: Path, *, unpacked_mb: int = 300) -> Path:
    """A real .docx plus one member of ``unpacked_mb`` MB of zeros, streamed so the file stays tiny."""
    base = _docx_bytes(lambda d: d.add_paragraph("Een gewoon document met een verstopte bijlage."))
    chunk = bytes(MB)
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, source.read(member.filename))
        with target.open("word/media/nullen.bin", "w", force_zip64=True) as stream:
            for _ in range(unpacked_mb):
                stream.write(chunk)
    return path


@pytest.fixture(scope="session")
def zip_bomb_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_zip_bomb_docx(tmp_path_factory.mktemp("bom") / "bijlage.docx")


@pytest.fixture
def png_bytes() -> bytes:
    """A complete 1x1 PNG image."""
    return _PNG


@pytest.fixture
def ole_magic() -> bytes:
    """The first bytes of an old Office (.doc/.xls/.ppt) file."""
    return _OLE_MAGIC


@pytest.fixture
def make_pdf() -> Callable[..., Path]:
    return _write_pdf


@pytest.fixture
def make_rectangle_pdf() -> Callable[[Path], Path]:
    return _write_rectangle_pdf


@pytest.fixture
def make_docx() -> Callable[[Path, Callable[[Document], None]], Path]:
    """Write a .docx built by a callback that receives a fresh python-docx ``Document``."""

    def _make(path: Path, build: Callable[[Document], None]) -> Path:
        path.write_bytes(_docx_bytes(build))
        return path

    return _make
