"""Retrieval: dense (embedding) and lexical (BM25) search, fused and ranked into citable hits."""

from kb.retrieval.types import Hit, SearchFilters

__all__ = ["Hit", "SearchFilters"]
