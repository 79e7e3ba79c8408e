"""Guides as a bridge: a guide chunk's article references link it to the article chunks of the store."""

from kb.retrieval.bridge import CitationGraph, article_key
from kb.store import DocumentRecord, StoredChunk


def chunk(cid: str, doc: str, section: tuple[str, ...], text: str) -> StoredChunk:
    return StoredChunk(cid, doc, text, "", doc, f"{doc}.md", "p", "rechtsvorm", section, None, None, 0)


LAW = [
    chunk(
        "bw-36", "bw", ("Burgerlijk Wetboek Boek 2", "art. 2:36 BW – Opzegging"), "1. Opzegging van het lidmaatschap …"
    ),
    chunk("bw-34", "bw", ("Burgerlijk Wetboek Boek 2", "art. 2:34 BW"), "Het lidmaatschap is persoonlijk."),
    chunk("ob-11", "ob", ("Wet OB 1968", "art. 11 Wet OB 1968 – Vrijstellingen"), "Vrijgesteld zijn …"),
]


def test_article_key_reads_number_and_law_from_a_heading():
    assert article_key("art. 2:36 BW – Opzegging") == ("2:36", "bw")
    assert article_key("art. 11 Wet OB 1968 – Vrijstellingen") == ("11", "wet ob 1968")
    assert article_key("Kort antwoord") is None


def test_guide_references_link_to_the_articles_they_name():
    guide = [
        chunk(
            "g1",
            "gids",
            ("Lidmaatschap", "Opzeggen"),
            "Opzeggen kan tegen het einde van het boekjaar (art. 2:36 lid 1 BW).",
        ),
        chunk(
            "g2", "gids", ("Lidmaatschap", "Zaal"), "Zaalverhuur is vrijgesteld (art. 11 lid 1 onder b Wet OB 1968)."
        ),
        chunk("g3", "gids", ("Lidmaatschap", "Kort antwoord"), "Een lid kan opzeggen."),
        chunk("g4", "gids", ("Lidmaatschap", "Anders"), "Zie art. 36 van de statuten."),  # no law named: no link
    ]
    graph = CitationGraph.build(LAW + guide, front_matter=False)
    assert graph.cited_by("g1") == ("bw-36",)
    assert graph.cited_by("g2") == ("ob-11",)
    assert graph.cited_by("g3") == () and graph.cited_by("g4") == ()
    assert graph.cited_by("bw-36") == ()  # law texts are no guides


def test_front_matter_sources_link_a_guide_chunk_without_references():
    record = DocumentRecord(
        doc_id="gids",
        source="gids.md",
        title="Gids",
        partner="p",
        topic="rechtsvorm",
        language="nl",
        ingested_at="",
        sha256="",
        kind="markdown",
        extra={"sources": ["art. 2:34 BW", "https://wetten.overheid.nl/x"]},
    )
    guide = [chunk("g3", "gids", ("Gids", "Kort antwoord"), "Het lidmaatschap is persoonlijk.")]
    assert CitationGraph.build(LAW + guide, [record]).cited_by("g3") == ("bw-34",)
    assert CitationGraph.build(LAW + guide, [record], front_matter=False).cited_by("g3") == ()
