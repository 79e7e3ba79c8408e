"""The partner directory for the pages: :class:`PartnersService` (``kb.partners.directory.DirectoryService``
plus the knowledge gaps on a partner's topics (the review service's privacy rule) and the directory's recent changes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from kb.access import Principal
from kb.db.directory import AUDIT_PREFIX, SUGGESTED_KINDS, SUGGESTED_TOPICS, DirectoryError, EntryData
from kb.naming import organisation_key
from kb.partners.directory import DirectoryService, EntryView

if TYPE_CHECKING:
    from kb.service import KnowledgeBase

__all__ = [
    "SUGGESTED_KINDS",
    "SUGGESTED_TOPICS",
    "DirectoryError",
    "EntryData",
    "EntryView",
    "PartnersService",
    "organisation_key",
]


class PartnersService(DirectoryService):
    def __init__(self, kb: KnowledgeBase, engine: Engine) -> None:
        super().__init__(engine, kb.store)
        self.kb = kb

    def gaps_for(self, principal: Principal) -> list[Any]:
        """The knowledge gaps a partner may see: the grouped refused questions on the topics of their
        documents, without who asked or when (the privacy rule of :class:`kb.services.review.ReviewService`)."""
        from kb.services.review import ReviewService

        return ReviewService(self.kb, self.engine).unanswered_groups(principal)

    def recent_changes(self, limit: int = 50) -> list[Any]:
        from kb.db.audit import list_events
        from kb.db.engine import session_scope

        with session_scope(self.engine) as session:
            return [e for e in list_events(session, limit=500) if e.doc_id.startswith(AUDIT_PREFIX)][:limit]
