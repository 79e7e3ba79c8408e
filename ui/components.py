"""Reusable pieces of the pages: safe text rendering, source cards, the full-text dialog.

Everything that comes from a document or from a user (questions, answers, titles, source text) is shown
as *text*: :func:`escape_markdown` backslash-escapes every ASCII punctuation character, so neither
Markdown, Streamlit's own directives (``:red[...]``, ``:material/...:``), LaTeX (``$...$``) nor HTML in
the text can turn into markup. ``unsafe_allow_html`` is never used. Highlighting and bold are added
*after* escaping, with Streamlit's own Markdown (``:orange-background[...]``, ``**...**``) around text
that is already escaped.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from kb.answering.types import Citation
from kb.services.partners import organisation_key
from kb.text import split_sentences, web_address
from ui.safe_markdown import as_block_quote, is_structured_line, render_blocks, structured_segment

_ESCAPE = {c: "\\" + c for c in string.punctuation}
# Emoji and icon shortcodes (":smile:", ":material/home:") are expanded in text nodes even when their
# colons are escaped; a zero-width space after the opening colon keeps them literal.
_SHORTCODE = re.compile(r":(?=[A-Za-z0-9_+/-]+:)")
_INDENT_AFTER_NEWLINE = re.compile(r"\n[ \t]+")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_PASSAGE_SPLIT = re.compile(r"\s*…\s*|\n+")
_WORD = re.compile(r"\S+")

try:
    LOCAL_TZ: dt.tzinfo = ZoneInfo("Europe/Amsterdam")
except Exception:  # no time zone data installed
    LOCAL_TZ = dt.UTC


def local_time(value: str | dt.datetime | None) -> str:
    """An ISO timestamp or datetime as Dutch local time, e.g. ``26-11-2026 17:47``."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%d-%m-%Y %H:%M")


TOPIC_NL = {
    "rechtsvorm": "Rechtsvorm (vereniging, stichting, coöperatie)",
    "belasting": "Belasting en giften",
    "financiering": "Financiering",
    "overig": "Overig",
}


def topic_label(topic: str | None) -> str:
    """The Dutch name of a topic key ('belasting' → 'Belasting en giften')."""
    if not topic:
        return ""
    return TOPIC_NL.get(topic, topic.capitalize())


HIGHLIGHT = "orange-background"
SNIPPET_CHARS = 1300  # an opened card shows a whole chunk (KB_CHUNK_SIZE 1200): a table with the text it belongs to
MIN_QUOTE_CHARS = 12


# ------------------------------------------------------------------------------------ safe text
def escape_markdown(text: str | None) -> str:
    """``text`` as Markdown that renders literally: every ASCII punctuation character is escaped.

    Line breaks are kept (as hard breaks), indentation at the start of a line is dropped (it would
    make a code block). The function works character by character, so escaping the pieces of a
    streamed text gives the same result as escaping the whole text.
    """
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INDENT_AFTER_NEWLINE.sub("\n", text)
    text = _SHORTCODE.sub(":\u200b", text)
    escaped = "".join(_ESCAPE.get(c, c) for c in text)
    return escaped.replace("\n", "  \n")


def escape_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """Escape a stream of text pieces (for ``st.write_stream``)."""
    for piece in pieces:
        yield escape_markdown(piece)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is a complete http(s) address (:func:`kb.text.web_address`), else None (no ``javascript:``)."""
    return web_address(url)


# ------------------------------------------------------------------------------------ highlighting
def _clean_parts(parts: list[str]) -> list[str]:
    cleaned = [p.strip(" \t\"'“”‘’") for p in parts]
    return [p for p in cleaned if len(p) >= MIN_QUOTE_CHARS]


def _find(text: str, part: str) -> tuple[int, int] | None:
    words = _WORD.findall(part)
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, text) or re.search(pattern, text, re.IGNORECASE)
    return match.span() if match else None


def find_quote_spans(text: str, quote: str | Sequence[str]) -> list[tuple[int, int]]:
    """Where the passages of ``quote`` occur in ``text``: sorted, merged (start, end) offsets.

    A quote made of several passages (joined with " … " or on separate lines) is matched passage by
    passage; a passage that is not found whole is matched sentence by sentence. Matching ignores
    differences in whitespace and, as a fallback, in letter case.
    """
    quotes = [quote] if isinstance(quote, str) else list(quote)
    spans: list[tuple[int, int]] = []
    for q in quotes:
        for passage in _clean_parts(_PASSAGE_SPLIT.split(q or "")):
            found = _find(text, passage)
            if found:
                spans.append(found)
                continue
            for sentence in _clean_parts(split_sentences(passage)):
                found = _find(text, sentence)
                if found:
                    spans.append(found)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _styled_runs(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool, bool]]:
    """``text`` cut into runs of (text, bold, highlighted); bold markers ``**``/``__`` are removed."""
    n = len(text)
    highlighted = [False] * n
    for start, end in spans:
        for i in range(max(0, start), min(n, end)):
            highlighted[i] = True
    bold = [False] * n
    dropped = [False] * n
    for m in _BOLD.finditer(text):
        marker = len(m.group(1))
        if "\n" in m.group(2):
            continue
        for i in range(m.start(), m.start() + marker):
            dropped[i] = True
        for i in range(m.end() - marker, m.end()):
            dropped[i] = True
        for i in range(m.start(2), m.end(2)):
            bold[i] = True
    runs: list[tuple[str, bool, bool]] = []
    for i, ch in enumerate(text):
        if dropped[i]:
            continue
        style = (bold[i], highlighted[i])
        if ch == "\n":
            style = (False, False)
        if runs and (runs[-1][1], runs[-1][2]) == style and ch != "\n" and not runs[-1][0].endswith("\n"):
            runs[-1] = (runs[-1][0] + ch, *style)
        else:
            runs.append((ch, *style))
    return runs


def _wrap(run: str, bold: bool, highlighted: bool) -> str:
    core = run.strip()
    if not core or not (bold or highlighted):
        return escape_markdown(run)
    lead = run[: len(run) - len(run.lstrip())]
    trail = run[len(run.rstrip()) :]
    body = escape_markdown(core)
    if bold:
        body = f"**{body}**"
    if highlighted:
        body = f":{HIGHLIGHT}[{body}]"
    return escape_markdown(lead) + body + escape_markdown(trail)


def _inline(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """One line's content: escaped runs, ``**bold**`` kept, quoted spans highlighted."""
    return "".join(_wrap(run, bold, hl) for run, bold, hl in _styled_runs(text, spans))


def rich_text(text: str, quotes: str | Sequence[str] = ()) -> str:
    """Safe Markdown of ``text`` (tables, lists, headings, bold kept) with the sentences of ``quotes`` highlighted.

    The structure is re-emitted by :mod:`ui.safe_markdown`; every piece of content is escaped first and only
    Streamlit's own highlight directive and bold markers are put around escaped runs, so nothing from
    ``text`` can become markup.
    """
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    spans = find_quote_spans(text, quotes) if quotes else []
    return render_blocks(text, spans, _inline)


def snippet_bounds(text: str, spans: Sequence[tuple[int, int]], max_chars: int = SNIPPET_CHARS) -> tuple[int, int]:
    """A window of ``text`` of at most about ``max_chars`` that shows the first highlighted span."""
    if len(text) <= max_chars:
        return 0, len(text)
    if not spans:
        start, end = 0, max_chars
    else:
        first_start, first_end = spans[0]
        before = min(first_start, max(80, (max_chars - (first_end - first_start)) // 3))
        start = first_start - before
        end = max(first_end, start + max_chars)
    # cut on word boundaries
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 40 else start
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 <= space - end < 40 else end
    return max(0, start), min(len(text), end)


def _snap_to_lines(text: str, start: int, end: int, reach: int = 200) -> tuple[int, int]:
    """Move a window's edges to line boundaries when one is near, and never start a table without its header."""
    if start > 0:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        line = text[line_start : len(text) if line_end < 0 else line_end]
        if start - line_start <= reach or is_structured_line(line):
            start = line_start
            start = structured_segment(text, start, start)[0]
    if end < len(text):
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        if line_end - end <= reach:
            end = line_end
    return start, end


def snippet_markdown(text: str, quote: str, max_chars: int = SNIPPET_CHARS) -> str:
    """The part of a source shown on its card: the quoted sentences highlighted, cut to size (whole lines
    where possible, a table with its header)."""
    spans = find_quote_spans(text, quote) if quote else []
    start, end = snippet_bounds(text, spans, max_chars)
    start, end = _snap_to_lines(text, start, end)
    body = rich_text(text[start:end], quote)
    # an ellipsis on a line of its own where the window starts or ends at a line (a table stays a table)
    before = "" if start == 0 else ("…\n\n" if text[start - 1] == "\n" else "… ")
    after = "" if end >= len(text) else ("\n\n…" if text[end] == "\n" else " …")
    return before + body + after


_QUOTED_LINE = re.compile(
    r"^(?P<lead>.*?)“(?P<quote>.+)”(?:\s*\((?P<label>[^()]*)\))?(?P<marks>(?:\s*\[\d+\])+)[ \t]*$"
)
_MARK = re.compile(r"\[(\d+)\]")


def answer_markdown(text: str, sources: Sequence[SourceView] = ()) -> str:
    """Safe Markdown of an answer. A line that quotes a source (``label: “…” [n]``) shows the quoted part of
    that source with its own structure (a table as a table, a list as a list) when the quote comes from a
    table or list; all other text is rendered like a document (:func:`rich_text`)."""
    if not text:
        return ""
    by_number = {view.n: view for view in sources}
    blocks: list[str] = []
    plain_lines: list[str] = []

    def flush() -> None:
        if plain_lines:
            blocks.append(rich_text("\n".join(plain_lines)))
            plain_lines.clear()

    for line in str(text).replace("\r\n", "\n").split("\n"):
        match = _QUOTED_LINE.match(line)
        structured = _structured_quote(match.group("quote"), match.group("marks"), by_number) if match else None
        if match is None or structured is None:
            plain_lines.append(line)
            continue
        flush()
        lead = match.group("lead").strip()
        lead = re.sub(r"^[-*•](?:\s+|$)", "", lead).rstrip(" :") or (match.group("label") or "").strip()
        marks = " ".join(f"\\[{n}\\]" for n in _MARK.findall(match.group("marks")))
        blocks.append((f"**{escape_markdown(lead)}** " if lead else "") + marks + "\n\n" + as_block_quote(structured))
    flush()
    return "\n\n".join(b for b in blocks if b)


SUPPORT_HEADING = "Meer uit de bronnen:"  # prompts/extractive_support_nl.txt


def split_support(text: str) -> tuple[str, str, str]:
    """An extractive answer's lead, its supporting lines ("Meer uit de bronnen") and what follows them (a
    version note); ``(text, "", "")`` for an answer without supporting lines (an LLM's, a refusal)."""
    before, found, rest = str(text).replace("\r\n", "\n").partition(f"\n\n{SUPPORT_HEADING}\n")
    if not found:
        return str(text), "", ""
    support, _, after = rest.partition("\n\n")
    return before, support, after


def render_answer(text: str, sources: Sequence[SourceView] = ()) -> None:
    """The answer as a volunteer reads it on a phone: the lead in full, the supporting lines in a collapsed
    "Meer uit de bronnen" (they carry the rest of the key facts, one tap away), then any version note."""
    lead, support, after = split_support(text)
    st.markdown(answer_markdown(lead, sources))
    if support:
        count = sum(1 for line in support.splitlines() if line.startswith("- "))
        with st.expander(f"{SUPPORT_HEADING.rstrip(':')} ({count})", icon=":material/format_quote:"):
            st.markdown(answer_markdown(support, sources))
    if after:
        st.markdown(answer_markdown(after, sources))


def _structured_quote(quote: str, marks: str, by_number: dict[int, SourceView]) -> str | None:
    """The quote as it stands in its source, rendered with the source's structure; None when it is plain
    prose (or not found)."""
    for n in _MARK.findall(marks):
        view = by_number.get(int(n))
        if view is None:
            continue
        source = view.text.replace("\r\n", "\n")
        spans = find_quote_spans(source, quote)
        if not spans:
            continue
        start, end = structured_segment(source, spans[0][0], spans[-1][1])
        segment = source[start:end]
        if "\n" not in segment.strip() and not is_structured_line(segment):
            return None
        return rich_text(segment)
    return None


# ------------------------------------------------------------------------------------ view models
@dataclass(frozen=True)
class SourceView:
    """What a source card shows; plain data, kept in the session between reruns."""

    n: int
    doc_id: str
    title: str
    partner: str
    section: tuple[str, ...]
    page_start: int | None
    page_end: int | None
    url: str | None
    text: str
    quote: str = ""
    valid_from: str | None = None  # ISO date the guide's content applies from
    last_reviewed: str | None = None  # ISO date the partner last checked it
    official_url: str | None = None  # the official source (law, Belastingdienst page) it rests on

    @classmethod
    def from_citation(cls, citation: Citation, record: Any = None) -> SourceView:
        """The card of a citation; ``record`` (the document's :class:`kb.store.DocumentRecord`) adds dates and
        the official source from the document's front matter."""
        return cls.from_chunk(citation.n, citation.hit.chunk, citation.quote or "", record)

    @classmethod
    def from_chunk(cls, n: int, c: Any, quote: str = "", record: Any = None) -> SourceView:
        extra = getattr(record, "extra", None) or {}
        return cls(
            n=n,
            doc_id=c.doc_id,
            title=c.title,
            partner=c.partner,
            section=tuple(c.section),
            page_start=c.page_start,
            page_end=c.page_end,
            url=c.url,
            text=c.text,
            quote=quote,
            valid_from=_iso_date(getattr(c, "valid_from", None) or getattr(record, "valid_from", None)),
            last_reviewed=_iso_date(extra.get("last_reviewed") or extra.get("laatst_nagekeken")),
            official_url=official_source_url(extra, exclude=c.url),
        )

    @property
    def where(self) -> str:
        """The article or section: the section path below the document title."""
        parts = list(self.section)
        if parts and parts[0].strip().casefold() == self.title.strip().casefold():
            parts = parts[1:]
        return " › ".join(parts)

    @property
    def pages(self) -> str:
        if not self.page_start:
            return ""
        if self.page_end and self.page_end != self.page_start:
            return f"p. {self.page_start}–{self.page_end}"
        return f"p. {self.page_start}"


def _iso_date(value: Any) -> str | None:
    if not value:
        return None
    text = str(value).strip()[:10]
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def official_source_url(extra: dict[str, Any], exclude: str | None = None) -> str | None:
    """The first http(s) address among a document's ``sources`` (front matter), other than its own URL."""
    sources = extra.get("sources") or extra.get("bronnen") or []
    if isinstance(sources, str):
        sources = [sources]
    for item in sources if isinstance(sources, list) else []:
        url = safe_url(str(item))
        if url and url != exclude:
            return url
    return None


def dutch_date(iso: str | None) -> str:
    """'2026-01-01' → '1 januari 2026'."""
    from kb.display import dutch_date as _dutch

    return _dutch(iso) if iso else ""


def source_dates_line(view: SourceView) -> str:
    """Escaped caption: how current the source is."""
    parts = []
    if view.valid_from:
        parts.append(f"Geldig vanaf {dutch_date(view.valid_from)}")
    if view.last_reviewed:
        parts.append(f"laatst nagekeken op {dutch_date(view.last_reviewed)}")
    return escape_markdown(" · ".join(parts))


def source_label(view: SourceView) -> str:
    """The card's heading (also its collapsed line): number, title, partner."""
    label = f"[{view.n}] {view.title}"
    if view.partner:
        label += f" — {view.partner}"
    return escape_markdown(label)


def source_meta_line(view: SourceView) -> str:
    """Escaped caption: partner · article or section · page."""
    parts = [f"Partner: {view.partner}"] if view.partner else []
    if view.where:
        parts.append(f"Artikel/sectie: {view.where}")
    if view.pages:
        parts.append(view.pages)
    return " · ".join(escape_markdown(p) for p in parts)


# ------------------------------------------------------------------------------------ rendering
def render_text(text: str) -> None:
    """Show user or document text as text (escaped Markdown keeps line breaks and wrapping)."""
    st.markdown(escape_markdown(text))


def render_source_card(
    view: SourceView,
    key: str,
    load_full_text: Callable[[str], str | None] | None = None,
    expanded: bool = False,
    partner_entries: Container[str] = (),
) -> None:
    """One numbered source, collapsed to its heading line by default (an answer on a phone stays short):
    title, partner, section, page, how current it is, highlighted snippet, full text, links.

    ``partner_entries``: the organisation keys of the partner directory; a partner listed there gets a link
    to its entry on the partner directory page.
    """
    with st.expander(source_label(view), expanded=expanded, icon=":material/description:"):
        meta = source_meta_line(view)
        if meta:
            st.caption(meta)
        if view.partner and organisation_key(view.partner) in partner_entries:
            partner_link(view.partner)
        dates = source_dates_line(view)
        if dates:
            st.caption(dates)
        st.markdown(snippet_markdown(view.text, view.quote))
        with st.container(horizontal=True):
            if load_full_text is not None and st.button(
                "Volledige brontekst lezen", key=f"{key}_full", icon=":material/article:"
            ):
                show_full_text(view, load_full_text)
            url = safe_url(view.url)
            if url:
                st.link_button("Originele bron openen", url, icon=":material/open_in_new:")
            official = safe_url(view.official_url)
            if official:
                st.link_button(
                    "Officiële bron",
                    official,
                    icon=":material/gavel:",
                    help="De wet of officiële pagina waar deze tekst op steunt.",
                )
        if load_full_text is not None:
            from ui.original import render_card_extras  # the original at the cited page (and the OCR note)

            render_card_extras(view, key)


@st.dialog("Brontekst", width="large")
def show_full_text(view: SourceView, load_full_text: Callable[[str], str | None]) -> None:
    """The full extracted text of a source document, with the quoted sentences highlighted."""
    st.markdown(f"**{escape_markdown(view.title)}**")
    meta = source_meta_line(view)
    if meta:
        st.caption(meta)
    dates = source_dates_line(view)
    if dates:
        st.caption(dates)
    text = load_full_text(view.doc_id)
    if not text:
        st.warning("Dit document staat niet meer in de kennisbank; de tekst is niet beschikbaar.")
        return
    if view.quote:
        st.caption("De gemarkeerde zinnen zijn in het antwoord gebruikt.")
    with st.container(height=520):
        st.markdown(rich_text(text, view.quote))
    url = safe_url(view.url)
    if url:
        st.link_button("Originele bron openen", url, icon=":material/open_in_new:")


def render_question_groups(groups: Sequence[Any], limit: int = 30) -> None:
    """Unanswered questions grouped by meaning: how often, an example, and the other wordings."""
    if not groups:
        st.info("Er zijn (nog) geen vragen die de kennisbank niet kon beantwoorden.")
        return
    for group in groups[:limit]:
        with st.container(border=True):
            st.markdown(f"**{group.count}×** {escape_markdown(group.example)}")
            others = [q for q in group.variants if q != group.example]
            if others:
                with st.expander(f"{len(others)} andere {'formulering' if len(others) == 1 else 'formuleringen'}"):
                    for q in others:
                        st.markdown("• " + escape_markdown(q))
    if len(groups) > limit:
        st.caption(f"En nog {len(groups) - limit} andere groepen.")


# ------------------------------------------------------------------------------------ Dutch widgets
DATE_PLACEHOLDER = "dd-mm-jjjj"
_DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d")


def parse_dutch_date(text: str | None) -> dt.date | None:
    """'1-3-2026', '01-03-2026', '01/03/2026' or '2026-03-01' → a date; '' → None.

    Raises ``ValueError`` with a Dutch message for anything else.
    """
    value = (text or "").strip()
    if not value:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{value}' is geen datum: schrijf hem als {DATE_PLACEHOLDER}, bijvoorbeeld 01-03-2026.")


def date_field(label: str, key: str, value: dt.date | None = None, help: str | None = None) -> dt.date | None:
    """A date as Dutch text (``dd-mm-jjjj``); Streamlit's date picker shows English ``dd-mm-yyyy`` and
    English names to screen readers. An invalid date shows a Dutch error and counts as empty."""
    if key not in st.session_state and value is not None:
        st.session_state[key] = value.strftime("%d-%m-%Y")
    text = st.text_input(label, key=key, placeholder=DATE_PLACEHOLDER, max_chars=10, help=help)
    try:
        return parse_dutch_date(text)
    except ValueError as exc:
        st.error(escape_markdown(str(exc)), icon=":material/event_busy:")
        return None


def date_field_invalid(key: str) -> bool:
    """Whether the date field ``key`` holds text that is not a date (its error is shown at the field)."""
    try:
        parse_dutch_date(st.session_state.get(key))
    except ValueError:
        return True
    return False


def dutch_file_uploader_text(max_mb: float) -> None:
    """Dutch texts in Streamlit's file uploader ("Upload", "25MB per file" are built in): our own fixed CSS."""
    st.html(
        "<style>"
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p{font-size:0}'
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after'
        '{content:"Bestanden kiezen";font-size:0.875rem}'
        '[data-testid="stFileUploaderDropzoneInstructions"] span{font-size:0}'
        '[data-testid="stFileUploaderDropzoneInstructions"] span::after'
        f'{{content:"of sleep ze hierheen · maximaal {max_mb:g} MB per bestand";font-size:0.875rem}}'
        "</style>"
    )


def scrollable_tables() -> None:
    """A wide table (a guide's comparison table in a source card) scrolls sideways within its own width
    instead of running off a phone's screen: our own fixed CSS."""
    st.html('<style>[data-testid="stMarkdownContainer"] table{display:block;max-width:100%;overflow-x:auto}</style>')


# ------------------------------------------------------------------------------------ partner directory
PARTNERS_PAGE = "ui/partners.py"
CONTACT_LABELS = {"website": "Website", "email": "E-mail", "phone": "Telefoon", "opening_hours": "Bereikbaar"}


def partner_link(name: str) -> None:
    """A link to an organisation's entry on the partner directory page."""
    st.page_link(
        PARTNERS_PAGE,
        label=f"Over {name} in de partnergids",
        icon=":material/diversity_3:",
        query_params={"org": organisation_key(name)},
    )


def contact_markdown(contact: dict[str, str]) -> str:
    """Escaped lines "E-mail: …", "Telefoon: …" (website shown as text; pages add a link button)."""
    return "  \n".join(
        escape_markdown(f"{label}: {contact[k]}") for k, label in CONTACT_LABELS.items() if contact.get(k)
    )


def render_help(items: Sequence[dict[str, Any]], with_links: bool = True) -> None:
    """Who can help with a refused or uncertain answer: organisation, why, contact routes, directory link."""
    if not items:
        return
    st.markdown("**Wie kan je hierbij helpen?**")
    for item in items:
        with st.container(border=True):
            st.markdown(f"**{escape_markdown(item.get('organisation'))}**")
            if item.get("why"):
                st.caption(escape_markdown(item["why"]))
            contact = dict(item.get("contact") or {})
            lines = contact_markdown(contact)
            if lines:
                st.markdown(lines)
            url = safe_url(contact.get("website"))
            if url:
                st.link_button("Website openen", url, icon=":material/open_in_new:")
            if with_links:
                partner_link(str(item.get("organisation") or ""))
