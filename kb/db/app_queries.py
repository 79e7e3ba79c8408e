"""What the Streamlit app needs from the database beyond ``kb.db.history``: storing a finished
:class:`~kb.answering.types.Answer`, feedback from the thumbs widget, staff-only reviews, and the
unanswered questions grouped for staff and partners.

Functions take an open Session and flush; the caller commits (``session_scope``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from kb.access import PermissionDeniedError, Principal
from kb.db.history import (
    add_feedback,
    group_similar,
    record_exchange,
    review_exchange,
    start_conversation,
    unanswered_questions,
)
from kb.db.models import Conversation, Exchange, Feedback, Review
from kb.source_record import SourceRecord

if TYPE_CHECKING:
    from kb.answering.types import Answer

#: ``st.feedback("thumbs")`` returns 0 for thumbs down and 1 for thumbs up.
THUMBS_TO_SCORE: dict[int, int] = {0: -1, 1: 1}


def require_staff(principal: Principal) -> None:
    """Raise :class:`PermissionDeniedError` (Dutch) unless ``principal`` is a staff member."""
    if principal.role != "staff":
        raise PermissionDeniedError(
            "Alleen medewerkers van SamenWeten kunnen vragen en antwoorden beoordelen. "
            "Log in met een medewerkersaccount."
        )


def ensure_conversation(session: Session, conversation_id: str | None, topic_filter: str | None) -> str:
    """The id of a stored conversation with this topic filter: ``conversation_id`` when it exists and
    has the same topic, else a new conversation (the review filters by the topic chosen in the app)."""
    if conversation_id:
        existing = session.get(Conversation, conversation_id)
        if existing is not None and (existing.topic_filter or None) == (topic_filter or None):
            return existing.id
    return start_conversation(session, topic_filter=topic_filter).id


def answer_sources(answer: Answer) -> list[dict[str, Any]]:
    """Every retrieved source of ``answer`` (ids, title, section, score, rank), JSON-safe."""
    return [SourceRecord.from_hit(h).to_db() for h in answer.hits]


def answer_citations(answer: Answer) -> list[dict[str, Any]]:
    """The numbered citations of ``answer`` (n, ids, section, quote), JSON-safe."""
    return [c.to_db() for c in answer.citations]


def record_answer(session: Session, conversation_id: str, answer: Answer, now: datetime | None = None) -> Exchange:
    """Store a finished answer with the ids and scores of all its sources and its citations."""
    return record_exchange(
        session,
        conversation_id,
        answer.question,
        answer.text,
        standalone_query=answer.standalone_query,
        refused=answer.refused,
        confidence=answer.confidence,
        answerer=answer.answerer,
        sources=answer_sources(answer),
        citations=answer_citations(answer),
        now=now,
    )


def save_thumbs(session: Session, exchange_id: int, thumbs: int, comment: str | None = None) -> Feedback:
    """Store the value of ``st.feedback("thumbs")`` (0 = down, 1 = up) with an optional comment."""
    if thumbs not in THUMBS_TO_SCORE:
        raise ValueError(f"Onbekende feedbackwaarde {thumbs!r}: verwacht 0 (duim omlaag) of 1 (duim omhoog).")
    return add_feedback(session, exchange_id, THUMBS_TO_SCORE[thumbs], comment)


def clear_feedback(session: Session, exchange_id: int) -> bool:
    """Remove the feedback on an exchange (the volunteer unselected the thumb). True when there was one."""
    feedback = session.get(Feedback, exchange_id)
    if feedback is None:
        return False
    session.delete(feedback)
    session.flush()
    return True


def review_as(session: Session, principal: Principal, exchange_id: int, status: str, note: str | None = None) -> Review:
    """A staff member marks an answer ``checked`` or ``incorrect``; anyone else is refused."""
    require_staff(principal)
    return review_exchange(session, exchange_id, status, note=note, reviewer=principal.username or "")


@dataclass(frozen=True)
class QuestionGroup:
    """Unanswered questions that mean the same thing; ``questions[0]`` is the most recent."""

    questions: list[str]

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def example(self) -> str:
        return self.questions[0]

    @property
    def variants(self) -> list[str]:
        """The distinct wordings (ignoring case, spacing and punctuation), in order of first appearance."""
        seen: dict[str, str] = {}
        for q in self.questions:
            seen.setdefault(" ".join(re.findall(r"\w+", q.casefold())), q)
        return list(seen.values())


def unanswered_groups(
    session: Session,
    embed: Callable[[list[str]], Any],
    since: datetime | None = None,
    threshold: float = 0.8,
) -> list[QuestionGroup]:
    """The refused questions, grouped by meaning (``embed`` maps texts to vectors), biggest first."""
    questions = unanswered_questions(session, since=since)
    return [QuestionGroup(g) for g in group_similar(questions, embed, threshold=threshold)]
