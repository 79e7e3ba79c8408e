"""The names the documents page shows from ingest and the store, re-exported so pages import services only."""

from ingest.loaders.detect import SUPPORTED_TYPES_NL
from ingest.pipeline import STATUS_NL, FileResult
from kb.store import DocumentRecord

__all__ = ["STATUS_NL", "SUPPORTED_TYPES_NL", "DocumentRecord", "FileResult"]
