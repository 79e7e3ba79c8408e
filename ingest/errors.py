"""Errors raised while ingesting one file. Messages are Dutch: they reach volunteers and partners."""

from __future__ import annotations

from pathlib import Path

from kb.errors import KbError


class IngestError(KbError):
    """A file could not be ingested. ``reason`` is a short Dutch, actionable explanation."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


class UnsupportedFileError(IngestError):
    """The file type is not one we ingest (or content and extension disagree)."""


class EmptyDocumentError(IngestError):
    """The file has no usable text (empty, or a scanned PDF without a text layer)."""


class FileTooLargeError(IngestError):
    """The file, or what it unpacks to, exceeds the configured limit."""


class CorruptFileError(IngestError):
    """The file is damaged, encrypted, or cannot be decoded."""
