"""Word files as partners make them: Dutch and custom heading styles, outline levels, lists, tables, footnotes,
headers and footers; and tables that the chunker never cuts in the middle of a row."""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from ingest.chunking import SectionChunker
from ingest.document import Block, ParsedDocument, markdown_table


def _outline(paragraph, level: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    element = OxmlElement("w:outlineLvl")
    element.set(qn("w:val"), str(level))
    ppr.append(element)


def test_dutch_custom_and_outline_level_headings(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        kop1 = document.styles.add_style("Kop 1", WD_STYLE_TYPE.PARAGRAPH)
        custom = document.styles.add_style("Artikelkop", WD_STYLE_TYPE.PARAGRAPH)
        custom.base_style = document.styles["Heading 2"]  # a partner's own style based on Heading 2
        document.add_paragraph("Statuten", style=kop1)
        document.add_paragraph("Artikel 1 Naam", style=custom)
        document.add_paragraph("De vereniging heet Zonnedak.")
        plain = document.add_paragraph("Artikel 2 Doel")
        _outline(plain, 1)  # outline level 2 set on the paragraph itself
        document.add_paragraph("Het opwekken van zonne-energie.")

    doc = load(make_docx(tmp_path / "statuten.docx", build))

    assert [(b.heading_level, b.text) for b in doc.blocks] == [
        (1, "Statuten"),
        (2, "Artikel 1 Naam"),
        (0, "De vereniging heet Zonnedak."),
        (2, "Artikel 2 Doel"),
        (0, "Het opwekken van zonne-energie."),
    ]


def test_numbered_and_bulleted_lists_keep_their_markers(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        document.add_heading("Taken van het bestuur", level=1)
        for text in ("De begroting opstellen.", "De jaarrekening laten controleren."):
            document.add_paragraph(text, style="List Number")
        for text in ("Notulen", "Ledenlijst"):
            document.add_paragraph(text, style="List Bullet")

    doc = load(make_docx(tmp_path / "taken.docx", build))

    assert [b.text for b in doc.blocks[1:]] == [
        "1. De begroting opstellen.",
        "2. De jaarrekening laten controleren.",
        "- Notulen",
        "- Ledenlijst",
    ]


def _add_footnote(data: bytes, anchor: str, note: str) -> bytes:
    """Add a real footnotes part with one footnote referenced after ``anchor`` (python-docx cannot write them)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{w}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{note}</w:t></w:r></w:p></w:footnote></w:footnotes>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "word/document.xml":
                body = body.replace(
                    f"<w:t>{anchor}</w:t></w:r>".encode(),
                    f'<w:t>{anchor}</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r>'.encode(),
                )
            elif item.filename == "word/_rels/document.xml.rels":
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdFn1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/footnotes" Target="footnotes.xml"/></Relationships>',
                )
            elif item.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            target.writestr(item, body)
        target.writestr("word/footnotes.xml", footnotes)
    return out.getvalue()


def test_footnotes_follow_their_paragraph_and_headers_footers_are_dropped(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        section = document.sections[0]
        section.header.paragraphs[0].text = "KOPTEKST Energiecoöperatie"
        section.footer.paragraphs[0].text = "VOETTEKST pagina"
        document.add_heading("Ledenkapitaal", level=1)
        document.add_paragraph("Elk lid stort een inleg")
        document.add_paragraph("Een volgende alinea.")

    path = make_docx(tmp_path / "inleg.docx", build)
    path.write_bytes(_add_footnote(path.read_bytes(), "Elk lid stort een inleg", "De inleg is 250 euro per lid."))

    doc = load(path)

    assert [b.text for b in doc.blocks] == [
        "Ledenkapitaal",
        "Elk lid stort een inleg[1]",
        "[1] De inleg is 250 euro per lid.",
        "Een volgende alinea.",
    ]
    assert "KOPTEKST" not in doc.full_text and "VOETTEKST" not in doc.full_text


def test_table_in_document_order_as_markdown(tmp_path: Path, load, make_docx) -> None:
    def build(document) -> None:
        document.add_heading("Tarieven", level=1)
        document.add_paragraph("Voor:")
        table = document.add_table(rows=2, cols=2)
        for row, values in zip(table.rows, (("Zaal", "Prijs"), ("Grote zaal", "35 | 40 euro"))):  # noqa: B905
            for cell, value in zip(row.cells, values):  # noqa: B905
                cell.text = value
        document.add_paragraph("Na.")

    doc = load(make_docx(tmp_path / "tarieven.docx", build))

    assert doc.blocks[1:] == [
        Block("Voor:"),
        Block("| Zaal | Prijs |\n| --- | --- |\n| Grote zaal | 35 \\| 40 euro |", table=True),
        Block("Na."),
    ]


def test_long_table_is_split_between_rows_with_the_header_repeated() -> None:
    rows = [["Fonds", "Bedrag", "Voorwaarde"]] + [
        [f"Fonds {n}", f"{n * 1000} euro", "alleen voor bewonersinitiatieven met minstens drie leden"]
        for n in range(1, 40)
    ]
    table = markdown_table(rows)
    doc = ParsedDocument("docx", [Block("Fondsen", heading_level=1), Block(table, table=True)])

    chunks = SectionChunker(500, 100).chunk(doc)

    assert len(chunks) > 3
    data_rows = []
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[:2] == ["| Fonds | Bedrag | Voorwaarde |", "| --- | --- | --- |"]
        assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
        assert chunk.section == ("Fondsen",)
        data_rows.extend(lines[2:])
    assert data_rows == table.split("\n")[2:]  # every row once, whole, in order (no overlap rows)


def test_markdown_table_escapes_pipes_and_pads_short_rows() -> None:
    assert markdown_table([["a", "b"], ["c|d"], ["", ""]]) == "| a | b |\n| --- | --- |\n| c\\|d |  |"
    assert markdown_table([[""]]) == ""
    assert copy.copy(Block("x", table=True)).table
