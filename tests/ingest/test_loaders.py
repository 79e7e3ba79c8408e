"""Loaders on real small files: structure, titles, page numbers, and Dutch errors that name the file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from docx.enum.style import WD_STYLE_TYPE
from pypdf import PdfReader, PdfWriter

from ingest.document import Block
from ingest.errors import (
    CorruptFileError,
    EmptyDocumentError,
    FileTooLargeError,
    IngestError,
    UnsupportedFileError,
)

MB = 1024 * 1024


def assert_names_file(exc: IngestError, path: Path, *fragments: str) -> None:
    message = str(exc)
    assert exc.path == path
    assert path.name in message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} ontbreekt in {message!r}"


# --- Markdown ----------------------------------------------------------------------------------


MARKDOWN = """\
---
title: Een coöperatie oprichten
partner: Buurtenergie Noord
datum: 2024-03-01
tags: [rechtsvorm, statuten]
---
# Oprichting

Een coöperatie richt je op bij de notaris.
De statuten leggen de doelen vast.

## Stappen

- kies een naam
- schrijf de statuten

```bash
# not a heading
echo klaar
```

### Kosten ###

De notaris rekent een vast bedrag.
"""


def test_markdown_front_matter_headings_and_code_fence(tmp_path: Path, load) -> None:
    path = tmp_path / "oprichten.md"
    path.write_text(MARKDOWN, encoding="utf-8")

    doc = load(path)

    assert doc.kind == "markdown"
    assert doc.title == "Een coöperatie oprichten"
    assert doc.metadata == {
        "title": "Een coöperatie oprichten",
        "partner": "Buurtenergie Noord",
        "datum": "2024-03-01",
        "tags": ["rechtsvorm", "statuten"],
    }
    headings = [(b.heading_level, b.text) for b in doc.blocks if b.is_heading]
    assert headings == [(1, "Oprichting"), (2, "Stappen"), (3, "Kosten")]
    body = [b.text for b in doc.blocks if not b.is_heading]
    assert body[0] == "Een coöperatie richt je op bij de notaris.\nDe statuten leggen de doelen vast."
    assert body[1] == "- kies een naam\n- schrijf de statuten"
    assert "# not a heading" in body[2] and body[2].startswith("```bash")
    assert body[3] == "De notaris rekent een vast bedrag."
    assert "title:" not in doc.full_text  # front matter is metadata, not text
    assert doc.blocks[-2] == Block("Kosten", heading_level=3)


def test_markdown_title_falls_back_to_first_h1_then_none(tmp_path: Path, load) -> None:
    with_h1 = tmp_path / "a.md"
    with_h1.write_text("## Inleiding\n\nTekst.\n\n# Hoofdtitel\n\nMeer tekst.\n", encoding="utf-8")
    without = tmp_path / "b.md"
    without.write_text("## Alleen een tussenkop\n\nTekst.\n", encoding="utf-8")

    assert load(with_h1).title == "Hoofdtitel"
    assert load(without).title is None
    assert load(without).metadata == {}


def test_markdown_setext_heading_and_hash_without_space(tmp_path: Path, load) -> None:
    path = tmp_path / "c.md"
    path.write_text("Financiering\n============\n\n#hashtag is geen kop\n", encoding="utf-8")

    doc = load(path)

    assert doc.blocks == [Block("Financiering", heading_level=1), Block("#hashtag is geen kop")]


def test_markdown_malformed_front_matter_names_line(tmp_path: Path, load) -> None:
    path = tmp_path / "kapot.md"
    path.write_text("---\ntitle: Goed\nauteur: [niet gesloten\n---\n# Kop\n\nTekst\n", encoding="utf-8")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "YAML", "regel")
    assert any(f"regel {n}" in str(info.value) for n in (3, 4, 5))


def test_markdown_front_matter_must_be_a_mapping(tmp_path: Path, load) -> None:
    path = tmp_path / "lijst.md"
    path.write_text("---\n- een\n- twee\n---\nTekst\n", encoding="utf-8")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "sleutel: waarde", "lijst")


def test_markdown_with_only_headings_is_empty(tmp_path: Path, load) -> None:
    path = tmp_path / "koppen.md"
    path.write_text("---\ntitle: Leeg\n---\n# Kop\n\n## Nog een kop\n", encoding="utf-8")

    with pytest.raises(EmptyDocumentError) as info:
        load(path)

    assert_names_file(info.value, path, "geen tekst")


# --- plain text --------------------------------------------------------------------------------


def test_text_utf8_with_bom_paragraphs(tmp_path: Path, load) -> None:
    path = tmp_path / "notulen.txt"
    text = "\ufeffLedenvergadering 12 mei\r\nAanwezig: 14 leden\r\n\r\n   \r\nBesluit: één bestuurslid erbij.\r\n"
    path.write_bytes(text.encode())

    doc = load(path)

    assert doc.kind == "text"
    assert doc.title is None
    assert doc.blocks == [
        Block("Ledenvergadering 12 mei\nAanwezig: 14 leden"),
        Block("Besluit: één bestuurslid erbij."),
    ]


def test_text_cp1252_is_decoded(tmp_path: Path, load) -> None:
    path = tmp_path / "oud.txt"
    text = "De coöperatie vraagt € 50 contributie per jaar.\n\nZie het reglement – artikel 3."
    path.write_bytes(text.encode("cp1252"))

    doc = load(path)

    assert [b.text for b in doc.blocks] == [
        "De coöperatie vraagt € 50 contributie per jaar.",
        "Zie het reglement – artikel 3.",
    ]


def test_text_utf16_with_bom_is_decoded(tmp_path: Path, load) -> None:
    path = tmp_path / "kladblok.txt"
    path.write_bytes("Vergaderdatum: 3 juni\n\nAgenda volgt.".encode("utf-16"))

    assert [b.text for b in load(path).blocks] == ["Vergaderdatum: 3 juni", "Agenda volgt."]


def test_text_undecodable_asks_for_utf8(tmp_path: Path, load) -> None:
    path = tmp_path / "rommel.txt"
    # No NUL bytes, invalid UTF-8, and control characters / undefined cp1252 bytes throughout.
    path.write_bytes(bytes([0x81, 0x02, 0x9D, 0x03, 0xC3, 0x28, 0x11, 0x8F]) * 64)

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "kan de tekst niet lezen", "UTF-8")


def test_text_with_nul_bytes_is_refused_as_binary(tmp_path: Path, load) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"ABC\x00\x01\x02\x00" * 100)

    with pytest.raises(UnsupportedFileError) as info:
        load(path)

    assert_names_file(info.value, path, "binaire gegevens")


# --- HTML --------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html lang="nl"><head>
  <meta charset="utf-8"><title>Subsidies voor bewonersinitiatieven</title>
  <style>body { color: red; }</style>
  <script>var geheim = "NIET_IN_TEKST"; document.write("<p>ook niet</p>");</script>
</head><body>
<header><a href="/">Home</a> menu-kop</header>
<nav><ul><li>Navigatie-item</li></ul></nav>
<main>
  <article>
    <header><h1>Subsidie aanvragen</h1></header>
    <p>Een   bewonersinitiatief kan
       subsidie aanvragen bij de <b>gemeente</b> &amp; de provincie.</p>
    <h2>Voorwaarden</h2>
    <ul><li>minstens <em>drie</em> bewoners</li><li>een plan met begroting</li></ul>
    <table><tr><th>Regeling</th><th>Maximum</th></tr><tr><td>Buurtbudget</td><td>5000 euro</td></tr></table>
    <blockquote>Samen doen we meer.</blockquote>
    <p>Adres:<br>Dorpsstraat 1<br>Ergens</p>
    <noscript>Zet JavaScript aan</noscript>
    <!-- verborgen opmerking -->
  </article>
</main>
<footer>Copyright voettekst</footer>
<script>console.log("ook weg")</script>
</body></html>
"""


def test_html_drops_scripts_and_chrome_and_keeps_structure(tmp_path: Path, load) -> None:
    path = tmp_path / "subsidie.html"
    path.write_text(HTML, encoding="utf-8")

    doc = load(path)

    assert doc.kind == "html"
    assert doc.title == "Subsidies voor bewonersinitiatieven"
    assert [b.text for b in doc.blocks] == [
        "Subsidie aanvragen",
        "Een bewonersinitiatief kan subsidie aanvragen bij de gemeente & de provincie.",
        "Voorwaarden",
        "minstens drie bewoners",
        "een plan met begroting",
        "| Regeling | Maximum |\n| --- | --- |\n| Buurtbudget | 5000 euro |",
        "Samen doen we meer.",
        "Adres:\nDorpsstraat 1\nErgens",
    ]
    assert [b.heading_level for b in doc.blocks[:3]] == [1, 0, 2]
    text = doc.full_text
    unwanted_parts = ("NIET_IN_TEKST", "ook niet", "color", "Navigatie", "menu-kop", "voettekst")
    for unwanted in (*unwanted_parts, "JavaScript", "opmerking", "<", ">"):
        assert unwanted not in text


def test_html_title_falls_back_to_h1_and_loose_text_is_kept(tmp_path: Path, load) -> None:
    path = tmp_path / "kaal.htm"
    page = "<div><h1>Energie besparen</h1>Losse tekst zonder alinea.<div>Binnenste blok</div></div>"
    path.write_text(page, encoding="utf-8")

    doc = load(path)

    assert doc.title == "Energie besparen"
    assert [b.text for b in doc.blocks] == ["Energie besparen", "Losse tekst zonder alinea.", "Binnenste blok"]


def test_html_meta_charset_is_respected(tmp_path: Path, load) -> None:
    path = tmp_path / "oud.html"
    page = '<html><head><meta charset="windows-1252"></head><body><p>Coöperatie café</p></body></html>'
    path.write_bytes(page.encode("cp1252"))

    assert load(path).blocks == [Block("Coöperatie café")]


def test_html_markup_the_parser_rejects_is_corrupt(tmp_path: Path, load) -> None:
    path = tmp_path / "stuk.html"
    path.write_bytes(b"<p>Tekst</p><![[")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "HTML kan niet worden gelezen")


def test_html_with_only_script_is_empty(tmp_path: Path, load) -> None:
    path = tmp_path / "app.html"
    path.write_text("<html><body><script>renderApp()</script><nav>Menu</nav></body></html>", encoding="utf-8")

    with pytest.raises(EmptyDocumentError) as info:
        load(path)

    assert_names_file(info.value, path, "geen leesbare tekst")


# --- PDF ---------------------------------------------------------------------------------------

PAGE_ONE = [
    "Een energiecoöperatie is een vereniging van bewoners die samen duurzame energie opwekken en "
    "de opbrengst eerlijk verdelen over de leden van de vereniging.",
    "De algemene ledenvergadering kiest het bestuur.",
]
PAGE_TWO = ["Financiering gebeurt met ledenkapitaal, een lening of een subsidie van de provincie."]


def test_pdf_two_pages_keep_page_numbers_and_paragraphs(tmp_path: Path, load, make_pdf) -> None:
    path = make_pdf(tmp_path / "handleiding.pdf", [PAGE_ONE, PAGE_TWO], title="Handleiding coöperatie")

    doc = load(path)

    assert doc.kind == "pdf"
    assert doc.title == "Handleiding coöperatie"
    assert doc.metadata["pages"] == 2
    assert all(not b.is_heading for b in doc.blocks)
    page_one = [" ".join(b.text.split()) for b in doc.blocks if b.page == 1]
    page_two = [" ".join(b.text.split()) for b in doc.blocks if b.page == 2]
    assert page_one == [" ".join(p.split()) for p in PAGE_ONE]
    assert page_two == PAGE_TWO
    assert {b.page for b in doc.blocks} == {1, 2}


def test_pdf_without_title_metadata_has_no_title(tmp_path: Path, load, make_pdf) -> None:
    path = make_pdf(tmp_path / "zonder.pdf", [["Alleen een korte tekst."]])

    doc = load(path)

    assert doc.title is None
    assert doc.blocks == [Block("Alleen een korte tekst.", page=1)]


def test_pdf_without_text_layer_asks_for_ocr(tmp_path: Path, load, make_rectangle_pdf) -> None:
    path = make_rectangle_pdf(tmp_path / "scan.pdf")

    with pytest.raises(EmptyDocumentError) as info:
        load(path)

    assert_names_file(info.value, path, "geen tekstlaag", "OCR")


def _encrypt(source: Path, target: Path, *, user_password: str, owner_password: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def test_pdf_with_password_is_refused(tmp_path: Path, load, make_pdf) -> None:
    plain = make_pdf(tmp_path / "open.pdf", [PAGE_ONE])
    path = _encrypt(plain, tmp_path / "geheim.pdf", user_password="geheim", owner_password="eigenaar")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "beveiligd met een wachtwoord")


def test_pdf_with_only_owner_password_is_read(tmp_path: Path, load, make_pdf) -> None:
    plain = make_pdf(tmp_path / "open.pdf", [PAGE_TWO])
    path = _encrypt(plain, tmp_path / "rechten.pdf", user_password="", owner_password="eigenaar")

    assert [b.text for b in load(path).blocks] == PAGE_TWO


def test_pdf_damaged_body_is_corrupt(tmp_path: Path, load) -> None:
    path = tmp_path / "kapot.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage without xref or trailer\n")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "beschadigd")


def test_png_renamed_to_pdf_is_refused(tmp_path: Path, load, png_bytes: bytes) -> None:
    path = tmp_path / "foto.pdf"
    path.write_bytes(png_bytes)

    with pytest.raises(UnsupportedFileError) as info:
        load(path)

    assert_names_file(info.value, path, "PNG-afbeelding", ".pdf")


# --- DOCX --------------------------------------------------------------------------------------


def _build_statuten(document) -> None:
    document.add_paragraph("Statuten Energiecoöperatie Zonnedak", style="Title")
    document.add_heading("Artikel 1 Naam", level=1)
    document.add_paragraph("De vereniging heet Zonnedak.")
    document.add_heading("1.1 Zetel", level=2)
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_paragraph("De vereniging is gevestigd in Utrecht.")
    table = document.add_table(rows=3, cols=2)
    for row, (left, right) in zip(
        table.rows, [("Functie", "Naam"), ("Voorzitter", "A. de Vries"), ("", "")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = left, right
    document.add_heading("Artikel 2 Doel", level=1)
    document.add_paragraph("Het opwekken van zonne-energie.")


def test_docx_title_headings_paragraphs_and_table_in_order(tmp_path: Path, load, make_docx) -> None:
    path = make_docx(tmp_path / "statuten.docx", _build_statuten)

    doc = load(path)

    assert doc.kind == "docx"
    assert doc.title == "Statuten Energiecoöperatie Zonnedak"
    assert doc.blocks == [
        Block("Artikel 1 Naam", heading_level=1),
        Block("De vereniging heet Zonnedak."),
        Block("1.1 Zetel", heading_level=2),
        Block("De vereniging is gevestigd in Utrecht."),
        Block("| Functie | Naam |\n| --- | --- |\n| Voorzitter | A. de Vries |", table=True),
        Block("Artikel 2 Doel", heading_level=1),
        Block("Het opwekken van zonne-energie."),
    ]


def test_docx_core_title_wins_and_dutch_heading_styles_count(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        document.core_properties.title = "Huishoudelijk reglement"
        document.styles.add_style("Kop 2", WD_STYLE_TYPE.PARAGRAPH)
        document.add_paragraph("Een titelalinea", style="Title")
        document.add_paragraph("Vergaderingen", style="Kop 2")
        document.add_paragraph("De ALV komt twee keer per jaar bijeen.")
        merged = document.add_table(rows=1, cols=3)
        merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Samengevoegd"
        merged.cell(0, 2).text = "Los"

    doc = load(make_docx(tmp_path / "reglement.docx", build))

    assert doc.title == "Huishoudelijk reglement"
    assert doc.blocks == [
        Block("Vergaderingen", heading_level=2),
        Block("De ALV komt twee keer per jaar bijeen."),
        Block("| Samengevoegd | Los |\n| --- | --- |", table=True),
    ]


def test_docx_title_falls_back_to_first_heading_1(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        document.add_heading("Tussenkop", level=2)
        document.add_heading("Jaarverslag 2024", level=1)
        document.add_paragraph("Het jaar in het kort.")

    assert load(make_docx(tmp_path / "jaar.docx", build)).title == "Jaarverslag 2024"


def test_docx_that_is_not_a_zip_is_corrupt(tmp_path: Path, load) -> None:
    path = tmp_path / "brief.docx"
    path.write_text("Dit is eigenlijk gewone tekst met de verkeerde extensie.", encoding="utf-8")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "geen geldig Word-bestand (.docx)", "opnieuw op als .docx")


def test_docx_zip_without_document_part_is_corrupt(tmp_path: Path, load) -> None:
    path = tmp_path / "rekenblad.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    with pytest.raises(CorruptFileError) as info:
        load(path)

    assert_names_file(info.value, path, "geen geldig Word-bestand (.docx)", "word/document.xml")


def test_docx_zip_bomb_over_unpacked_limit(zip_bomb_docx: Path, load) -> None:
    assert zip_bomb_docx.stat().st_size < 2 * MB  # the bomb itself is small ...

    with pytest.raises(FileTooLargeError) as info:
        load(zip_bomb_docx, max_unpacked_bytes=200 * MB)

    assert_names_file(info.value, zip_bomb_docx, "pakt uit tot", "MB", "de grens is 200 MB")


def test_docx_zip_bomb_by_compression_ratio(zip_bomb_docx: Path, load) -> None:
    with pytest.raises(FileTooLargeError) as info:
        load(zip_bomb_docx, max_unpacked_bytes=1024 * MB)  # total allowed, but one member is absurd

    assert_names_file(info.value, zip_bomb_docx, "pakt uit tot", "zip-bom", "word/media/nullen.bin")


def test_docx_with_only_headings_is_empty(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        document.add_heading("Alleen een kop", level=1)

    path = make_docx(tmp_path / "leeg.docx", build)
    with pytest.raises(EmptyDocumentError) as info:
        load(path)

    assert_names_file(info.value, path, "geen tekst")


# --- generic checks ----------------------------------------------------------------------------


def test_empty_file(tmp_path: Path, load) -> None:
    path = tmp_path / "leeg.md"
    path.write_bytes(b"")

    with pytest.raises(EmptyDocumentError) as info:
        load(path)

    assert_names_file(info.value, path, "leeg")


def test_whitespace_only_file(tmp_path: Path, load) -> None:
    path = tmp_path / "spaties.txt"
    path.write_bytes(b"  \n\t\n")

    with pytest.raises(EmptyDocumentError) as info:
        load(path)

    assert_names_file(info.value, path, "witruimte")


def test_oversized_file_names_limit_in_mb(tmp_path: Path, load) -> None:
    path = tmp_path / "groot.txt"
    path.write_bytes(b"tekst " * 200_000)  # 1.2 MB

    with pytest.raises(FileTooLargeError) as info:
        load(path, max_bytes=MB)

    assert_names_file(info.value, path, "de grens is 1 MB", "KB_MAX_FILE_MB")
    assert "1,14 MB" in str(info.value)


def test_size_limit_is_checked_before_type(tmp_path: Path, load, png_bytes: bytes) -> None:
    path = tmp_path / "foto.png"
    path.write_bytes(png_bytes * 100)

    with pytest.raises(FileTooLargeError):
        load(path, max_bytes=1000)


def test_unknown_extension_lists_supported_types(tmp_path: Path, load) -> None:
    path = tmp_path / "begroting.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    with pytest.raises(UnsupportedFileError) as info:
        load(path)

    assert_names_file(info.value, path, "niet ondersteund", "PDF", "Word (.docx)", "Markdown", "HTML", "tekst")


def test_missing_file_is_an_ingest_error(tmp_path: Path, load) -> None:
    path = tmp_path / "weg.md"

    with pytest.raises(IngestError) as info:
        load(path)

    assert_names_file(info.value, path, "bestaat niet")


def test_pdf_content_under_txt_name_is_read_as_pdf(tmp_path: Path, load, make_pdf) -> None:
    path = make_pdf(tmp_path / "export.pdf", [PAGE_TWO])
    renamed = path.rename(tmp_path / "export.txt")

    doc = load(renamed)

    assert doc.kind == "pdf"
    assert doc.blocks[0].page == 1


def test_docx_bytes_in_memory_roundtrip_sanity(make_docx, tmp_path: Path) -> None:
    """The builder makes real Word files: python-docx' zip contains the main document part."""
    path = make_docx(tmp_path / "x.docx", lambda d: d.add_paragraph("Hallo"))
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert "word/document.xml" in archive.namelist()


def test_windows_program_renamed_to_pdf_is_refused_as_not_a_pdf(tmp_path: Path, load) -> None:
    path = tmp_path / "factuur.pdf"
    path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64)

    with pytest.raises(UnsupportedFileError) as info:
        load(path)

    assert_names_file(info.value, path, "Windows-programma")
    assert "beschadigd" not in str(info.value)
