"""In a real browser: a source card opens the original document at the cited place.

A three-page PDF whose answer stands on page 3 opens at page 3 (a rendered page image, offline), pages back
with "Vorige", and downloads as the original PDF; a Word file opens as text from the cited section; a scanned
PDF read by OCR says "Tekst herkend met OCR" on its card (when Tesseract is installed). Debian's Chromium via
Playwright, ``streamlit run app.py`` on a free port, a temporary knowledge base ingested with the kb CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_support import build_tiny_model
from browser_support import ARTIFACTS, NEEDS_CHROMIUM, ask

FONTS = Path("/usr/share/fonts/truetype/dejavu")

PDF_TITLE = "Reglement dorpshuis De Linde"
PDF_PAGES = [
    ("Artikel 1 Openingstijden", "Het dorpshuis is open van maandag tot en met zaterdag voor alle inwoners."),
    ("Artikel 2 Beheer", "Een beheercommissie van vrijwilligers zorgt voor sleutels, schoonmaak en de bar."),
    ("Artikel 3 Zaalhuur", "De zaalhuur van de grote zaal bedraagt zeventien euro per uur voor verenigingen."),
]
PDF_QUESTION = "Wat kost de zaalhuur van de grote zaal per uur?"
DOCX_TITLE = "Werkwijze moestuin"
DOCX_SECTION = "Gieten in de zomer"
DOCX_TEXT = "In de zomer gieten de tuinders de moestuin om beurten, volgens het gietrooster in het schuurtje."
DOCX_QUESTION = "Wie giet de moestuin in de zomer?"
SCAN_TEXT = "De bibliotheekbus stopt elke dinsdag bij het dorpsplein."
SCAN_QUESTION = "Wanneer stopt de bibliotheekbus bij het dorpsplein?"

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]


def _fpdf():
    from fpdf import FPDF

    pdf = FPDF()
    if (FONTS / "DejaVuSans.ttf").exists():
        pdf.add_font("S", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("S", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    else:  # fpdf2's core font (Latin-1 is enough for these texts)
        pdf.set_font = _core(pdf.set_font)
    return pdf


def _core(set_font):
    return lambda family, style="", size=0: set_font("Helvetica", style, size)


def _write_pdf(path: Path) -> Path:
    pdf = _fpdf()
    pdf.set_title(PDF_TITLE)
    for index, (heading, body) in enumerate(PDF_PAGES):
        pdf.add_page()
        if index == 0:
            pdf.set_font("S", "B", 18)
            pdf.multi_cell(0, 9, PDF_TITLE, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("S", "B", 14)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("S", "", 11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def _write_docx(path: Path) -> Path:
    from docx import Document

    document = Document()
    document.core_properties.title = DOCX_TITLE
    document.add_heading(DOCX_TITLE, level=1)
    document.add_heading("Aanmelden", level=2)
    document.add_paragraph("Nieuwe tuinders melden zich aan bij de coördinator van de moestuin. " * 12)
    document.add_heading(DOCX_SECTION, level=2)
    document.add_paragraph(DOCX_TEXT)
    document.save(str(path))
    return path


def _write_scan(path: Path) -> Path:
    import pypdfium2 as pdfium

    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("S", "B", 18)
    pdf.multi_cell(0, 9, "Bibliotheekbus", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("S", "", 12)
    pdf.multi_cell(0, 7, SCAN_TEXT, new_x="LMARGIN", new_y="NEXT")
    document = pdfium.PdfDocument(bytes(pdf.output()))
    image = document[0].render(scale=200 / 72).to_pil().convert("RGB")
    document.close()
    image.save(path, "PDF", resolution=200)
    return path


def _ocr_available() -> bool:
    from ingest.loaders import ocr

    return ocr.available()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, streamlit_app) -> dict:
    base = tmp_path_factory.mktemp("original")
    docs = base / "docs"
    docs.mkdir()
    pdf = _write_pdf(docs / "reglement-dorpshuis.pdf")
    _write_docx(docs / "moestuin.docx")
    texts = [
        PDF_TITLE,
        DOCX_TITLE,
        DOCX_SECTION,
        DOCX_TEXT,
        PDF_QUESTION,
        DOCX_QUESTION,
        SCAN_TEXT,
        SCAN_QUESTION,
        "Bibliotheekbus",
        "Nieuwe tuinders melden zich aan bij de coördinator van de moestuin.",
    ]
    texts += [f"{h} {b}" for h, b in PDF_PAGES]
    if _ocr_available():
        _write_scan(docs / "bibliotheekbus-scan.pdf")
    model = build_tiny_model(base / "model", texts)
    app = streamlit_app(base, model)
    app.kb("ingest", str(docs), timeout=600)
    return {"url": app.start(), "log": app.log, "pdf": pdf.read_bytes()}


def _card(message, text: str):
    """The source card (a collapsed expander) holding ``text`` (its section), opened; several cards may come
    from one document."""
    card = message.get_by_test_id("stExpander").filter(has_text=text).last
    card.wait_for()
    if (
        card.get_by_role("button", name="Origineel bekijken").count() == 0
        or not card.get_by_role("button", name="Origineel bekijken").first.is_visible()
    ):
        card.locator("summary").click()
    card.get_by_role("button", name="Origineel bekijken").first.wait_for()
    return card


def test_pdf_source_opens_at_the_cited_page_pages_and_downloads(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    message = ask(page, PDF_QUESTION)
    card = _card(message, "Artikel 3 Zaalhuur")
    assert PDF_TITLE in card.inner_text() and "p. 3" in card.inner_text()

    card.get_by_role("button", name="Origineel bekijken").click()
    dialog = page.get_by_test_id("stDialog")
    dialog.get_by_text("Pagina 3 van 3 — geciteerde pagina").wait_for()
    image = dialog.locator("img[alt='Pagina 3 van het origineel']")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 500", arg=image.element_handle())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-original-pdf-page3.png"))

    dialog.get_by_role("button", name="Vorige").click()
    dialog.get_by_text("Pagina 2 van 3").wait_for()
    assert "geciteerde pagina" not in dialog.get_by_text("Pagina 2 van 3").inner_text()
    dialog.locator("img[alt='Pagina 2 van het origineel']").wait_for()

    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="Origineel downloaden").click()
    download = download_info.value
    assert download.suggested_filename == "reglement-dorpshuis.pdf"
    assert Path(download.path()).read_bytes() == server["pdf"]
    assert not page.errors
    # The viewer itself loads nothing from outside (no pdf.js from a CDN). Streamlit's page icons come from
    # Google's Material Symbols host (app-wide, not the viewer), so that host is the only one allowed here.
    outside = [u for u in page.outside if not u.startswith("https://fonts.gstatic.com/s/i/")]
    assert not outside, f"requests outside the app: {outside[:5]}"


def test_word_source_opens_as_text_at_the_cited_section(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    message = ask(page, DOCX_QUESTION)
    card = _card(message, DOCX_SECTION)

    card.get_by_role("button", name="Origineel bekijken").click()
    dialog = page.get_by_test_id("stDialog")
    dialog.get_by_text("Vanaf het geciteerde onderdeel").wait_for()
    shown = dialog.inner_text()
    assert DOCX_SECTION in shown and "gietrooster" in shown
    assert "Nieuwe tuinders melden zich aan" not in shown  # the text starts at the cited section
    dialog.get_by_text("Hele document vanaf het begin").click()
    dialog.get_by_text("Nieuwe tuinders melden zich aan").first.wait_for()
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="Origineel downloaden").click()
    assert download_info.value.suggested_filename == "moestuin.docx"
    assert Path(download_info.value.path()).read_bytes()[:2] == b"PK"
    assert not page.errors


@pytest.mark.skipif(
    not _ocr_available(), reason="Tesseract met Nederlandse taaldata ontbreekt (scripts/install_ocr.sh)"
)
def test_scanned_source_says_its_text_was_recognised_by_ocr(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    message = ask(page, SCAN_QUESTION)
    card = _card(message, "Bibliotheekbus")
    card.get_by_text("Tekst herkend met OCR").wait_for()
    assert "dinsdag" in card.inner_text()
    assert not page.errors
