"""Ingest: loaders per file type, structure-aware chunking, and the ingest pipeline."""
