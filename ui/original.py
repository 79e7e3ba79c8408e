"""The original document behind a source card: a PDF at the cited page, other formats at the cited section.

A PDF page is rendered to an image on the server (pypdfium2), so the viewer works offline and needs no pdf.js
from a CDN; the reader pages with "Vorige"/"Volgende" or a page number. Word, Markdown, HTML and text files
show their extracted text starting at the cited section (the whole text one toggle away), with the quoted
sentences highlighted. Every original can be downloaded as it was uploaded. Documents read by OCR say so.

The kept original is found through the store (:meth:`kb.store.KnowledgeStore.original_path`), never by
building a path here.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Any

import streamlit as st

from ui.components import SourceView, escape_markdown, rich_text

OCR_NOTE = "Tekst herkend met OCR: controleer bij twijfel het origineel."
_RENDER_SCALE = 1.6  # about 115 dpi: sharp on screen, small enough to send
_MIMES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".md": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
}


def _store() -> Any:
    from ui import resources

    return resources.knowledge_base().store


def _record_and_path(doc_id: str) -> tuple[Any, Path | None]:
    store = _store()
    record = store.get_document(doc_id)
    if record is None:
        return None, None
    return record, store.original_path(record)


def render_card_extras(view: SourceView, key: str) -> None:
    """Below a source card's text: the OCR note and the button that opens the original."""
    try:
        record, path = _record_and_path(view.doc_id)
    except Exception:  # the store being unreachable must not break the answer
        return
    if record is None:
        return
    if record.extra.get("ocr"):
        st.caption(":material/document_scanner: " + escape_markdown(OCR_NOTE))
    if path is not None and st.button("Origineel bekijken", key=f"{key}_original", icon=":material/description:"):
        st.session_state[_page_key(view)] = view.page_start or 1
        show_original(view)


def _page_key(view: SourceView) -> str:
    return f"original_page_{view.doc_id}_{view.n}"


@st.dialog("Origineel document", width="large")
def show_original(view: SourceView) -> None:
    """The original: a PDF page image with page navigation, or the text from the cited section."""
    record, path = _record_and_path(view.doc_id)
    if record is None or path is None:
        st.warning("Het origineel van dit document is niet (meer) beschikbaar.")
        return
    st.markdown(f"**{escape_markdown(record.title)}**")
    where = " · ".join(p for p in (view.where, view.pages) if p)
    if where:
        st.caption("Geciteerd: " + escape_markdown(where))
    if record.extra.get("ocr"):
        st.caption(":material/document_scanner: " + escape_markdown(OCR_NOTE))
    data = path.read_bytes()
    if record.kind == "pdf":
        _pdf_viewer(view, path, data)
    else:
        _text_viewer(view)
    st.download_button(
        "Origineel downloaden",
        data=data,
        file_name=record.source,
        icon=":material/download:",
        mime=_MIMES.get(Path(record.source).suffix.lower())
        or mimetypes.guess_type(record.source)[0]
        or "application/octet-stream",
        key=f"download_{view.doc_id}_{view.n}",
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _page_png(path: str, mtime: float, page: int) -> tuple[bytes, int]:
    """One page as PNG, and the page count (cached per file version and page)."""
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        count = len(document)
        page = min(max(page, 1), count)
        image = document[page - 1].render(scale=_RENDER_SCALE).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), count
    finally:
        document.close()


def _pdf_viewer(view: SourceView, path: Path, data: bytes) -> None:
    key = _page_key(view)
    st.session_state.setdefault(key, view.page_start or 1)
    try:
        _, count = _page_png(str(path), path.stat().st_mtime, 1)
    except Exception:
        st.warning("Deze PDF kan hier niet worden getoond; download het origineel hieronder.")
        return
    page = min(max(int(st.session_state[key]), 1), count)
    left, middle, right = st.columns([1, 2, 1])
    with left:
        if st.button("Vorige", key=f"{key}_prev", icon=":material/chevron_left:", disabled=page <= 1):
            page -= 1
    with right:
        if st.button("Volgende", key=f"{key}_next", icon=":material/chevron_right:", disabled=page >= count):
            page += 1
    with middle:
        chosen = st.number_input("Pagina", min_value=1, max_value=count, value=page, step=1, key=f"{key}_input_{page}")
        if int(chosen) != page:
            page = int(chosen)
    st.session_state[key] = page
    png, _ = _page_png(str(path), path.stat().st_mtime, page)
    cited = view.page_start and view.page_start <= page <= (view.page_end or view.page_start)
    st.caption(f"Pagina {page} van {count}" + (" — geciteerde pagina" if cited else ""))
    st.image(png, width="stretch", alt=f"Pagina {page} van het origineel")


def section_offset(text: str, section: tuple[str, ...]) -> int:
    """Where the cited section starts in the document text: its deepest heading that can be found (0 if none)."""
    for heading in reversed(section):
        words = heading.split()
        if not words:
            continue
        pattern = r"(?:^|\n)\s*" + r"\s+".join(re.escape(w) for w in words) + r"\s*(?:\n|$)"
        match = re.search(pattern, text)
        if match:
            return match.start() + (1 if text[match.start()] == "\n" else 0)
    return 0


def _text_viewer(view: SourceView) -> None:
    text = _store().document_text(view.doc_id) or ""
    if not text:
        st.warning("De tekst van dit document is niet beschikbaar; download het origineel hieronder.")
        return
    start = section_offset(text, view.section)
    whole = start == 0 or st.toggle("Hele document vanaf het begin", key=f"whole_{view.doc_id}_{view.n}")
    if not whole:
        st.caption("Vanaf het geciteerde onderdeel: " + escape_markdown(view.where or view.title))
    with st.container(height=520):
        st.markdown(rich_text(text if whole else text[start:], view.quote))
