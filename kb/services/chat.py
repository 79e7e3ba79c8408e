"""What the chat page needs: ask, store the finished answer, feedback, the text of a source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from kb.answering.types import Turn
from kb.db.app_queries import clear_feedback, ensure_conversation, record_answer, save_thumbs
from kb.db.conversations import (
    MAX_RECENT,
    ConversationSummary,
    StoredExchange,
    conversation_exchanges,
    conversation_topic,
    recent_conversations,
)
from kb.db.engine import session_scope
from kb.retrieval.types import SearchFilters

if TYPE_CHECKING:
    from kb.answering.types import Answer
    from kb.service import KnowledgeBase


class ChatService:
    max_recent: int = MAX_RECENT  # conversations a browser can reopen

    def __init__(self, kb: KnowledgeBase, engine: Engine) -> None:
        self.kb = kb
        self.engine = engine

    def conversation(self, conversation_id: str) -> tuple[list[StoredExchange], str | None]:
        """A stored conversation to reopen: its exchanges (oldest first) and its topic filter."""
        with session_scope(self.engine) as session:
            return conversation_exchanges(session, conversation_id), conversation_topic(session, conversation_id)

    def recent_conversations(self, ids: list[str]) -> list[ConversationSummary]:
        """Summaries of this browser's recent conversations (by their ids), for "Recente gesprekken"."""
        with session_scope(self.engine) as session:
            return recent_conversations(session, ids)

    def ask(self, question: str, history: list[Turn], topic: str | None = None) -> Any:
        """A streaming answer (iterate for the text; ``.answer`` is the verified answer at the end)."""
        return self.kb.assistant.ask(question, history, SearchFilters(topic=topic))

    def record(self, answer: Answer, conversation_id: str | None, topic: str | None) -> tuple[str, int]:
        """Store a finished answer in its conversation: (conversation id, exchange id), one transaction."""
        with session_scope(self.engine) as session:
            conversation = ensure_conversation(session, conversation_id, topic)
            exchange = record_answer(session, conversation, answer)
            return conversation, exchange.id

    def feedback(self, exchange_id: int, thumbs: int | None, comment: str | None = None) -> None:
        """Thumbs up (1) / down (0) with an optional comment; None removes the feedback."""
        with session_scope(self.engine) as session:
            if thumbs is None:
                clear_feedback(session, exchange_id)
            else:
                save_thumbs(session, exchange_id, int(thumbs), comment)

    def document_text(self, doc_id: str) -> str | None:
        """The full text of a source document (sources are public)."""
        return self.kb.store.document_text(doc_id)
