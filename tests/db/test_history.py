"""History: recording exchanges, feedback, reviews, filtered lists, CSV export, unanswered questions."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kb.db import (
    Exchange,
    ExchangeFilter,
    HistoryError,
    Review,
    add_feedback,
    export_csv,
    group_similar,
    list_exchanges,
    record_exchange,
    review_exchange,
    session_scope,
    start_conversation,
    unanswered_questions,
)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@dataclass
class FakeSource:
    doc_id: str
    chunk_id: str
    title: str
    section: str
    score: float


def _exchange(session: Session, conversation_id: str, question: str, **kw: object) -> Exchange:
    kw.setdefault("answer", f"Antwoord op: {question}")
    kw.setdefault("answerer", "extractive")
    return record_exchange(session, conversation_id, question, **kw)  # type: ignore[arg-type]


def test_record_exchange_round_trip(engine: Engine) -> None:
    with session_scope(engine) as s:
        conv = start_conversation(s, topic_filter="belasting", now=T0)
        sources = [
            {
                "doc_id": "gids-vve",
                "chunk_id": "gids-vve:3",
                "title": "VvE-gids",
                "section": "Kosten",
                "score": 0.82,
                "rank": 1,
                "extra": "weg",
            },
            FakeSource("gids-coop", "gids-coop:1", "Coöperatie", "Oprichten", np.float32(0.5)),
        ]
        citations = [
            {
                "n": 1,
                "doc_id": "gids-vve",
                "chunk_id": "gids-vve:3",
                "section": "Kosten",
                "quote": "De kosten worden verdeeld.",
            }
        ]
        ex = record_exchange(
            s,
            conv.id,
            "Hoe verdelen we de kosten?",
            "Naar rato van het aandeel [1].",
            standalone_query="kosten verdelen vereniging",
            refused=False,
            confidence=0.71,
            answerer="llm:qwen",
            sources=sources,
            citations=citations,
            now=T0,
        )
        ex_id, conv_id = ex.id, conv.id
    assert len(conv_id) == 36

    with session_scope(engine) as s:
        stored = s.get(Exchange, ex_id)
        assert stored is not None
        assert stored.conversation.topic_filter == "belasting"
        assert stored.created_at == T0
        assert stored.standalone_query == "kosten verdelen vereniging"
        assert stored.confidence == pytest.approx(0.71)
        assert stored.sources[0] == {
            "doc_id": "gids-vve",
            "chunk_id": "gids-vve:3",
            "title": "VvE-gids",
            "section": "Kosten",
            "score": 0.82,
            "rank": 1,
        }
        # Objects are accepted too; the missing rank becomes the position.
        assert stored.sources[1]["title"] == "Coöperatie"
        assert stored.sources[1]["rank"] == 2
        assert stored.sources[1]["score"] == pytest.approx(0.5)
        assert stored.citations == [
            {
                "n": 1,
                "doc_id": "gids-vve",
                "chunk_id": "gids-vve:3",
                "section": "Kosten",
                "quote": "De kosten worden verdeeld.",
            }
        ]


def test_record_exchange_needs_an_existing_conversation(session: Session) -> None:
    with pytest.raises(HistoryError, match="bestaat niet"):
        record_exchange(session, "onbekend", "Vraag?", "Antwoord")


def test_feedback_is_one_per_exchange_and_updates(session: Session) -> None:
    conv = start_conversation(session)
    ex = _exchange(session, conv.id, "Wat is een VvE?")
    add_feedback(session, ex.id, -1, "Te vaag", now=T0)
    fb = add_feedback(session, ex.id, 1, "  ", now=T0 + timedelta(minutes=1))
    session.commit()
    assert (fb.score, fb.comment, fb.created_at) == (1, None, T0 + timedelta(minutes=1))
    [row] = list_exchanges(session)
    assert (row.feedback_score, row.feedback_comment) == (1, None)
    with pytest.raises(HistoryError, match=r"\+1"):
        add_feedback(session, ex.id, 0)
    with pytest.raises(HistoryError, match="bestaat niet"):
        add_feedback(session, 9999, 1)


def test_latest_review_counts(session: Session) -> None:
    conv = start_conversation(session)
    ex = _exchange(session, conv.id, "Mag een coöperatie winst maken?")
    review_exchange(session, ex.id, "incorrect", "Bron klopt niet", reviewer="anna", now=T0)
    review_exchange(session, ex.id, "checked", "Na correctie goed", reviewer="bram", now=T0)
    [row] = list_exchanges(session)
    assert (row.review_status, row.review_note, row.reviewer) == ("checked", "Na correctie goed", "bram")
    assert len(session.scalars(select(Review)).all()) == 2
    with pytest.raises(HistoryError, match="Onbekende beoordeling"):
        review_exchange(session, ex.id, "misschien", reviewer="anna")
    with pytest.raises(HistoryError, match="beoordelaar"):
        review_exchange(session, ex.id, "checked", reviewer="  ")


@pytest.fixture
def dataset(session: Session) -> dict[str, int]:
    """Five exchanges over three days with different topics, feedback and reviews."""
    belasting = start_conversation(session, topic_filter="belasting", now=T0)
    vrij = start_conversation(session, now=T0)
    ids = {
        "goed": _exchange(
            session, belasting.id, "Moet een VvE btw betalen?", confidence=0.9, now=T0 - timedelta(days=2)
        ).id,
        "laag": _exchange(session, belasting.id, "Aftrek van rente?", confidence=0.3, now=T0 - timedelta(days=1)).id,
        "geweigerd": _exchange(
            session,
            vrij.id,
            "Wie wint de verkiezingen?",
            refused=True,
            answer="Daar heb ik geen bronnen over.",
            confidence=0.0,
            now=T0,
        ).id,
        "negatief": _exchange(
            session, vrij.id, "Hoe richt ik een coöperatie op?", confidence=0.6, now=T0 + timedelta(hours=1)
        ).id,
        "bekeken": _exchange(
            session, belasting.id, "Schenkbelasting bij inleg?", confidence=0.5, now=T0 + timedelta(hours=2)
        ).id,
    }
    add_feedback(session, ids["negatief"], -1, "Klopt niet")
    add_feedback(session, ids["goed"], 1)
    review_exchange(session, ids["bekeken"], "checked", reviewer="anna")
    session.commit()
    return ids


def _ids(rows: list) -> list[int]:
    return [r.id for r in rows]


def test_list_all_newest_first(session: Session, dataset: dict[str, int]) -> None:
    assert _ids(list_exchanges(session)) == [
        dataset["bekeken"],
        dataset["negatief"],
        dataset["geweigerd"],
        dataset["laag"],
        dataset["goed"],
    ]
    assert _ids(list_exchanges(session, limit=2)) == [dataset["bekeken"], dataset["negatief"]]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (ExchangeFilter(negative_feedback_only=True), ["negatief"]),
        (ExchangeFilter(refused_only=True), ["geweigerd"]),
        (ExchangeFilter(max_confidence=0.5), ["bekeken", "geweigerd", "laag"]),
        (ExchangeFilter(topic="belasting"), ["bekeken", "laag", "goed"]),
        (ExchangeFilter(unreviewed_only=True), ["negatief", "geweigerd", "laag", "goed"]),
        (ExchangeFilter(date_from=date(2025, 3, 10)), ["bekeken", "negatief", "geweigerd"]),
        (ExchangeFilter(date_to=date(2025, 3, 9)), ["laag", "goed"]),
        (ExchangeFilter(date_from=date(2025, 3, 9), date_to=date(2025, 3, 9)), ["laag"]),
        (ExchangeFilter(date_from=T0, date_to=T0 + timedelta(hours=1)), ["negatief", "geweigerd"]),
        (ExchangeFilter(topic="belasting", max_confidence=0.5, unreviewed_only=True), ["laag"]),
        (ExchangeFilter(topic="rechtsvorm"), []),
    ],
)
def test_filters(session: Session, dataset: dict[str, int], flt: ExchangeFilter, expected: list[str]) -> None:
    assert _ids(list_exchanges(session, flt)) == [dataset[name] for name in expected]


def test_rows_carry_feedback_and_review(session: Session, dataset: dict[str, int]) -> None:
    rows = {r.id: r for r in list_exchanges(session)}
    negative = rows[dataset["negatief"]]
    assert (negative.feedback_score, negative.feedback_comment, negative.review_status) == (-1, "Klopt niet", None)
    reviewed = rows[dataset["bekeken"]]
    assert (reviewed.review_status, reviewed.reviewer, reviewed.topic) == ("checked", "anna", "belasting")
    assert rows[dataset["geweigerd"]].topic is None


def test_export_csv(session: Session, dataset: dict[str, int]) -> None:
    text = export_csv(list_exchanges(session, ExchangeFilter(date_from=date(2025, 3, 10))))
    records = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in records] == [dataset["bekeken"], dataset["negatief"], dataset["geweigerd"]]
    negative = records[1]
    assert negative["vraag"] == "Hoe richt ik een coöperatie op?"
    assert negative["feedback"] == "-1" and negative["feedback_opmerking"] == "Klopt niet"
    assert negative["geweigerd"] == "nee" and negative["betrouwbaarheid"] == "0.600"
    assert negative["datum"] == "2025-03-10T13:00:00+00:00"
    assert records[2]["geweigerd"] == "ja"
    assert records[0]["beoordeling"] == "checked" and records[0]["beoordelaar"] == "anna"
    assert records[0]["onderwerp"] == "belasting"


def test_export_csv_sources_semicolons_and_formula_injection(session: Session) -> None:
    conv = start_conversation(session)
    _exchange(
        session,
        conv.id,
        '=HYPERLINK("http://x")',
        answer="Antwoord; met puntkomma",
        sources=[{"doc_id": "d1", "title": "Gids", "section": "Start"}, {"doc_id": "d2"}],
    )
    text = export_csv(list_exchanges(session), delimiter=";")
    [record] = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert record["vraag"] == '\'=HYPERLINK("http://x")'
    assert record["antwoord"] == "Antwoord; met puntkomma"
    assert record["bronnen"] == "Gids — Start | d2"
    assert export_csv([]).splitlines() == [
        "id,datum,gesprek,onderwerp,vraag,zoekvraag,antwoord,geweigerd,betrouwbaarheid,beantwoorder,"
        "bronnen,feedback,feedback_opmerking,beoordeling,beoordeling_notitie,beoordelaar"
    ]


def test_unanswered_questions_are_the_refused_ones(session: Session) -> None:
    conv = start_conversation(session)
    _exchange(session, conv.id, "Beantwoord", now=T0)
    _exchange(session, conv.id, "Eerste weigering", refused=True, now=T0)
    _exchange(session, conv.id, "Tweede weigering", refused=True, now=T0 + timedelta(minutes=1))
    _exchange(session, conv.id, "Eerste weigering", refused=True, now=T0 + timedelta(minutes=2))
    assert unanswered_questions(session) == ["Eerste weigering", "Tweede weigering", "Eerste weigering"]
    assert unanswered_questions(session, since=T0 + timedelta(minutes=1)) == ["Eerste weigering", "Tweede weigering"]


_AXES = ("huur", "btw", "subsidie")


def _keyword_embed(texts: list[str]) -> np.ndarray:
    """Deterministic toy embedding: one axis per keyword, plus a small per-text tie-breaker."""
    out = np.zeros((len(texts), len(_AXES) + 1))
    for i, text in enumerate(texts):
        for j, word in enumerate(_AXES):
            out[i, j] = text.lower().count(word)
        out[i, -1] = 0.1 if out[i, :-1].any() else 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_group_similar_biggest_groups_first() -> None:
    questions = [
        "Subsidie voor zonnepanelen?",
        "Hoe werkt de btw bij een vereniging?",
        "Moeten we btw afdragen?",
        "Welke subsidie is er?",
        "Btw op contributie?",
        "Wat kost een notaris?",
    ]
    groups = group_similar(questions, _keyword_embed, threshold=0.8)
    assert groups[0] == ["Hoe werkt de btw bij een vereniging?", "Moeten we btw afdragen?", "Btw op contributie?"]
    assert groups[1:] == [["Subsidie voor zonnepanelen?", "Welke subsidie is er?"], ["Wat kost een notaris?"]]
    assert sorted(q for g in groups for q in g) == sorted(questions)


def test_group_similar_threshold_and_edges() -> None:
    questions = ["btw", "btw subsidie", "subsidie"]
    # cos(btw, btw+subsidie) ≈ 0.70: together only with a low threshold.
    assert group_similar(questions, _keyword_embed, threshold=0.9) == [["btw"], ["btw subsidie"], ["subsidie"]]
    assert group_similar(questions, _keyword_embed, threshold=0.6) == [["btw", "btw subsidie"], ["subsidie"]]
    assert group_similar([], _keyword_embed) == []
    with pytest.raises(ValueError, match="verwacht"):
        group_similar(["a", "b"], lambda texts: np.ones((1, 3)))


def test_record_exchange_stores_source_records_as_their_database_form(session) -> None:
    from kb.source_record import SourceRecord

    conv = start_conversation(session)
    record = SourceRecord("d", "d:1", "Gids", ("Deel", "Stuk"), rank=1, score=0.5)
    exchange = record_exchange(session, conv.id, "Vraag?", "Antwoord.", sources=[record])
    assert exchange.sources == [record.to_db()] and exchange.sources[0]["section"] == "Deel > Stuk"
