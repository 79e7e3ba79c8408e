"""The app's database helpers: storing an Answer, thumbs feedback, staff-only reviews, grouped gaps."""

from __future__ import annotations

import numpy as np
import pytest

from kb.access import PermissionDeniedError, Principal
from kb.answering.types import Answer, Citation
from kb.db import Feedback, list_exchanges
from kb.db.app_queries import (
    clear_feedback,
    ensure_conversation,
    record_answer,
    review_as,
    save_thumbs,
    unanswered_groups,
)
from kb.retrieval.types import Hit
from kb.store import StoredChunk


def _chunk(n: int, title: str) -> StoredChunk:
    return StoredChunk(
        chunk_id=f"doc{n}::v::0000{n}",
        doc_id=f"doc{n}",
        text=f"Tekst {n}.",
        header="",
        title=title,
        source=f"{title}.md",
        partner="P",
        topic="rechtsvorm",
        section=(title, f"Artikel {n}"),
        page_start=n,
        page_end=n,
        index=0,
    )


def _answer(question: str = "Wie beslist?", refused: bool = False) -> Answer:
    hits = [Hit(1, np.float32(0.9), _chunk(1, "Stichting")), Hit(2, 0.5, _chunk(2, "Vereniging"))]
    citations = [] if refused else [Citation(1, hits[0], "Het bestuur beslist.")]
    return Answer(
        question, question + " (stichting)", "Het bestuur beslist. [1]", refused, citations, hits, 0.77, "extractive"
    )


def test_record_answer_keeps_source_ids_scores_and_citations(session):
    conversation = ensure_conversation(session, None, "rechtsvorm")
    exchange = record_answer(session, conversation, _answer())
    assert exchange.standalone_query == "Wie beslist? (stichting)" and exchange.confidence == pytest.approx(0.77)
    assert exchange.sources == [
        {
            "doc_id": "doc1",
            "chunk_id": "doc1::v::00001",
            "title": "Stichting",
            "section": "Stichting > Artikel 1",
            "score": pytest.approx(0.9),
            "rank": 1,
        },
        {
            "doc_id": "doc2",
            "chunk_id": "doc2::v::00002",
            "title": "Vereniging",
            "section": "Vereniging > Artikel 2",
            "score": 0.5,
            "rank": 2,
        },
    ]
    assert exchange.citations == [
        {
            "n": 1,
            "doc_id": "doc1",
            "chunk_id": "doc1::v::00001",
            "section": "Stichting > Artikel 1",
            "quote": "Het bestuur beslist.",
        }
    ]


def test_ensure_conversation_reuses_or_starts_on_topic_change(session):
    first = ensure_conversation(session, None, None)
    assert ensure_conversation(session, first, None) == first
    other = ensure_conversation(session, first, "belasting")
    assert other != first
    assert ensure_conversation(session, "bestaat-niet", "belasting") not in (first, other)


def test_thumbs_are_mapped_and_can_be_cleared(session):
    exchange = record_answer(session, ensure_conversation(session, None, None), _answer())
    assert save_thumbs(session, exchange.id, 0).score == -1
    assert save_thumbs(session, exchange.id, 1, "  Duidelijk  ").comment == "Duidelijk"
    assert session.get(Feedback, exchange.id).score == 1
    with pytest.raises(ValueError):
        save_thumbs(session, exchange.id, 3)
    assert clear_feedback(session, exchange.id) is True
    assert clear_feedback(session, exchange.id) is False


def test_only_staff_can_review(session):
    exchange = record_answer(session, ensure_conversation(session, None, None), _answer())
    with pytest.raises(PermissionDeniedError):
        review_as(session, Principal("anna", "partner", "P"), exchange.id, "checked")
    with pytest.raises(PermissionDeniedError):
        review_as(session, Principal.anonymous(), exchange.id, "checked")
    review = review_as(session, Principal("sanne", "staff"), exchange.id, "incorrect", "Onjuist.")
    assert (review.reviewer, review.status) == ("sanne", "incorrect")
    assert list_exchanges(session)[0].review_status == "incorrect"


def test_unanswered_groups(session):
    conversation = ensure_conversation(session, None, None)
    for question in ("Wat kost een notaris?", "wat kost een notaris", "Mag een kind lid zijn?"):
        record_answer(session, conversation, _answer(question, refused=True))
    record_answer(session, conversation, _answer("Wie beslist?"))

    def embed(texts):
        return np.array([[1.0, 0.0] if "notaris" in t.lower() else [0.0, 1.0] for t in texts])

    groups = unanswered_groups(session, embed)
    assert [g.count for g in groups] == [2, 1]
    assert groups[0].example == "wat kost een notaris" and len(groups[0].variants) == 1
