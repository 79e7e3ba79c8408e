"""The ingest pipeline against a real embedded Chroma store (with the small hashing model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import DocumentOverrides, IngestPipeline, make_doc_id
from kb.store import KnowledgeStore

GUIDE = """---
title: "Een vereniging oprichten"
topic: rechtsvorm
partner: "Buurtpartner"
valid_from: 2026-01-01
url: https://example.org/vereniging
---
# Een vereniging oprichten

Korte inleiding over verenigingen.

## Notaris

Voor volledige rechtsbevoegdheid gaat een vereniging naar de notaris.

## Leden

Een vereniging heeft leden die samen de algemene ledenvergadering vormen.
"""


@pytest.fixture
def store(settings) -> KnowledgeStore:
    return KnowledgeStore(settings)


@pytest.fixture
def pipeline(store, settings, hashing_embedder) -> IngestPipeline:
    return IngestPipeline(store, lambda: hashing_embedder, settings)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_ingest_markdown_with_front_matter(pipeline, store, tmp_path):
    f = write(tmp_path / "in" / "vereniging.md", GUIDE)
    report = pipeline.ingest_paths([f])
    assert report.ok and report.results[0].status == "added"
    doc_id = make_doc_id("Buurtpartner", "vereniging.md")
    record = store.get_document(doc_id)
    assert record is not None
    assert (record.title, record.partner, record.topic, record.valid_from, record.url) == (
        "Een vereniging oprichten",
        "Buurtpartner",
        "rechtsvorm",
        "2026-01-01",
        "https://example.org/vereniging",
    )
    assert len(record.sha256) == 64 and record.language == "nl"
    chunks = store.chunks_of(doc_id)
    assert [c.section for c in chunks] == [
        ("Een vereniging oprichten",),
        ("Een vereniging oprichten", "Notaris"),
        ("Een vereniging oprichten", "Leden"),
    ]
    assert record.chunk_count == 3
    assert chunks[1].header == "Een vereniging oprichten > Notaris"
    # the original is kept for display and reindexing
    original = store.original_path(record)
    assert original is not None and original.read_text(encoding="utf-8") == GUIDE


def test_reingest_unchanged_does_nothing_and_changed_replaces(pipeline, store, tmp_path):
    f = write(tmp_path / "vereniging.md", GUIDE)
    pipeline.ingest_paths([f])
    doc_id = make_doc_id("Buurtpartner", "vereniging.md")
    first_ids = {c.chunk_id for c in store.chunks_of(doc_id)}
    again = pipeline.ingest_paths([f])
    assert again.results[0].status == "unchanged"
    assert {c.chunk_id for c in store.chunks_of(doc_id)} == first_ids

    write(f, GUIDE.replace("## Leden", "## Bestuur\n\nHet bestuur leidt de vereniging.\n\n## Leden"))
    changed = pipeline.ingest_paths([f])
    assert changed.results[0].status == "replaced"
    chunks = store.chunks_of(doc_id)
    assert len(chunks) == 4 and not ({c.chunk_id for c in chunks} & first_ids)  # no stale chunks
    assert store.chunk_count() == 4  # no duplicates
    assert len(store.list_documents()) == 1


def test_remove_deletes_chunks_and_original(pipeline, store, tmp_path):
    f = write(tmp_path / "vereniging.md", GUIDE)
    pipeline.ingest_paths([f])
    doc_id = make_doc_id("Buurtpartner", "vereniging.md")
    original = store.original_path(store.get_document(doc_id))
    assert store.remove_document(doc_id) is not None
    assert store.get_document(doc_id) is None
    assert store.chunks_of(doc_id) == [] and store.chunk_count() == 0
    assert not original.exists()
    assert store.remove_document(doc_id) is None


def test_failure_while_embedding_keeps_previous_version(store, settings, hashing_embedder, tmp_path):
    f = write(tmp_path / "vereniging.md", GUIDE)
    IngestPipeline(store, lambda: hashing_embedder, settings).ingest_paths([f])
    doc_id = make_doc_id("Buurtpartner", "vereniging.md")
    before = [c.text for c in store.chunks_of(doc_id)]

    class Broken:
        def encode_documents(self, texts, progress=None, titles=None):
            raise RuntimeError("model crashed halfway")

    write(f, GUIDE + "\n## Nieuw\n\nNieuwe tekst.\n")
    report = IngestPipeline(store, lambda: Broken(), settings).ingest_paths([f])
    assert not report.ok and "model crashed" in report.results[0].error
    assert [c.text for c in store.chunks_of(doc_id)] == before


def test_failure_while_writing_chunks_keeps_previous_version(pipeline, store, tmp_path, monkeypatch):
    f = write(tmp_path / "vereniging.md", GUIDE)
    pipeline.ingest_paths([f])
    doc_id = make_doc_id("Buurtpartner", "vereniging.md")
    before = sorted(c.chunk_id for c in store.chunks_of(doc_id))
    record_before = store.get_document(doc_id)

    def failing_switch(*args, **kwargs):  # the switch transaction fails after the chunks were written
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_switch", failing_switch)
    write(f, GUIDE + "\n## Nieuw\n\nNieuwe tekst.\n")
    report = pipeline.ingest_paths([f])
    assert report.results[0].status == "failed"
    monkeypatch.undo()
    assert sorted(c.chunk_id for c in store.chunks_of(doc_id)) == before  # new chunks rolled back
    assert store.get_document(doc_id).sha256 == record_before.sha256
    assert store.original_path(store.get_document(doc_id)).read_text(encoding="utf-8") == GUIDE
    assert store.vector_count() == store.chunks.count() and all(  # no orphan of the failed version
        c.chunk_id in before for c in store.iter_chunks()
    )
    assert len(store.chunks.get(where={"doc_id": doc_id}, include=[])["ids"]) == len(
        store.chunks.get(where={"version": before[0].split("::")[-2]}, include=[])["ids"]
    )


def test_bad_files_are_reported_and_others_still_ingested(pipeline, store, tmp_path):
    folder = tmp_path / "mixed"
    write(folder / "goed.md", GUIDE)
    write(folder / "leeg.txt", "")
    (folder / "plaatje.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    write(folder / ".verborgen.md", "# verborgen")
    report = pipeline.ingest_paths([folder])
    by_name = {r.path.name: r for r in report.results}
    assert set(by_name) == {"goed.md", "leeg.txt", "plaatje.png"}
    assert by_name["goed.md"].status == "added"
    assert by_name["leeg.txt"].status == "failed" and "leeg.txt" in by_name["leeg.txt"].error
    assert by_name["plaatje.png"].status == "failed" and "plaatje.png" in by_name["plaatje.png"].error
    assert not report.ok and len(store.list_documents()) == 1


def test_overrides_win_over_front_matter_and_bad_topic_is_refused(pipeline, store, tmp_path):
    f = write(tmp_path / "vereniging.md", GUIDE)
    res = pipeline.ingest_file(f, DocumentOverrides(partner="Andere partner", topic="financiering"))
    record = store.get_document(res.doc_id)
    assert record.partner == "Andere partner" and record.topic == "financiering"
    bad = pipeline.ingest_file(f, DocumentOverrides(topic="sport"))
    assert bad.status == "failed" and "onderwerp" in bad.error


def test_reindex_rebuilds_chunks_from_originals(pipeline, store, tmp_path):
    f = write(tmp_path / "vereniging.md", GUIDE)
    pipeline.ingest_paths([f])
    f.unlink()  # the original kept in the store is enough
    report = pipeline.reindex()
    assert report.ok and store.chunk_count() == 3


def test_version_date_is_read_from_a_law_texts_title():
    from ingest.pipeline import version_date

    assert version_date("Gemeentewet (BWBR0005416) – geselecteerde artikelen, toestand 2026-10-01") == "2026-10-01"
    assert version_date("Subsidieregeling, geldig vanaf 2025-01-01") == "2025-01-01"
    assert version_date("Wet op het overleg huurders verhuurder (toestand 2022-01-01)") == "2022-01-01"
    assert version_date("Een stichting oprichten") is None
    assert version_date("toestand 2026-13-01") is None


def _pdf_bytes(paragraphs: list[str], heading: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    if heading:
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    return bytes(pdf.output())


def test_bad_pdfs_get_dutch_reasons_and_nothing_stored_is_lost(pipeline, store, tmp_path, monkeypatch):
    import io

    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    from ingest.loaders import ocr

    monkeypatch.setattr(ocr, "available", lambda: False)  # a machine without Tesseract
    kept = pipeline.ingest_file(write(tmp_path / "al-aanwezig.md", GUIDE))
    assert kept.status == "added"
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "goed.pdf").write_bytes(
        _pdf_bytes(["De kascommissie controleert de boekhouding elk jaar."], heading="Artikel 7 Kascommissie")
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_bytes(["Geheim."]))))
    writer.encrypt(user_password="geheim", owner_password="x", algorithm="AES-128")
    with (folder / "beveiligd.pdf").open("wb") as handle:
        writer.write(handle)
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nrommel\n")
    (folder / "leeg.pdf").write_bytes(b"")
    scan = FPDF()
    scan.add_page()
    scan.set_fill_color(40, 40, 40)
    scan.rect(20, 20, 100, 60, style="F")
    (folder / "scan.pdf").write_bytes(bytes(scan.output()))

    report = pipeline.ingest_paths([folder])

    by_name = {r.path.name: r for r in report.results}
    assert by_name["goed.pdf"].status == "added"
    assert "wachtwoord" in by_name["beveiligd.pdf"].error
    assert "beschadigd" in by_name["kapot.pdf"].error
    assert "leeg" in by_name["leeg.pdf"].error
    assert "geen tekstlaag" in by_name["scan.pdf"].error and "OCR" in by_name["scan.pdf"].error
    assert all(name in by_name[name].error for name in ("beveiligd.pdf", "kapot.pdf", "leeg.pdf", "scan.pdf"))
    assert {d.source for d in store.list_documents()} == {"al-aanwezig.md", "goed.pdf"}
    chunks = store.chunks_of(by_name["goed.pdf"].doc_id)
    assert [c.section for c in chunks] == [("Artikel 7 Kascommissie",)]
    assert chunks[0].page_start == 1 and chunks[0].page_end == 1
    assert store.chunks_of(kept.doc_id)  # the document stored before the batch is untouched


def test_scanned_pdf_is_stored_with_its_ocr_mark(pipeline, store, tmp_path):
    from ingest.loaders import ocr

    if not ocr.available():
        pytest.skip(f"OCR niet beschikbaar: {ocr.unavailable_reason()}")
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(
        _pdf_bytes(["De buurtbus rijdt elke woensdag naar de markt in het dorp."], heading="Buurtbus")
    )
    image = source[0].render(scale=200 / 72).to_pil().convert("RGB")
    source.close()
    scan = tmp_path / "buurtbus-scan.pdf"
    image.save(scan, "PDF", resolution=200)

    result = pipeline.ingest_file(scan)

    assert result.status == "added", result.error
    record = store.get_document(result.doc_id)
    assert record.extra["ocr"] is True and record.extra["ocr_pages"] == [1]
    chunks = store.chunks_of(result.doc_id)
    assert chunks[0].section == ("Buurtbus",) and "woensdag" in chunks[0].text and chunks[0].page_start == 1


def test_progress_counts_every_text_of_every_file_against_a_total_known_up_front(tmp_path, settings, hashing_embedder):
    from ingest.pipeline import IngestPipeline
    from kb.store import KnowledgeStore

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"gids-{i}.md").write_text(
            f"# Gids {i}\n\n## Deel een\n\nEerste alinea over de vereniging en haar leden, lang genoeg.\n\n"
            f"Tweede alinea over het bestuur en de statuten van gids {i}, ook lang genoeg.\n",
            encoding="utf-8",
        )
    pipeline = IngestPipeline(KnowledgeStore(settings), lambda: hashing_embedder, settings)
    seen: list[tuple[int, int]] = []
    report = pipeline.ingest_paths([folder], on_progress=lambda d, t: seen.append((d, t)))
    assert report.ok and report.count("added") == 3
    totals = {t for _, t in seen}
    assert len(totals) == 1 and seen[0] == (0, totals.pop())
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == seen[-1][1]
    again: list[tuple[int, int]] = []
    pipeline.ingest_paths([folder], on_progress=lambda d, t: again.append((d, t)))
    assert again == [(0, 0)]  # nothing changed: nothing to embed
