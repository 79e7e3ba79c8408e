from itertools import pairwise

from ingest.chunking import SectionChunker, embedding_header
from ingest.document import Block, ParsedDocument


def doc(*blocks: Block) -> ParsedDocument:
    return ParsedDocument(kind="markdown", blocks=list(blocks), title="Titel")


def test_heading_paths_follow_nesting():
    d = doc(
        Block("Wet", 1),
        Block("Titel 1", 2),
        Block("art. 1", 3),
        Block("Tekst van artikel 1."),
        Block("art. 2", 3),
        Block("Tekst van artikel 2."),
        Block("Titel 2", 2),
        Block("Inleiding bij titel 2."),
        Block("art. 3", 3),
        Block("Tekst van artikel 3."),
    )
    chunks = SectionChunker(400, 50).chunk(d)
    assert [c.section for c in chunks] == [
        ("Wet", "Titel 1", "art. 1"),
        ("Wet", "Titel 1", "art. 2"),
        ("Wet", "Titel 2"),
        ("Wet", "Titel 2", "art. 3"),
    ]
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert chunks[2].text == "Inleiding bij titel 2."


def test_skipped_heading_levels_and_text_before_first_heading():
    d = doc(
        Block("Voorwoord zonder kop."),
        Block("Kop", 1),
        Block("Diep", 4),
        Block("Diepe tekst."),
        Block("Terug", 2),
        Block("x."),
    )
    chunks = SectionChunker(400, 50).chunk(d)
    assert [c.section for c in chunks] == [(), ("Kop", "Diep"), ("Kop", "Terug")]


def test_long_section_splits_within_section_with_overlap():
    sentences = [f"Zin nummer {i} gaat over de vereniging en haar leden." for i in range(60)]
    paragraphs = [" ".join(sentences[i : i + 6]) for i in range(0, 60, 6)]
    d = doc(Block("Kop", 1), *[Block(p) for p in paragraphs], Block("Volgende", 1), Block("Kort."))
    chunks = SectionChunker(500, 120).chunk(d)
    body = [c for c in chunks if c.section == ("Kop",)]
    assert len(body) > 3
    assert all(len(c.text) <= 500 for c in body)
    assert chunks[-1].section == ("Volgende",) and chunks[-1].text == "Kort."
    # every sentence survives, and consecutive chunks share some text (overlap)
    joined = " ".join(c.text for c in body)
    assert all(s in joined for s in sentences)
    overlaps = sum(1 for a, b in pairwise(body) if a.text.split(". ")[-1][:30] in b.text)
    assert overlaps >= 1


def test_single_huge_paragraph_is_split_on_sentences():
    text = " ".join(f"Dit is zin {i} met wat extra woorden erbij." for i in range(100))
    chunks = SectionChunker(300, 60).chunk(doc(Block("K", 1), Block(text)))
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.rstrip().endswith(".") for c in chunks)


def test_pdf_page_ranges():
    d = ParsedDocument(
        kind="pdf",
        blocks=[Block("a " * 150, page=1), Block("b " * 150, page=2), Block("c " * 150, page=3)],
    )
    chunks = SectionChunker(700, 50).chunk(d)
    assert chunks[0].page_start == 1 and chunks[0].page_end == 2
    assert chunks[-1].page_end == 3
    assert chunks[0].page_label() == "1-2"


def test_embedding_text_starts_with_title_and_path():
    assert embedding_header("Gids", ("Gids", "Deel", "Stuk")) == "Gids > Deel > Stuk"
