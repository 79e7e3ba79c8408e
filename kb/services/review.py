"""The review of questions and answers (staff), the knowledge gaps (staff all, a partner those of their own
topics, without who asked or when), and removing conversations older than the retention period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, select

from kb.access import PermissionDeniedError, Principal
from kb.db.app_queries import QuestionGroup, require_staff, review_as
from kb.db.engine import session_scope
from kb.db.history import ExchangeFilter, ExchangeRow, export_csv, group_similar, list_exchanges
from kb.db.models import Conversation, Document, Exchange, Organisation, utcnow
from kb.naming import organisation_key

if TYPE_CHECKING:
    from kb.service import KnowledgeBase


class ReviewService:
    def __init__(self, kb: KnowledgeBase, engine: Engine) -> None:
        self.kb = kb
        self.engine = engine

    # ------------------------------------------------------------------------------- staff review
    def exchanges(self, principal: Principal, filters: ExchangeFilter, limit: int = 2000) -> list[ExchangeRow]:
        require_staff(principal)
        with session_scope(self.engine) as session:
            return list_exchanges(session, filters, limit=limit)

    def review(self, principal: Principal, exchange_id: int, status: str, note: str | None = None) -> None:
        with session_scope(self.engine) as session:
            review_as(session, principal, exchange_id, status, note)

    @staticmethod
    def export_csv(rows: list[ExchangeRow]) -> bytes:
        return export_csv(rows, delimiter=";").encode("utf-8-sig")

    # ------------------------------------------------------------------------------- knowledge gaps
    def unanswered_questions(self, principal: Principal, since: datetime | None = None) -> list[str]:
        """The refused questions a principal may see, newest first (only the text: no who, no when).

        Staff see all. A partner sees those of the topics their organisation has documents on: the topic
        chosen in the chat, else the topic of the best retrieved source.
        """
        if principal.role not in ("staff", "partner"):
            raise PermissionDeniedError("Log in als partner of medewerker om de ontbrekende onderwerpen te zien.")
        with session_scope(self.engine) as session:
            stmt = (
                select(Exchange.question, Exchange.sources, Conversation.topic_filter)
                .join(Conversation, Exchange.conversation_id == Conversation.id)
                .where(Exchange.refused.is_(True))
                .order_by(Exchange.created_at.desc(), Exchange.id.desc())
            )
            if since is not None:
                stmt = stmt.where(Exchange.created_at >= since)
            rows = session.execute(stmt).all()
            topic_of_doc = dict(session.execute(select(Document.doc_id, Document.topic)).all())
            own_topics: set[str] = set()
            if principal.role == "partner":
                own_topics = {
                    t
                    for (t,) in session.execute(
                        select(Document.topic)
                        .join(Organisation)
                        .where(Organisation.key == organisation_key(principal.partner_org))
                        .distinct()
                    )
                }
        out = []
        for question, sources, topic_filter in rows:
            if not question or not question.strip():
                continue
            if principal.role == "partner":
                ranked = sorted(sources or [], key=lambda s: s.get("rank") or 0)
                topic = topic_filter or next(
                    (topic_of_doc[s["doc_id"]] for s in ranked if s.get("doc_id") in topic_of_doc), None
                )
                if topic not in own_topics:
                    continue
            out.append(question)
        return out

    def unanswered_groups(self, principal: Principal, threshold: float = 0.8) -> list[QuestionGroup]:
        questions = self.unanswered_questions(principal)
        embed = lambda texts: self.kb.embedder().encode_queries(texts)  # noqa: E731
        return [QuestionGroup(g) for g in group_similar(questions, embed, threshold=threshold)]

    # ------------------------------------------------------------------------------- retention
    def purge(self, retention_days: int | None = None, now: datetime | None = None) -> int:
        """Remove conversations whose newest exchange (or, when empty, its start) is older than the retention
        period, with their exchanges, feedback and reviews. Returns the number removed."""
        days = retention_days if retention_days is not None else self.kb.settings.retention_days
        cutoff = (now or utcnow()) - timedelta(days=days)
        with session_scope(self.engine) as session:
            recent = select(Exchange.conversation_id).where(Exchange.created_at >= cutoff)
            old = list(
                session.scalars(
                    select(Conversation.id).where(Conversation.created_at < cutoff, Conversation.id.not_in(recent))
                )
            )
            if old:
                session.execute(delete(Exchange).where(Exchange.conversation_id.in_(old)))
                session.execute(delete(Conversation).where(Conversation.id.in_(old)))
            return len(old)
