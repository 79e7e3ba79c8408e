"""Safe text rendering: escaping, highlighting quoted sentences, snippets, URLs (pure functions)."""

from __future__ import annotations

import re

from apptest_support import plain

from ui.components import (
    SourceView,
    answer_markdown,
    escape_markdown,
    escape_pieces,
    find_quote_spans,
    rich_text,
    safe_url,
    snippet_markdown,
)

HOSTILE = (
    "<script>alert('x')</script> <img src=x onerror=alert(1)> [klik](javascript:alert(1)) "
    "![plaatje](https://evil.example/x.png) :red[rood] :material/home: :smile: $x^2$ `code` "
    "# kop\n> citaat\n    ingesprongen\n- lijst\n1. een | tabel | &lt;b&gt;"
)


def _unescaped_specials(markdown: str) -> list[str]:
    """Markdown-special characters that are not preceded by a backslash escape."""
    found = []
    i = 0
    while i < len(markdown):
        ch = markdown[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "<>[]()!`*_$:#|&~":
            found.append(ch)
        i += 1
    return found


def test_escape_markdown_leaves_nothing_that_can_become_markup():
    escaped = escape_markdown(HOSTILE)
    assert _unescaped_specials(escaped) == []
    assert "\\<script\\>" in escaped
    assert "\n    " not in escaped  # no indented code block
    # what the reader sees is the original text (line breaks kept, indentation dropped)
    assert plain(escaped) == HOSTILE.replace("\n    ingesprongen", "\ningesprongen")


def test_escape_markdown_breaks_emoji_and_icon_shortcodes():
    escaped = escape_markdown(":smile: en :material/home:")
    assert ":smile:" not in escaped.replace("\\", "") and ":material/home:" not in escaped.replace("\\", "")
    assert plain(escaped) == ":smile: en :material/home:"


def test_escaping_pieces_equals_escaping_the_whole_text():
    text = "Een stichting (art. 2:285 BW) heeft *geen* leden.\nZie [1] en <b>dit</b>."
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    assert "".join(escape_pieces(pieces)) == escape_markdown(text)


def test_escape_markdown_of_nothing():
    assert escape_markdown("") == "" and escape_markdown(None) == ""


def test_find_quote_spans_ignores_whitespace_and_joins_passages():
    text = "Een stichting heeft geen leden.\nHet bestuur   beslist over bijna alles. Iets anders."
    quote = "Een stichting heeft geen leden. … Het bestuur beslist over bijna alles."
    spans = find_quote_spans(text, quote)
    assert [text[a:b] for a, b in spans] == [
        "Een stichting heeft geen leden.",
        "Het bestuur   beslist over bijna alles.",
    ]
    assert find_quote_spans(text, "Dit staat er helemaal niet in.") == []


def test_rich_text_highlights_escaped_quotes_only():
    text = "Inleiding. De kas <script>x</script> wordt gecontroleerd. Slot."
    out = rich_text(text, "De kas <script>x</script> wordt gecontroleerd.")
    assert out.count(":orange-background[") == 1
    inside = re.search(r":orange-background\[(.*)\]", out).group(1)
    assert inside == escape_markdown("De kas <script>x</script> wordt gecontroleerd.")
    assert "<script>" not in out.replace("\\<script\\>", "")
    assert out.startswith(escape_markdown("Inleiding. "))


def test_rich_text_keeps_bold_and_highlights_per_line():
    text = "Een stichting is een rechtspersoon **zonder leden**.\nZe heeft een bestuur."
    out = rich_text(text, "Een stichting is een rechtspersoon zonder leden. Ze heeft een bestuur.")
    # the quote spans a bold part: matched only where the text has it verbatim; bold markers kept as bold
    assert "**zonder leden**" in out
    out2 = rich_text(
        "Regel een is lang genoeg.\nRegel twee is ook lang.", "Regel een is lang genoeg. Regel twee is ook lang."
    )
    lines = out2.split("  \n")
    assert len(lines) == 2 and all(line.startswith(":orange-background[") for line in lines)


def test_rich_text_cannot_be_broken_out_of_by_brackets():
    out = rich_text("Zie ]: en [x](javascript:y) hier.", "Zie ]: en [x](javascript:y) hier.")
    assert out == ":orange-background[" + escape_markdown("Zie ]: en [x](javascript:y) hier.") + "]"


def test_snippet_shows_the_quote_of_a_long_source():
    text = ("Aanloop zonder belang. " * 60) + "Het bestuur beslist over bijna alles. " + ("Staart. " * 100)
    snippet = snippet_markdown(text, "Het bestuur beslist over bijna alles.", max_chars=300)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert ":orange-background[" + escape_markdown("Het bestuur beslist over bijna alles.") + "]" in snippet
    assert len(plain(snippet)) < 420


def test_safe_url():
    assert safe_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//example.org", "https://exa mple.org", "", None):
        assert safe_url(bad) is None


def _view(n: int, text: str) -> SourceView:
    return SourceView(n, f"doc-{n}", "Gids", "Partner", ("Gids", "Sectie"), None, None, None, text)


def test_answer_lines_in_the_lead_form_render_prose_plainly_and_lists_as_lists():
    source = "Het bestuur beslist over:\n\n- de begroting;\n- de kas."
    text = (
        "“Het bestuur beslist over bijna alles.” (Gids — Sectie) [1]\n\nMeer uit de bronnen:\n"
        "- “Het bestuur beslist over: - de begroting; - de kas.” [2]"
    )
    out = answer_markdown(text, [_view(1, "Het bestuur beslist over bijna alles."), _view(2, source)])
    assert "Gids — Sectie" in plain(out)
    # the list is a list (quoted from its source); a supporting line without a label has no bold "-" heading
    assert "> \\- de begroting" in out or "> - de begroting" in out, out
    assert "**\\-**" not in out and "**-**" not in out, out


def test_a_card_shows_the_table_of_its_section_with_the_quoted_sentence():
    # a chunk of about KB_CHUNK_SIZE: a table, text, and the quoted sentence at its end
    table = "| | Vereniging | Stichting |\n|---|---|---|\n" + "".join(f"| Rij {i} | ja | nee |\n" for i in range(12))
    text = table + "\n" + "Een vereniging heeft leden die samen beslissen over het doel. " * 9
    text += "Een stichting heeft geen leden."
    snippet = snippet_markdown(text, "Een stichting heeft geen leden.")
    assert "| --- | --- | --- |" in snippet and "Rij 0" in snippet, snippet
    assert ":orange-background[" in snippet
