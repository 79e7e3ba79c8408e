"""Who can help: the organisations named on a refused or uncertain answer (the ``help`` of an answer).

:class:`PartnerHelp` reads the directory from the database, keeps the organisations with at least one public
contact route (an entry without one adds nothing to the general support pointer of the refusal), and ranks
them for the answer's stand-alone question with :class:`kb.partners.matching.PartnerMatcher`. A database that
cannot be read costs the help, never the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kb.config import Settings
from kb.embeddings import Embedder
from kb.partners.matching import HelpSuggestion, OrganisationProfile, PartnerMatcher

log = logging.getLogger(__name__)

SOURCE_TOPICS = 3  # the retrieved sources whose topics may count for an organisation


def needs_help(answer: Any) -> bool:
    """Refusals and answers marked uncertain get help (``uncertain`` may not exist on older answers)."""
    return bool(answer.refused or getattr(answer, "uncertain", False))


class PartnerHelp:
    """Callable on a finished answer: the suggestions as JSON-ready dicts (empty for a normal answer)."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.matcher = PartnerMatcher(
            embedder,
            floor=settings.partner_match_floor,
            limit=settings.partner_match_max,
            topic_weight=settings.partner_topic_weight,
            margin=settings.partner_match_margin,
        )

    def profiles(self, contactable_only: bool = True) -> list[OrganisationProfile]:
        """The directory's organisations (by default only those with a public contact route)."""
        from kb.db.directory import list_entries
        from kb.db.engine import init_db, session_scope

        with session_scope(init_db(self.settings.resolved_database_url())) as session:
            entries = list_entries(session)
            return [OrganisationProfile.from_entry(e) for e in entries if e.contact() or not contactable_only]

    def suggest(self, question: str, source_topics: list[str] | None = None) -> list[HelpSuggestion]:
        if self.settings.partner_match_max == 0:
            return []
        return self.matcher.match(question, self.profiles(), source_topics or [])

    def __call__(self, answer: Any) -> list[dict[str, Any]]:
        if not needs_help(answer):
            return []
        question = answer.standalone_query or answer.question
        topics = [h.chunk.topic for h in answer.hits[:SOURCE_TOPICS]]
        try:
            return [s.to_dict() for s in self.suggest(question, topics)]
        except Exception:  # the answer stands without help
            log.exception("de partnergids kon niet worden geraadpleegd")
            return []
