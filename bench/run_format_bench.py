"""Format benchmark: is a PDF or Word file as findable and citable as its Markdown twin?

The bench corpus (``../shared/bench/corpus``, Markdown) is rendered by several generators:

* ``pdf-fpdf2``: fpdf2 draws every page itself — headings as larger bold lines (sizes by level), body text in a
  normal font, a running header (the document title) and "Pagina N van M" in the footer, no bookmarks;
* ``docx-python-docx``: python-docx with Word's heading styles (``Heading 1..``), a header and a footer;
* ``pdf-libreoffice``: that DOCX exported to PDF by LibreOffice headless (Debian ``libreoffice-writer``), the way
  partners export from a word processor (fonts, line breaking, bookmarks and tags by LibreOffice);
* ``pdf-chromium``: the Markdown as plain HTML (h1-h6, p) printed to PDF by Debian's Chromium headless, like
  "Afdrukken als PDF" from a browser: the browser's own header (date, title) and footer (address, "1/3").
  No rule in the loader was written for this generator; it was added after the loader was built, as a check on
  PDFs from a generator the loader had not seen (it found two general gaps: wrapped headings measured against
  a page widened by the browser's header, and compounds broken after their hyphen, "subsidie-/ontvanger").

Each rendering is ingested by the project's own loaders into its own temporary store and searched with the 140
dev questions (``dev.jsonl`` + ``dev-extra.jsonl``); recall@1/5/10 and MRR are printed next to Markdown's, plus the
share of chunks whose heading path equals the Markdown one (each chunk is paired with the Markdown chunk of the
same file it shares the most words with; the glossary, Markdown in every store, is not counted). Citations are scored by ``../shared/bench/README.md``; a rendered file
``X.pdf`` stands for ``X.md`` in ``X.md § 2.1`` citations. All formats use the light embedding model
(``KB_EMBED_MODEL=multilingual-e5-small`` unless ``--model``) to keep the run cheap, and share one cache of
document vectors keyed by (header, text), so a chunk that comes out the same in two formats is embedded once.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_format_bench.py [--formats pdf-fpdf2,...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.document import Block  # noqa: E402
from ingest.loaders import markdown as markdown_loader  # noqa: E402

SHARED = next(
    (p / "shared" / "bench" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "bench").exists()),
    ROOT.parent / "shared" / "bench",
)  # ../shared, also from a git worktree one folder deeper
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FORMATS = ("markdown", "pdf-fpdf2", "docx-python-docx", "pdf-libreoffice", "pdf-chromium")
HEADING_PT = {1: 18.0, 2: 15.0, 3: 12.5, 4: 11.5, 5: 11.0, 6: 10.5}
BODY_PT = 10.0
GLOSSARY = "begrippenlijst.md"  # our glossary, ingested as Markdown next to every format (query expansion)
_BOLD_SPLIT = re.compile(r"(\*\*[^*\n]+\*\*)")


# ------------------------------------------------------------------------------------ rendering
def markdown_blocks(path: Path) -> tuple[str, list[Block]]:
    doc = markdown_loader.load(path, path.read_bytes())
    return doc.title or path.stem, doc.blocks


def render_pdf_fpdf2(source: Path, target: Path) -> Path:
    """Headings as larger bold lines, body in a normal font, running header and page numbers in the footer."""
    from fpdf import FPDF

    title, blocks = markdown_blocks(source)
    running = title if len(title) <= 90 else title[:87] + "…"

    class Document(FPDF):
        def header(self) -> None:
            self.set_font("Sans", "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, running, align="C")
            self.ln(9)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Sans", "", 8)
            self.cell(0, 5, f"Pagina {self.page_no()} van {{nb}}", align="C")

    pdf = Document(format="A4")
    pdf.set_title(title)
    pdf.set_author("SamenWeten benchmark")
    pdf.add_font("Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("Sans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font("Serif", "", str(FONT_DIR / "DejaVuSerif.ttf"))
    pdf.add_font("Serif", "B", str(FONT_DIR / "DejaVuSerif-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=22)
    pdf.set_margins(22, 18, 22)
    pdf.add_page()
    for block in blocks:
        if block.is_heading:
            size = HEADING_PT.get(block.heading_level, 10.5)
            pdf.ln(3)
            if pdf.will_page_break(size * 1.6):
                pdf.add_page()
            pdf.set_font("Sans", "B", size)
            pdf.multi_cell(0, size * 0.5, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            continue
        for line in block.text.split("\n"):
            pdf.set_font("Serif", "", BODY_PT)
            pdf.multi_cell(0, 5, line.strip(), new_x="LMARGIN", new_y="NEXT", markdown=True)
        pdf.ln(2.5)
    target.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(target))
    return target


def render_docx(source: Path, target: Path) -> Path:
    """Word heading styles, normal paragraphs with bold runs, a running header and a page-number footer."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    title, blocks = markdown_blocks(source)
    document = Document()
    document.core_properties.title = title
    document.styles["Normal"].font.size = Pt(BODY_PT)
    section = document.sections[0]
    section.header.paragraphs[0].text = title if len(title) <= 90 else title[:87] + "…"
    footer = section.footer.paragraphs[0]
    footer.add_run("Pagina ")
    _page_field(footer, OxmlElement, qn)
    for block in blocks:
        if block.is_heading:
            document.add_heading(block.text, level=min(block.heading_level, 9))
            continue
        paragraph = document.add_paragraph()
        for index, line in enumerate(block.text.split("\n")):
            if index:
                paragraph.add_run().add_break()
            for part in _BOLD_SPLIT.split(line.strip()):
                if part.startswith("**") and part.endswith("**") and len(part) > 4:
                    paragraph.add_run(part[2:-2]).bold = True
                elif part:
                    paragraph.add_run(part)
    target.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(target))
    return target


def _page_field(paragraph: Any, OxmlElement: Callable, qn: Callable) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.text = text
        run._r.append(element)


def render_libreoffice(docx_dir: Path, target_dir: Path) -> None:
    """Every DOCX under ``docx_dir`` exported to PDF by LibreOffice headless (one soffice call per folder)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise RuntimeError("LibreOffice ontbreekt (Debian: apt-get install libreoffice-writer)")
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        for folder in sorted({p.parent for p in docx_dir.rglob("*.docx")}):
            out = target_dir / folder.relative_to(docx_dir)
            out.mkdir(parents=True, exist_ok=True)
            files = sorted(str(p) for p in folder.glob("*.docx"))
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    "pdf:writer_pdf_Export",
                    "--outdir",
                    str(out),
                    *files,
                ],
                check=True,
                capture_output=True,
                timeout=900,
            )


def render_chromium(source: Path, target: Path, html_dir: Path) -> Path:
    """The Markdown as plain HTML, printed to PDF by Chromium headless (browser header and footer included)."""
    import html

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise RuntimeError("Chromium ontbreekt (Debian: apt-get install chromium)")
    title, blocks = markdown_blocks(source)
    parts = [
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:serif;font-size:11pt;margin:2cm}</style></head><body>"
    ]
    for block in blocks:
        if block.is_heading:
            parts.append(f"<h{block.heading_level}>{html.escape(block.text)}</h{block.heading_level}>")
        else:
            parts.append("<p>" + "<br>".join(html.escape(line) for line in block.text.split("\n")) + "</p>")
    parts.append("</body></html>")
    html_dir.mkdir(parents=True, exist_ok=True)
    page = html_dir / f"{source.stem}.html"
    page.write_text("".join(parts), encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            f"--print-to-pdf={target}",
            str(page),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return target


def render_corpus(corpus: Path, work: Path, fmt: str) -> Path:
    """The corpus in format ``fmt`` under ``work/fmt`` (reused when already rendered)."""
    target = work / fmt
    if fmt == "markdown":
        return corpus
    marker = target / ".complete"
    if marker.exists():
        return target
    sources = sorted(corpus.rglob("*.md"))
    if fmt == "pdf-fpdf2":
        for source in sources:
            render_pdf_fpdf2(source, target / source.relative_to(corpus).with_suffix(".pdf"))
    elif fmt == "docx-python-docx":
        for source in sources:
            render_docx(source, target / source.relative_to(corpus).with_suffix(".docx"))
    elif fmt == "pdf-chromium":
        for source in sources:
            render_chromium(source, target / source.relative_to(corpus).with_suffix(".pdf"), work / "html")
    elif fmt == "pdf-libreoffice":
        render_libreoffice(render_corpus(corpus, work, "docx-python-docx"), target)
    else:
        raise ValueError(fmt)
    target.mkdir(parents=True, exist_ok=True)
    marker.write_text("ok")
    return target


# ------------------------------------------------------------------------------------ measuring
def md_name(source: str) -> str:
    return re.sub(r"\.(?:pdf|docx)$", ".md", Path(source).name)


class CachedEmbedder:
    """The real embedder, remembering document vectors by (title, text): most chunks are the same text in every
    format, so each format embeds only what differs (vectors of identical inputs are identical)."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._vectors: dict[tuple[str, str], Any] = {}
        self.computed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def encode_documents(self, texts: list[str], progress: Any = None, titles: list[str] | None = None) -> Any:
        import numpy as np

        keys = [((titles[i] if titles else ""), text) for i, text in enumerate(texts)]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            vectors = self._embedder.encode_documents([t for _, t in missing], titles=[h for h, _ in missing])
            self._vectors.update(zip(missing, vectors))  # noqa: B905
            self.computed += len(missing)
        if not keys:
            return self._embedder.encode_documents([], titles=[])
        return np.stack([self._vectors[k] for k in keys])


_CACHE: dict[str, CachedEmbedder] = {}


def ingest(folder: Path, store: Path, settings: Any, glossary: Path | None) -> tuple[Any, float, int]:
    from ingest.pipeline import DocumentOverrides, IngestPipeline
    from kb.service import KnowledgeBase

    kb = KnowledgeBase(settings.model_copy(update={"store_dir": store}))
    if "embedder" not in _CACHE:
        _CACHE["embedder"] = CachedEmbedder(kb.embedder())
    cached = _CACHE["embedder"]
    pipeline = IngestPipeline(kb.store, lambda: cached, kb.settings)
    start = time.perf_counter()
    report = pipeline.ingest_paths([folder], DocumentOverrides(partner="Benchmark"))
    if glossary is not None:
        report.results += pipeline.ingest_paths([glossary]).results
    seconds = time.perf_counter() - start
    for failed in report.failed:
        print(f"  MISLUKT: {failed.error}", file=sys.stderr)
    return kb, seconds, len(report.failed)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def heading_agreement(kb: Any, reference: dict[str, list[tuple[set[str], tuple[str, ...]]]]) -> tuple[float, int]:
    """Share of chunks whose heading path equals that of the Markdown chunk of the same file they overlap most."""
    from kb.evaluation.citations import clean

    equal = total = 0
    by_file: dict[str, list[Any]] = {}
    for chunk in kb.store.iter_chunks():
        if chunk.source != GLOSSARY:
            by_file.setdefault(md_name(chunk.source), []).append(chunk)
    for name, chunks in by_file.items():
        if name not in reference:
            continue
        refs = reference[name]
        chunks.sort(key=lambda c: c.index)
        for position, chunk in enumerate(chunks):
            words = _words(chunk.text)
            where = position / max(1, len(chunks) - 1)

            def score(item: tuple[int, tuple[set[str], tuple[str, ...]]]) -> tuple[float, float]:
                i, ref = item
                jaccard = len(words & ref[0]) / (len(words | ref[0]) or 1)  # noqa: B023
                # near-identical chunks (the same 'Bron:' line in every article): the one at the same place wins
                return round(jaccard, 2), -abs(i / max(1, len(refs) - 1) - where)  # noqa: B023

            best = max(enumerate(refs), key=score)[1]
            total += 1
            equal += tuple(clean(h) for h in chunk.section) == tuple(clean(h) for h in best[1])
    return (equal / total if total else 0.0), total


def reference_chunks(kb: Any) -> dict[str, list[tuple[set[str], tuple[str, ...]]]]:
    ref: dict[str, list[tuple[set[str], tuple[str, ...]]]] = {}
    for chunk in sorted(kb.store.iter_chunks(), key=lambda c: (c.source, c.index)):
        ref.setdefault(md_name(chunk.source), []).append((_words(chunk.text), tuple(chunk.section)))
    return ref


class _Chunked:
    """Chunks of a folder straight from the loaders and the chunker, shaped like the store's (no embedding)."""

    def __init__(self, folder: Path) -> None:
        from types import SimpleNamespace

        from ingest.chunking import SectionChunker
        from ingest.loaders import load_file
        from kb.config import Settings

        settings = Settings()
        chunker = SectionChunker(settings.chunk_size, settings.chunk_overlap)
        self.items = []
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".pdf", ".docx")):
            document = load_file(
                path, max_bytes=settings.max_file_bytes, max_unpacked_bytes=settings.max_unpacked_bytes
            )
            for chunk in chunker.chunk(document):
                self.items.append(
                    SimpleNamespace(
                        source=path.name,
                        index=chunk.index,
                        text=chunk.text,
                        section=chunk.section,
                        page_start=chunk.page_start,
                    )
                )
        self.store = self

    def iter_chunks(self) -> Any:
        return iter(self.items)


def structure_only(corpus: Path, work: Path, formats: list[str]) -> int:
    reference: dict[str, list[tuple[set[str], tuple[str, ...]]]] = {}
    print("| format × generator | chunks | under `art. …` | with page | heading path = Markdown | load s |")
    print("|---|---:|---:|---:|---:|---:|")
    for fmt in formats:
        folder = render_corpus(corpus, work, fmt)
        start = time.perf_counter()
        chunked = _Chunked(folder)
        seconds = time.perf_counter() - start
        if fmt == "markdown":
            reference = reference_chunks(chunked)
        agreement, chunks = heading_agreement(chunked, reference)
        articles = sum(1 for c in chunked.items if any(h.startswith("art. ") for h in c.section))
        paged = sum(1 for c in chunked.items if c.page_start is not None)
        print(f"| {fmt} | {chunks} | {articles} | {paged} | {agreement:.3f} | {seconds:.0f} |", flush=True)
    return 0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                flags = ""
                info = Path("/proc/cpuinfo").read_text()
                for flag in ("avx512f", "avx2", "amx_bf16", "avx512_bf16"):
                    if f" {flag}" in info:
                        flags += f" {flag}"
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores;{flags})"
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    ap.add_argument("--questions", type=Path, nargs="+", default=[SHARED / "dev.jsonl", SHARED / "dev-extra.jsonl"])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "samenweten-formatbench")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--rerender", action="store_true", help="render the corpus again")
    ap.add_argument(
        "--structure-only",
        action="store_true",
        help="only load and chunk (no model, no store): chunks and heading-path agreement per format",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.corpus.exists() or not all(q.exists() for q in args.questions):
        print(f"Benchmarkmateriaal ontbreekt: {args.corpus} / {args.questions}", file=sys.stderr)
        return 2

    from kb.config import Settings
    from kb.evaluation import load_questions, run_retrieval

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if "markdown" not in formats:
        formats.insert(0, "markdown")
    if args.rerender and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings().model_copy(update={"embed_model": args.model})
    glossary = settings.starter_kb_dir / "begrippenlijst.md"
    questions = [q for path in args.questions for q in load_questions(path)]
    print(f"CPU: {cpu_name()}; model {args.model}; {len(questions)} vragen", file=sys.stderr)

    if args.structure_only:
        return structure_only(args.corpus, args.work, formats)

    rows: list[dict[str, Any]] = []
    reference: dict[str, list[tuple[set[str], tuple[str, ...]]]] = {}
    for fmt in formats:
        start = time.perf_counter()
        folder = render_corpus(args.corpus, args.work, fmt)
        render_s = time.perf_counter() - start
        store = args.work / "stores" / fmt
        shutil.rmtree(store, ignore_errors=True)
        kb, ingest_s, failed = ingest(folder, store, settings, glossary if glossary.exists() else None)

        def search(question: str, k: int) -> list[tuple[str, tuple[str, ...]]]:
            return [(md_name(h.chunk.source), tuple(h.chunk.section)) for h in kb.retriever.search(question, k)]  # noqa: B023

        report = run_retrieval(questions, search, k=10)
        if fmt == "markdown":
            reference = reference_chunks(kb)
        agreement, chunks = heading_agreement(kb, reference)
        with_path = sum(1 for c in kb.store.iter_chunks() if c.section and c.source != GLOSSARY)
        articles = sum(1 for c in kb.store.iter_chunks() if any(h.startswith("art. ") for h in c.section))
        row = {
            "format": fmt,
            "chunks": chunks,
            "with_heading_path": with_path,
            "under_article": articles,
            "recall@1": report.overall.recall[1],
            "recall@5": report.overall.recall[5],
            "recall@10": report.overall.recall[10],
            "mrr": report.overall.mrr,
            "n": report.overall.n,
            "heading_path_equal": agreement,
            "failed_files": failed,
            "render_s": round(render_s, 1),
            "ingest_s": round(ingest_s, 1),  # ingest_s: load + chunk + new vectors
        }
        rows.append(row)
        print(
            f"{fmt}: R@5 {row['recall@5']:.3f}, koppad gelijk {agreement:.3f}, {chunks} stukken, "
            f"ingest {ingest_s:.0f} s (vectoren berekend tot nu toe: {_CACHE['embedder'].computed})",
            file=sys.stderr,
        )

    base = rows[0]
    print(f"\nCPU: {cpu_name()}; model {args.model}; {base['n']} beantwoordbare van {len(questions)} dev-vragen\n")
    print(
        "| format × generator | chunks | under `art. …` | R@1 | R@5 | ΔR@5 vs Markdown | R@10 | MRR | heading path = Markdown | ingest s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        delta = row["recall@5"] - base["recall@5"]
        print(
            f"| {row['format']} | {row['chunks']} | {row['under_article']} | {row['recall@1']:.3f} | "
            f"{row['recall@5']:.3f} | {delta:+.3f} | {row['recall@10']:.3f} | {row['mrr']:.3f} | "
            f"{row['heading_path_equal']:.3f} | {row['ingest_s']:.0f} |"
        )
    ok = all(base["recall@5"] - r["recall@5"] <= 0.03 and r["heading_path_equal"] >= 0.95 for r in rows)
    print(f"\nDoelen (R@5 binnen 0,03 van Markdown, koppad gelijk ≥ 0,95): {'gehaald' if ok else 'NIET gehaald'}")
    if args.json:
        print(json.dumps({"cpu": cpu_name(), "model": args.model, "rows": rows}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
