"""HTML: visible text only, as heading, paragraph and table blocks (tables as Markdown table text); scripts,
menus and page chrome are dropped."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction
from bs4.exceptions import ParserRejectedMarkup

from ingest.document import Block, ParsedDocument, markdown_table
from ingest.errors import CorruptFileError

_DROP = frozenset(
    {"script", "style", "nav", "noscript", "template", "head", "title", "svg", "iframe", "object", "embed"}
)
_PAGE_CHROME = frozenset({"header", "footer"})
_CONTENT_SECTIONS = frozenset({"article", "main", "section"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "hr", "html", "legend",
        "li", "main", "menu", "ol", "p", "section", "summary", "table", "tbody", "tfoot", "thead", "ul",
    }
)  # fmt: skip
_NON_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)
_SPACES = re.compile(r"\s+")


def load(path: Path, data: bytes) -> ParsedDocument:
    """An HTML page as blocks; the title comes from ``<title>`` or else the first ``<h1>``.

    The encoding is taken from the BOM or ``<meta charset>``, else guessed by BeautifulSoup.
    """
    try:
        soup = BeautifulSoup(data, "html.parser")
    except ParserRejectedMarkup as exc:
        raise CorruptFileError(
            path,
            "de HTML kan niet worden gelezen (ongeldige opmaak). Open de pagina in een browser en sla "
            "haar opnieuw op, of kopieer de tekst naar een .txt- of .md-bestand.",
        ) from exc
    title_tag = soup.find("title")
    page_title = _collapse(title_tag.get_text()) if title_tag else ""
    _strip_non_content(soup)
    blocks = _Walker().run(soup)
    title = page_title or next((b.text for b in blocks if b.heading_level == 1), None)
    return ParsedDocument(kind="html", blocks=blocks, title=title)


def _strip_non_content(soup: BeautifulSoup) -> None:
    for node in soup.find_all(string=lambda s: isinstance(s, _NON_TEXT)):
        node.extract()
    for tag in soup.find_all(_DROP):
        if not tag.decomposed:
            tag.decompose()
    # Site-wide <header>/<footer> are chrome; the header of an article or section is content.
    for tag in soup.find_all(_PAGE_CHROME):
        if not tag.decomposed and tag.find_parent(_CONTENT_SECTIONS) is None:
            tag.decompose()


class _Walker:
    """Walks the tree in document order without recursion (deeply nested pages stay safe)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buffer: list[str] = []

    def run(self, soup: BeautifulSoup) -> list[Block]:
        stack: list[object] = [iter(soup.children)]
        while stack:
            top = stack[-1]
            if top is _FLUSH:
                stack.pop()
                self._flush()
                continue
            node = next(top, None)  # type: ignore[call-overload]
            if node is None:
                stack.pop()
            elif isinstance(node, NavigableString):
                self.buffer.append(_SPACES.sub(" ", str(node)))
            elif isinstance(node, Tag):
                self._enter(node, stack)
        self._flush()
        return self.blocks

    def _enter(self, tag: Tag, stack: list[object]) -> None:
        name = tag.name
        if name in _HEADINGS:
            self._flush()
            self._emit(_inline_text(tag), _HEADINGS[name])
        elif name == "table":
            self._flush()
            caption = tag.find("caption")
            if caption is not None and caption.find_parent("table") is tag:
                self._emit(_inline_text(caption), 0)
            rows = [
                [_inline_text(cell) for cell in tr.find_all(["td", "th"], recursive=False)]
                for tr in tag.find_all("tr")
                if tr.find_parent("table") is tag
            ]
            text = markdown_table(rows)
            if text:
                self.blocks.append(Block(text, table=True))
        elif name == "tr":
            self._flush()
            cells = [_inline_text(cell) for cell in tag.find_all(["td", "th"], recursive=False)]
            self._emit(" | ".join(cell for cell in cells if cell), 0)
        elif name == "pre":
            self._flush()
            lines = [line.rstrip() for line in tag.get_text().split("\n")]
            text = "\n".join(lines).strip("\n")
            if text.strip():
                self.blocks.append(Block(text))
        elif name == "br":
            self.buffer.append("\n")
        elif name in _BLOCKS:
            self._flush()
            stack.append(_FLUSH)
            stack.append(iter(tag.children))
        else:
            stack.append(iter(tag.children))

    def _flush(self) -> None:
        lines = (" ".join(line.split()) for line in "".join(self.buffer).split("\n"))
        self.buffer.clear()
        self._emit("\n".join(line for line in lines if line), 0)

    def _emit(self, text: str, level: int) -> None:
        if text:
            self.blocks.append(Block(text, heading_level=level))


_FLUSH = object()  # stack marker: end of a block element


def _inline_text(tag: Tag) -> str:
    for br in tag.find_all("br"):
        br.replace_with(" ")
    return _collapse(tag.get_text())


def _collapse(text: str) -> str:
    return " ".join(text.split())
