"""Conversation history: questions and answers, volunteer feedback, staff reviews, and the views
staff use to improve the knowledge base (filtered lists, CSV export, unanswered questions grouped).

Functions take an open Session and flush; the caller commits (``session_scope``).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.db.models import REVIEW_STATUSES, Conversation, Exchange, Feedback, Review, as_utc, utcnow
from kb.errors import KbError
from kb.source_record import CITATION_DB_KEYS, DB_KEYS, SourceRecord

SOURCE_KEYS: tuple[str, ...] = DB_KEYS
CITATION_KEYS: tuple[str, ...] = ("n", *CITATION_DB_KEYS, "quote")


class HistoryError(KbError, ValueError):
    """Invalid input for the history (unknown exchange, bad score or status); Dutch message."""


# --- recording ---------------------------------------------------------------------------------


def start_conversation(session: Session, topic_filter: str | None = None, now: datetime | None = None) -> Conversation:
    """A new conversation with a random uuid id; ``topic_filter`` is the topic chosen in the app."""
    conversation = Conversation(id=str(uuid.uuid4()), topic_filter=topic_filter or None, created_at=_now(now))
    session.add(conversation)
    session.flush()
    return conversation


def _field(item: Any, key: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


def _records(items: Iterable[Any], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Mappings or objects (dataclasses, pydantic models) to JSON-safe dicts with exactly ``keys``."""
    out = []
    for item in items:
        if isinstance(item, SourceRecord):
            item = item.to_db()
        record = {key: _field(item, key) for key in keys}
        for key, value in record.items():
            if isinstance(value, np.generic):  # numpy scalars are not JSON serialisable
                record[key] = value.item()
        out.append(record)
    return out


def record_exchange(
    session: Session,
    conversation_id: str,
    question: str,
    answer: str,
    *,
    standalone_query: str | None = None,
    refused: bool = False,
    confidence: float = 0.0,
    answerer: str = "",
    sources: Iterable[Any] = (),
    citations: Iterable[Any] = (),
    now: datetime | None = None,
) -> Exchange:
    r"""Store one question and its answer.

    ``sources`` and ``citations`` may be :class:`~kb.source_record.SourceRecord`\ s, dicts or objects with
    the attributes of :data:`SOURCE_KEYS` / :data:`CITATION_KEYS`; missing keys become None, and a missing
    source ``rank`` becomes its 1-based position.
    """
    if session.get(Conversation, conversation_id) is None:
        raise HistoryError(f"Gesprek {conversation_id} bestaat niet: start eerst een gesprek.")
    source_records = _records(sources, SOURCE_KEYS)
    for position, record in enumerate(source_records, start=1):
        if record["rank"] is None:
            record["rank"] = position
    exchange = Exchange(
        conversation_id=conversation_id,
        created_at=_now(now),
        question=question,
        standalone_query=standalone_query,
        answer=answer,
        refused=bool(refused),
        confidence=float(confidence),
        answerer=answerer,
        sources=source_records,
        citations=_records(citations, CITATION_KEYS),
    )
    session.add(exchange)
    session.flush()
    return exchange


def _exchange(session: Session, exchange_id: int) -> Exchange:
    exchange = session.get(Exchange, exchange_id)
    if exchange is None:
        raise HistoryError(f"Antwoord {exchange_id} bestaat niet (meer).")
    return exchange


def add_feedback(
    session: Session,
    exchange_id: int,
    score: int,
    comment: str | None = None,
    now: datetime | None = None,
) -> Feedback:
    """Store a thumbs up (+1) or down (-1). A second call for the same exchange replaces the first."""
    if score not in (1, -1):
        raise HistoryError("Feedback moet +1 (duim omhoog) of -1 (duim omlaag) zijn.")
    exchange = _exchange(session, exchange_id)
    comment = (comment or "").strip() or None
    feedback = session.get(Feedback, exchange.id)
    if feedback is None:
        feedback = Feedback(score=score, comment=comment, created_at=_now(now))
        exchange.feedback = feedback
    else:
        feedback.score, feedback.comment, feedback.created_at = score, comment, _now(now)
    session.flush()
    return feedback


def review_exchange(
    session: Session,
    exchange_id: int,
    status: str,
    note: str | None = None,
    reviewer: str = "",
    now: datetime | None = None,
) -> Review:
    """Record a staff verdict (``checked`` or ``incorrect``). Earlier reviews are kept; the newest counts."""
    if status not in REVIEW_STATUSES:
        raise HistoryError(f"Onbekende beoordeling '{status}': kies 'checked' (klopt) of 'incorrect'.")
    if not reviewer.strip():
        raise HistoryError("Een beoordeling heeft een beoordelaar nodig: log in als medewerker.")
    exchange = _exchange(session, exchange_id)
    review = Review(
        status=status,
        note=(note or "").strip() or None,
        reviewer=reviewer.strip(),
        created_at=_now(now),
    )
    exchange.reviews.append(review)
    session.flush()
    return review


# --- listing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeFilter:
    """Which exchanges to list; every criterion that is set must hold.

    ``date_from``/``date_to`` are inclusive; a plain ``date`` means that whole day (UTC).
    ``max_confidence`` keeps answers with confidence at or below it (the uncertain ones).
    """

    negative_feedback_only: bool = False
    refused_only: bool = False
    max_confidence: float | None = None
    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    topic: str | None = None
    unreviewed_only: bool = False


@dataclass(frozen=True)
class ExchangeRow:
    """One exchange with its conversation topic, feedback and latest review (plain values)."""

    id: int
    conversation_id: str
    created_at: datetime
    topic: str | None
    question: str
    standalone_query: str | None
    answer: str
    refused: bool
    confidence: float
    answerer: str
    sources: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    feedback_score: int | None
    feedback_comment: str | None
    review_status: str | None
    review_note: str | None
    reviewer: str | None
    reviewed_at: datetime | None


def _lower_bound(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value, time.min, tzinfo=UTC)


def _upper_bound(value: date | datetime) -> tuple[datetime, bool]:
    """(bound, inclusive): a datetime is inclusive; a date runs until the start of the next day."""
    if isinstance(value, datetime):
        return as_utc(value), True
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC), False


def list_exchanges(
    session: Session, filters: ExchangeFilter | None = None, limit: int | None = None
) -> list[ExchangeRow]:
    """Exchanges matching ``filters``, newest first, each with its feedback and latest review."""
    f = filters or ExchangeFilter()
    latest = select(Review.exchange_id, func.max(Review.id).label("review_id")).group_by(Review.exchange_id).subquery()
    stmt = (
        select(Exchange, Conversation.topic_filter, Feedback, Review)
        .join(Conversation, Conversation.id == Exchange.conversation_id)
        .outerjoin(Feedback, Feedback.exchange_id == Exchange.id)
        .outerjoin(latest, latest.c.exchange_id == Exchange.id)
        .outerjoin(Review, Review.id == latest.c.review_id)
    )
    if f.negative_feedback_only:
        stmt = stmt.where(Feedback.score < 0)
    if f.refused_only:
        stmt = stmt.where(Exchange.refused.is_(True))
    if f.max_confidence is not None:
        stmt = stmt.where(Exchange.confidence <= f.max_confidence)
    if f.date_from is not None:
        stmt = stmt.where(Exchange.created_at >= _lower_bound(f.date_from))
    if f.date_to is not None:
        bound, inclusive = _upper_bound(f.date_to)
        stmt = stmt.where(Exchange.created_at <= bound if inclusive else Exchange.created_at < bound)
    if f.topic:
        stmt = stmt.where(Conversation.topic_filter == f.topic)
    if f.unreviewed_only:
        stmt = stmt.where(latest.c.review_id.is_(None))
    stmt = stmt.order_by(Exchange.created_at.desc(), Exchange.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)

    rows = []
    for exchange, topic, feedback, review in session.execute(stmt):
        rows.append(
            ExchangeRow(
                id=exchange.id,
                conversation_id=exchange.conversation_id,
                created_at=exchange.created_at,
                topic=topic,
                question=exchange.question,
                standalone_query=exchange.standalone_query,
                answer=exchange.answer,
                refused=exchange.refused,
                confidence=exchange.confidence,
                answerer=exchange.answerer,
                sources=list(exchange.sources or []),
                citations=list(exchange.citations or []),
                feedback_score=feedback.score if feedback else None,
                feedback_comment=feedback.comment if feedback else None,
                review_status=review.status if review else None,
                review_note=review.note if review else None,
                reviewer=review.reviewer if review else None,
                reviewed_at=review.created_at if review else None,
            )
        )
    return rows


# --- export ------------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "datum",
    "gesprek",
    "onderwerp",
    "vraag",
    "zoekvraag",
    "antwoord",
    "geweigerd",
    "betrouwbaarheid",
    "beantwoorder",
    "bronnen",
    "feedback",
    "feedback_opmerking",
    "beoordeling",
    "beoordeling_notitie",
    "beoordelaar",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: str | None) -> str:
    """Free text for a spreadsheet: a leading = + - @ would run as a formula, so quote it."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _sources_text(sources: Sequence[Mapping[str, Any]]) -> str:
    return " | ".join(SourceRecord.from_db(source).to_csv_cell() for source in sources)


def export_csv(rows: Iterable[ExchangeRow], delimiter: str = ",") -> str:
    """The rows as CSV text with Dutch column names (see :data:`CSV_COLUMNS`).

    Text cells that a spreadsheet would run as a formula get a leading apostrophe. For Excel,
    encode the result as ``utf-8-sig``; use ``delimiter=";"`` for a Dutch-locale Excel.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        feedback = "" if row.feedback_score is None else ("+1" if row.feedback_score > 0 else "-1")
        writer.writerow(
            [
                row.id,
                row.created_at.isoformat(timespec="seconds"),
                row.conversation_id,
                row.topic or "",
                _safe_text(row.question),
                _safe_text(row.standalone_query),
                _safe_text(row.answer),
                "ja" if row.refused else "nee",
                f"{row.confidence:.3f}",
                row.answerer,
                _safe_text(_sources_text(row.sources)),
                feedback,
                _safe_text(row.feedback_comment),
                row.review_status or "",
                _safe_text(row.review_note),
                row.reviewer or "",
            ]
        )
    return buffer.getvalue()


# --- unanswered questions ----------------------------------------------------------------------


def unanswered_questions(session: Session, since: datetime | None = None) -> list[str]:
    """Questions the assistant refused to answer (gaps in the knowledge base), newest first.

    Repeats are kept, so the groups of :func:`group_similar` show how often something was asked.
    """
    stmt = select(Exchange.question).where(Exchange.refused.is_(True))
    if since is not None:
        stmt = stmt.where(Exchange.created_at >= as_utc(since))
    stmt = stmt.order_by(Exchange.created_at.desc(), Exchange.id.desc())
    return [q for q in session.scalars(stmt) if q and q.strip()]


def group_similar(
    questions: list[str],
    embed: Callable[[list[str]], Any],
    threshold: float = 0.8,
) -> list[list[str]]:
    """Group questions that mean the same thing; biggest groups first.

    Greedy: the first question not yet grouped starts a group and takes every later ungrouped
    question whose cosine similarity to it is at least ``threshold``. ``embed`` maps a list of
    texts to an ``(n, dim)`` array of (normalised) vectors; vectors are normalised again here.
    Equal-sized groups keep the order of their first question.
    """
    if not questions:
        return []
    vectors = np.asarray(embed(list(questions)), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(questions):
        raise ValueError(f"embed gaf een matrix met vorm {vectors.shape}; verwacht ({len(questions)}, dimensie).")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    similarity = vectors @ vectors.T

    assigned = np.zeros(len(questions), dtype=bool)
    groups: list[list[int]] = []
    for seed in range(len(questions)):
        if assigned[seed]:
            continue
        members = [seed] + [
            j for j in range(seed + 1, len(questions)) if not assigned[j] and similarity[seed, j] >= threshold
        ]
        assigned[members] = True
        groups.append(members)
    groups.sort(key=len, reverse=True)  # stable: ties keep first-seen order
    return [[questions[i] for i in members] for members in groups]


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else utcnow()
