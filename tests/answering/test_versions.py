"""Two versions of one rule among the sources: the answer says which one is the newest."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import IngestPipeline
from kb.answering.assistant import Assistant
from kb.answering.versions import version_groups
from kb.display import dutch_date
from kb.retrieval.retriever import Retriever
from kb.retrieval.types import Hit
from kb.store import KnowledgeStore, StoredChunk

CURRENT = """# Gemeentewet – geselecteerde artikelen, toestand 2026-10-01

## Hoofdstuk IX - De bevoegdheid van de raad

### art. 150 Gemeentewet

1. De raad stelt een participatieverordening vast over hoe inwoners worden betrokken bij beleid.
2. De verordening regelt ook hoe inwoners een taak van de gemeente kunnen overnemen (uitdaagrecht).
"""

OLD = """# HISTORISCH – Gemeentewet art. 150, toestand 2024-01-31 (inspraakverordening; vervangen)

## Hoofdstuk IX - De bevoegdheid van de raad

### art. 150 Gemeentewet

1. De raad stelt een inspraakverordening vast over hoe inwoners worden betrokken bij beleid.
"""


def hit(n: int, doc: str, heading: str, valid_from: str | None) -> Hit:
    chunk = StoredChunk(
        f"{doc}::v::{n:05d}",
        doc,
        "tekst",
        "",
        doc,
        f"{doc}.md",
        "P",
        "overig",
        (doc, heading),
        None,
        None,
        0,
        valid_from,
    )
    return Hit(n, 1.0, chunk)


def test_versions_are_grouped_by_rule_newest_first():
    hits = [
        hit(1, "oud", "art. 150 Gemeentewet", "2024-01-31"),
        hit(2, "nieuw", "art. 150 Gemeentewet", "2026-10-01"),
        hit(3, "nieuw", "art. 149 Gemeentewet", "2026-10-01"),
    ]
    [group] = version_groups(hits, [1, 2, 3])
    assert group.rule == "art. 150 Gemeentewet"
    assert group.sources == (2, 1) and group.newest == 2
    assert group.dates == ("2026-10-01", "2024-01-31")


def test_no_group_without_two_dates_or_two_documents():
    undated = [hit(1, "a", "art. 1", None), hit(2, "b", "art. 1", "2026-01-01")]
    not_a_rule = [hit(1, "a", "Kort antwoord", "2024-01-01"), hit(2, "b", "Kort antwoord", "2026-01-01")]
    same_date = [hit(1, "a", "art. 1", "2026-01-01"), hit(2, "b", "art. 1", "2026-01-01")]
    one_doc = [hit(1, "a", "art. 1", "2024-01-01"), hit(2, "a", "art. 1", "2026-01-01")]
    for hits in (undated, not_a_rule, same_date, one_doc):
        assert version_groups(hits, [1, 2]) == []


def test_dutch_date():
    assert dutch_date("2026-10-01") == "1 oktober 2026"
    assert dutch_date("onbekend") == "onbekend"


def test_answer_names_the_newest_version(settings, hashing_embedder, tmp_path: Path):
    folder = tmp_path / "wetten"
    folder.mkdir()
    (folder / "gemeentewet.md").write_text(CURRENT, encoding="utf-8")
    (folder / "gemeentewet_historisch.md").write_text(OLD, encoding="utf-8")
    store = KnowledgeStore(settings)
    assert IngestPipeline(store, lambda: hashing_embedder, settings).ingest_paths([folder]).ok
    dates = {r.source: r.valid_from for r in store.list_documents()}
    assert dates == {"gemeentewet.md": "2026-10-01", "gemeentewet_historisch.md": "2024-01-31"}

    retriever = Retriever(store, lambda: hashing_embedder, settings)
    stream = Assistant(retriever, lambda: hashing_embedder, settings).ask(
        "Welke verordening over inwoners moet de raad volgens art. 150 Gemeentewet vaststellen?"
    )
    list(stream)
    answer = stream.answer
    numbers = {c.hit.chunk.source: c.n for c in answer.citations}
    assert set(numbers) == {"gemeentewet.md", "gemeentewet_historisch.md"}
    assert "verschillende versies van art. 150 Gemeentewet" in answer.text
    assert f"De nieuwste is [{numbers['gemeentewet.md']}], geldig vanaf 1 oktober 2026" in answer.text


def test_one_version_gets_no_note(small_kb, settings, hashing_embedder):
    _, retriever = small_kb
    stream = Assistant(retriever, lambda: hashing_embedder, settings).ask("Mag een vereniging winst verdelen?")
    list(stream)
    assert "versies" not in stream.answer.text
