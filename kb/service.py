"""One object that wires settings, store, embedding model, ingest and retrieval together.

The CLI builds one per command; the Streamlit app keeps one per process as a cached resource. Heavy parts
(the embedding model, the Chroma client) are created on first use.
"""

from __future__ import annotations

from functools import cached_property

from ingest.pipeline import IngestPipeline
from kb.answering.assistant import Assistant
from kb.config import Settings, get_settings
from kb.embeddings import Embedder, get_embedder
from kb.partners.help import PartnerHelp
from kb.retrieval.retriever import Retriever
from kb.store import KnowledgeStore


class KnowledgeBase:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def embedder(self) -> Embedder:
        return get_embedder(self.settings)

    @cached_property
    def store(self) -> KnowledgeStore:
        return KnowledgeStore(self.settings)

    @cached_property
    def pipeline(self) -> IngestPipeline:
        return IngestPipeline(self.store, self.embedder, self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, self.settings)

    @cached_property
    def partner_help(self) -> PartnerHelp:
        """Who can help on refused and uncertain answers (the partner directory, matched by embedding)."""
        return PartnerHelp(self.settings, self.embedder)

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.retriever, self.embedder, self.settings, help_finder=self.partner_help)
