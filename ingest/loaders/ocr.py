"""Text recognition (OCR) for scanned PDF pages: pypdfium2 renders a page, Tesseract reads it.

Tesseract (Debian ``tesseract-ocr`` with ``tesseract-ocr-nld``) is called as a program, its TSV output gives
every word with its box; the PDF loader then treats those words like a text layer (the box height stands in
for the font size, so larger headings are still recognised). Without Tesseract or its Dutch language data,
:func:`available` is False and scanned PDFs are refused with a Dutch message, as before.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DPI = 300
LANGUAGES = "nld"
_TIMEOUT_S = 180  # per page; a runaway OCR must not hang an upload
_MIN_CONFIDENCE = 20.0


@dataclass(frozen=True)
class OcrWord:
    """A recognised word; coordinates in PDF points from the page's top-left corner."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    line: tuple[int, int, int]  # Tesseract's block, paragraph and line number


@dataclass(frozen=True)
class OcrPage:
    words: list[OcrWord]
    width: float
    height: float


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Tesseract is installed and has Dutch language data."""
    exe = shutil.which("tesseract")
    if not exe:
        return False
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    langs = {line.strip() for line in (out.stdout + out.stderr).splitlines()}
    return all(lang in langs for lang in LANGUAGES.split("+"))


def unavailable_reason() -> str:
    """Why OCR cannot run here (for logs and test skips)."""
    if not shutil.which("tesseract"):
        return "Tesseract is niet geïnstalleerd (Debian: apt-get install tesseract-ocr tesseract-ocr-nld)"
    return "Tesseract mist de Nederlandse taaldata (Debian: apt-get install tesseract-ocr-nld)"


def recognise_pages(path: Path, data: bytes, pages: list[int]) -> dict[int, OcrPage]:
    """OCR the given 1-based pages; pages that fail (or hold no words) are left out, with a warning."""
    import pypdfium2 as pdfium

    results: dict[int, OcrPage] = {}
    try:
        document = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium cannot open what pypdf could: give up on OCR, the caller refuses
        logger.warning("%s: OCR niet mogelijk: %s", path.name, exc)
        return results
    try:
        with tempfile.TemporaryDirectory(prefix="samenweten-ocr-") as folder:
            for number in pages:
                try:
                    page = document[number - 1]
                    width, height = page.get_size()
                    scale = DPI / 72
                    image = page.render(scale=scale).to_pil().convert("L")
                    png = Path(folder) / f"p{number}.png"
                    image.save(png)
                    words = _tesseract_words(png, scale)
                except Exception as exc:  # one bad page should not cost the others
                    logger.warning("%s: OCR van pagina %d mislukt: %s", path.name, number, exc)
                    continue
                if words:
                    results[number] = OcrPage(words, float(width), float(height))
    finally:
        document.close()
    return results


def _tesseract_words(png: Path, scale: float) -> list[OcrWord]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # Tesseract's threads fight with ours on 2 cores
    out = subprocess.run(
        ["tesseract", str(png), "stdout", "-l", LANGUAGES, "--psm", "3", "tsv"],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        env=env,
        check=True,
    )
    words: list[OcrWord] = []
    for row in csv.DictReader(io.StringIO(out.stdout), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        try:
            if float(row.get("conf") or -1) < _MIN_CONFIDENCE:
                continue
            left, top, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
            key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        except (KeyError, ValueError):
            continue
        words.append(OcrWord(text, left / scale, (left + w) / scale, top / scale, (top + h) / scale, key))
    return words
