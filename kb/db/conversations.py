"""A volunteer's own recent conversations, reopened on the same browser.

The browser keeps the ids of its recent conversations (random UUIDs, unguessable) in a cookie; these
functions read back what was asked and answered in them. Nothing here lists other people's conversations:
every query is by the ids the browser holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.db.models import Conversation, Exchange, Feedback

MAX_RECENT = 10


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    started_at: datetime
    last_at: datetime
    first_question: str
    questions: int
    topic_filter: str | None


@dataclass(frozen=True)
class StoredExchange:
    id: int
    question: str
    answer: str
    refused: bool
    citations: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    feedback: int | None  # +1 / -1


def recent_conversations(session: Session, ids: list[str]) -> list[ConversationSummary]:
    """Summaries of the conversations ``ids`` that exist and have a question, newest first."""
    wanted = [i for i in dict.fromkeys(ids) if i][:MAX_RECENT]
    if not wanted:
        return []
    stats = (
        select(
            Exchange.conversation_id,
            func.min(Exchange.id).label("first_id"),
            func.max(Exchange.created_at).label("last_at"),
            func.count(Exchange.id).label("n"),
        )
        .where(Exchange.conversation_id.in_(wanted))
        .group_by(Exchange.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Conversation, stats.c.last_at, stats.c.n, Exchange.question)
        .join(stats, stats.c.conversation_id == Conversation.id)
        .join(Exchange, Exchange.id == stats.c.first_id)
    ).all()
    summaries = [
        ConversationSummary(c.id, c.created_at, last_at, question, int(n), c.topic_filter)
        for c, last_at, n, question in rows
    ]
    return sorted(summaries, key=lambda s: s.last_at, reverse=True)


def conversation_exchanges(session: Session, conversation_id: str) -> list[StoredExchange]:
    """The questions and answers of one conversation, in order, with the volunteer's feedback."""
    rows = session.execute(
        select(Exchange, Feedback.score)
        .outerjoin(Feedback, Feedback.exchange_id == Exchange.id)
        .where(Exchange.conversation_id == conversation_id)
        .order_by(Exchange.id)
    ).all()
    return [
        StoredExchange(
            e.id, e.question, e.answer, bool(e.refused), list(e.citations or []), list(e.sources or []), score
        )
        for e, score in rows
    ]


def conversation_topic(session: Session, conversation_id: str) -> str | None:
    conversation = session.get(Conversation, conversation_id)
    return conversation.topic_filter if conversation else None
