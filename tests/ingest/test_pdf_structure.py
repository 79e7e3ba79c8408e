"""PDF structure from real files: headings by typography and bookmarks, page furniture, hyphenation, columns,
tables, page ranges on chunks, and scanned pages read by OCR (a real rasterised PDF, no mock)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from ingest.chunking import SectionChunker
from ingest.errors import EmptyDocumentError
from ingest.loaders import ocr

FONTS = Path("/usr/share/fonts/truetype/dejavu")
BODY = (
    "Een vereniging is een rechtspersoon met leden die is gericht op een bepaald doel, ander dan het verdelen "
    "van winst onder de leden. De vereniging wordt bij meerpartijenhandeling opgericht en kan statuten hebben."
)


class _Doc(FPDF):
    """Running header and 'Pagina N van M' footer on every page, like an exported report."""

    def header(self) -> None:
        self.set_font(*self.base, size=8)
        self.cell(0, 5, "Gids verenigingsrecht - versie 2026", align="C")
        self.ln(10)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(*self.base, size=8)
        self.cell(0, 5, f"Pagina {self.page_no()} van {{nb}}", align="C")


def _pdf(title: str | None = "Gids verenigingsrecht") -> _Doc:
    pdf = _Doc()
    if (FONTS / "DejaVuSans.ttf").exists():
        pdf.add_font("S", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("S", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.base = ("S", "")
        pdf.bold = ("S", "B")
    else:  # core fonts: Latin-1 only
        pdf.base = ("Helvetica", "")
        pdf.bold = ("Helvetica", "B")
    if title:
        pdf.set_title(title)
    return pdf


def _heading(pdf: _Doc, text: str, size: float) -> None:
    pdf.set_font(*pdf.bold, size=size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _para(pdf: _Doc, text: str, size: float = 10, bold: bool = False) -> None:
    pdf.set_font(*(pdf.bold if bold else pdf.base), size=size)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _statuten(path: Path, *, outline: bool = False) -> Path:
    pdf = _pdf()
    pdf.add_page()
    if outline:
        pdf.start_section("Gids verenigingsrecht", level=0)
    _heading(pdf, "Gids verenigingsrecht", 18)
    for n, name in ((1, "Oprichting"), (2, "Leden"), (3, "Bestuur")):
        if outline:
            pdf.start_section(f"Hoofdstuk {n} - {name}", level=1)
        _heading(pdf, f"Hoofdstuk {n} - {name}", 15)
        for article in (f"art. 2:{25 + 2 * n} BW", f"art. 2:{26 + 2 * n} BW"):
            if outline:
                pdf.start_section(article, level=2)
            _heading(pdf, article, 12)
            _para(pdf, "Goedkeuring", bold=True)  # a bold label in body size is no heading here
            for lid in range(1, 4):
                _para(pdf, f"{lid}. {BODY}")
    pdf.output(str(path))
    return path


def test_headings_from_typography_with_levels_and_exact_text(tmp_path: Path, load) -> None:
    doc = load(_statuten(tmp_path / "gids.pdf"))

    headings = [(b.heading_level, b.text) for b in doc.blocks if b.is_heading]
    assert headings[:4] == [
        (1, "Gids verenigingsrecht"),
        (2, "Hoofdstuk 1 - Oprichting"),
        (3, "art. 2:27 BW"),
        (3, "art. 2:28 BW"),
    ]
    assert len(headings) == 1 + 3 + 6
    assert "Goedkeuring" in [b.text for b in doc.blocks if not b.is_heading]


def test_running_header_footer_and_page_numbers_are_dropped(tmp_path: Path, load) -> None:
    doc = load(_statuten(tmp_path / "gids.pdf"))

    assert doc.metadata["pages"] >= 2
    text = doc.full_text
    assert "versie 2026" not in text
    assert "Pagina" not in text


def test_chunks_carry_heading_path_and_page_range_and_never_cross_an_article(tmp_path: Path, load) -> None:
    doc = load(_statuten(tmp_path / "gids.pdf"))

    chunks = SectionChunker(600, 100).chunk(doc)

    assert chunks and all(c.section for c in chunks)
    assert all(c.page_start is not None and c.page_end >= c.page_start for c in chunks)
    assert any(c.page_end > 1 for c in chunks)
    for chunk in chunks:
        assert chunk.section[-1].startswith("art. 2:")
        assert chunk.text.count("1. Een vereniging") <= 1  # one article's members only
    assert chunks[0].section == ("Gids verenigingsrecht", "Hoofdstuk 1 - Oprichting", "art. 2:27 BW")


def test_bookmarks_give_the_heading_levels(tmp_path: Path, load) -> None:
    path = _statuten(tmp_path / "gids.pdf", outline=True)
    assert len(PdfReader(path).outline) > 0

    doc = load(path)

    levels = {b.text: b.heading_level for b in doc.blocks if b.is_heading}
    assert levels["Gids verenigingsrecht"] == 1
    assert levels["Hoofdstuk 2 - Leden"] == 2
    assert levels["art. 2:29 BW"] == 3


def test_numbered_and_capital_headings_without_typography(tmp_path: Path, load) -> None:
    pdf = _pdf(title=None)
    pdf.add_page()
    for text in ("HUISHOUDELIJK REGLEMENT", "Artikel 1", BODY, "2.1 Contributie", BODY):
        _para(pdf, text)
    doc = load(pdf.output(str(tmp_path / "plat.pdf")) or tmp_path / "plat.pdf")

    headings = [b.text for b in doc.blocks if b.is_heading]
    assert headings == ["HUISHOUDELIJK REGLEMENT", "Artikel 1", "2.1 Contributie"]
    body = [b.text for b in doc.blocks if not b.is_heading]
    assert body == [BODY, BODY]  # the '1. …' and 'De …' lines inside a paragraph are no headings


def test_hyphenated_line_ends_are_joined(tmp_path: Path, load) -> None:
    pdf = _pdf(title=None)
    pdf.add_page()
    pdf.set_font(*pdf.base, size=11)
    for line in (
        "De vereniging heeft een huishoudelijk regle-",
        "ment en een bestuur dat zorg- en welzijns-",
        "taken verdeelt.",
    ):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "afbreken.pdf"
    pdf.output(str(path))

    doc = load(path)

    assert [b.text for b in doc.blocks] == [
        "De vereniging heeft een huishoudelijk reglement en een bestuur dat zorg- en welzijnstaken verdeelt."
    ]


def test_two_columns_are_read_column_by_column(tmp_path: Path, load) -> None:
    left = ["Linkerkolom regel een over leden.", "Linkerkolom regel twee over leden.", "Linkerkolom einde."] * 4
    right = ["Rechterkolom regel een over geld.", "Rechterkolom regel twee over geld.", "Rechterkolom einde."] * 4
    pdf = _pdf(title=None)
    pdf.add_page()
    pdf.set_font(*pdf.base, size=10)
    y = 30
    for a, b in zip(left, right):  # noqa: B905
        pdf.set_xy(15, y)
        pdf.cell(80, 5, a)
        pdf.set_xy(110, y)
        pdf.cell(80, 5, b)
        y += 5
    path = tmp_path / "kolommen.pdf"
    pdf.output(str(path))

    text = load(path).full_text

    assert "Linkerkolom" in text and "Rechterkolom" in text
    assert text.rindex("Linkerkolom") < text.index("Rechterkolom")


def test_ruled_table_becomes_markdown_rows(tmp_path: Path, load) -> None:
    pdf = _pdf(title=None)
    pdf.add_page()
    _para(pdf, "De tarieven voor zaalhuur staan hieronder.")
    pdf.set_font(*pdf.base, size=10)
    with pdf.table(col_widths=(60, 40)) as table:
        for row in (("Ruimte", "Prijs per uur"), ("Grote zaal", "35 euro"), ("Vergaderkamer", "15 euro")):
            cells = table.row()
            for value in row:
                cells.cell(value)
    _para(pdf, "Leden krijgen korting.")
    path = tmp_path / "tarieven.pdf"
    pdf.output(str(path))

    doc = load(path)

    tables = [b for b in doc.blocks if b.table]
    assert len(tables) == 1
    assert tables[0].text.splitlines() == [
        "| Ruimte | Prijs per uur |",
        "| --- | --- |",
        "| Grote zaal | 35 euro |",
        "| Vergaderkamer | 15 euro |",
    ]
    texts = [b.text for b in doc.blocks]
    assert texts.index("De tarieven voor zaalhuur staan hieronder.") < texts.index(tables[0].text)
    assert texts.index(tables[0].text) < texts.index("Leden krijgen korting.")


def _rasterise(source: Path, target: Path, dpi: int = 200) -> Path:
    """Render every page to an image and wrap the images in a new PDF: a scan without a text layer."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    images = [document[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(document))]
    document.close()
    images[0].save(target, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return target


def _scan_source(path: Path) -> Path:
    pdf = _pdf(title=None)
    pdf.add_page()
    _heading(pdf, "Huishoudelijk reglement", 18)
    _heading(pdf, "Artikel 1 Contributie", 14)
    _para(
        pdf,
        "De leden betalen jaarlijks een contributie van vijftig euro. De penningmeester int de "
        "contributie voor één maart van elk jaar.",
        size=11,
    )
    _heading(pdf, "Artikel 2 Vergaderingen", 14)
    _para(pdf, "De algemene ledenvergadering komt ten minste twee keer per jaar bijeen.", size=11)
    pdf.output(str(path))
    return path


@pytest.mark.skipif(not ocr.available(), reason=f"OCR niet beschikbaar: {ocr.unavailable_reason()}")
def test_scanned_pdf_is_read_by_ocr_with_headings_and_marked(tmp_path: Path, load) -> None:
    scan = _rasterise(_scan_source(tmp_path / "bron.pdf"), tmp_path / "scan.pdf")
    assert not PdfReader(scan).pages[0].extract_text().strip()  # really no text layer

    doc = load(scan)

    assert doc.metadata["ocr"] is True and doc.metadata["ocr_pages"] == [1]
    headings = [(b.heading_level, b.text) for b in doc.blocks if b.is_heading]
    assert headings == [(1, "Huishoudelijk reglement"), (2, "Artikel 1 Contributie"), (2, "Artikel 2 Vergaderingen")]
    assert "contributie van vijftig euro" in doc.full_text
    assert doc.title == "Huishoudelijk reglement"


def test_scanned_pdf_without_ocr_is_refused_in_dutch(tmp_path: Path, load, monkeypatch) -> None:
    scan = _rasterise(_scan_source(tmp_path / "bron.pdf"), tmp_path / "scan.pdf")
    monkeypatch.setattr(ocr, "available", lambda: False)  # the machine without Tesseract

    with pytest.raises(EmptyDocumentError) as info:
        load(scan)

    assert "geen tekstlaag" in info.value.reason and "OCR" in info.value.reason
    assert info.value.path == scan


def test_encrypted_pdf_still_refused_after_structure_changes(tmp_path: Path, load) -> None:
    plain = _statuten(tmp_path / "open.pdf")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="geheim", owner_password="x", algorithm="AES-128")
    locked = tmp_path / "geheim.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)

    from ingest.errors import CorruptFileError

    with pytest.raises(CorruptFileError) as info:
        load(locked)
    assert "wachtwoord" in info.value.reason


def test_a_paragraph_in_a_larger_font_is_not_a_heading(tmp_path: Path, load) -> None:
    pdf = _pdf(title=None)
    pdf.add_page()
    _heading(pdf, "Welkom", 18)
    _para(pdf, BODY + " " + BODY, size=13)  # an introduction set larger than the body, over several lines
    for _ in range(3):
        _para(pdf, BODY)
    doc = load(pdf.output(str(tmp_path / "intro.pdf")) or tmp_path / "intro.pdf")

    assert [b.text for b in doc.blocks if b.is_heading] == ["Welkom"]
    assert doc.blocks[1].text == BODY + " " + BODY


def test_footnote_marks_stay_in_their_line(tmp_path: Path, load) -> None:
    pdf = _pdf(title=None)
    pdf.add_page()
    pdf.set_font(*pdf.base, size=11)
    pdf.set_xy(20, 30)
    pdf.cell(75, 6, "De vereniging heeft een bestuur")
    pdf.set_font(*pdf.base, size=6)
    pdf.set_xy(95, 29)
    pdf.cell(3, 3, "1")
    pdf.set_font(*pdf.base, size=11)
    pdf.set_xy(99, 30)
    pdf.cell(60, 6, "van drie leden.")
    pdf.set_xy(20, 45)
    _para(pdf, BODY, size=11)
    path = tmp_path / "voetnoot.pdf"
    pdf.output(str(path))

    assert [b.text for b in load(path).blocks] == ["De vereniging heeft een bestuur 1 van drie leden.", BODY]
