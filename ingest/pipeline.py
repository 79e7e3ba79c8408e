"""The ingest pipeline: file → blocks → chunks → embeddings → store, one document at a time.

Everything that can fail (reading, parsing, chunking, embedding) happens before the store is touched, and
the store keeps the previous version until the new one is complete, so a failure never leaves a
half-ingested document. Re-ingesting an unchanged file does nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.chunking import SectionChunker, embedding_header, passages_of
from ingest.document import ParsedDocument
from ingest.errors import EmptyDocumentError, IngestError
from ingest.loaders import load_file
from kb.config import TOPICS, Settings
from kb.embeddings import Embedder
from kb.naming import make_doc_id, slugify
from kb.store import DocumentRecord, KnowledgeStore, NewChunk, StoreError, kill_point

__all__ = ["make_doc_id", "slugify"]  # they live in kb.naming; imported from here by older code

log = logging.getLogger(__name__)

Status = Literal["added", "replaced", "unchanged", "failed"]
Audit = Callable[[Any, str, "FileResult"], None]  # (session, "add"/"replace", result) in the change transaction
STATUS_NL: dict[str, str] = {
    "added": "toegevoegd",
    "replaced": "vervangen",
    "unchanged": "ongewijzigd",
    "failed": "mislukt",
}


@dataclass(frozen=True)
class DocumentOverrides:
    """Metadata given by the caller (CLI flags, upload form); wins over the file's own front matter."""

    partner: str | None = None
    topic: str | None = None
    title: str | None = None
    valid_from: str | None = None
    url: str | None = None
    language: str | None = None
    doc_id: str | None = None
    source_name: str | None = None  # the user's file name when ``path`` is a temporary upload


@dataclass
class FileResult:
    path: Path
    status: Status
    doc_id: str | None = None
    title: str | None = None
    chunks: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "status": self.status,
            "doc_id": self.doc_id,
            "title": self.title,
            "chunks": self.chunks,
            "error": self.error,
        }


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if not r.ok]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus every non-hidden file below the named folders (except the partner
    directory's data file ``partners.yaml``), sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                    and p.name != "partners.yaml"  # the starter partner directory is data (kb.partners.starter)
                )
            )
        else:
            files.append(path)
    return files


def iso_date(value: Any) -> str | None:
    """A date given as date or text, as JJJJ-MM-DD (None when empty); a clear Dutch error otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise ValueError(f"ongeldige datum '{text}': gebruik de vorm JJJJ-MM-DD") from exc


_VERSION_DATE = re.compile(r"\b(?:toestand|geldig (?:vanaf|per)|versie)\s+(\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)


def version_date(title: str) -> str | None:
    """The date a law text's title names as its version ("… toestand 2026-10-01"), if any."""
    m = _VERSION_DATE.search(title)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1)).isoformat()
    except ValueError:
        return None


class IngestPipeline:
    """Ingests files into a :class:`KnowledgeStore` with one embedding model."""

    def __init__(
        self,
        store: KnowledgeStore,
        embedder: Callable[[], Embedder],
        settings: Settings,
    ) -> None:
        self.store = store
        self._embedder = embedder
        self.settings = settings
        self.chunker = SectionChunker(settings.chunk_size, settings.chunk_overlap)

    def ingest_paths(
        self,
        paths: Iterable[Path],
        overrides: DocumentOverrides = DocumentOverrides(),
        on_result: Callable[[FileResult], None] | None = None,
        audit: Audit | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders. ``on_progress(done, total)`` counts the texts (chunks and passages) to embed:
        every file is read and chunked first, so the total is known before the first vector is computed.
        ``audit(session, action, result)`` writes each audit entry inside the store's switch transaction."""
        items = [(path, overrides) for path in collect_files(Path(p) for p in paths)]
        return self._ingest_many(items, on_result, on_progress, audit)

    def _ingest_many(
        self,
        items: list[tuple[Path, DocumentOverrides]],
        on_result: Callable[[FileResult], None] | None,
        on_progress: Callable[[int, int], None] | None,
        audit: Audit | None,
    ) -> IngestReport:
        results: list[FileResult | None] = [None] * len(items)
        prepared: list[tuple[int, _Prepared]] = []
        for i, (path, item_overrides) in enumerate(items):
            outcome = self._guard(path, functools.partial(self._prepare, path, item_overrides))
            if isinstance(outcome, FileResult):
                results[i] = outcome
                if on_result:
                    on_result(outcome)
            else:
                prepared.append((i, outcome))
        total = sum(len(p.texts) for _, p in prepared)
        done = 0
        if on_progress:
            on_progress(0, total)
        for i, prep in prepared:
            base = done

            def progress(n: int, base: int = base) -> None:
                if on_progress:
                    on_progress(base + n, total)

            result = self._guard(prep.path, functools.partial(self._commit, prep, progress, audit))
            results[i] = result
            done = base + len(prep.texts)
            if on_progress:
                on_progress(done, total)
            if on_result:
                on_result(result)
        return IngestReport([r for r in results if r is not None])

    def ingest_file(
        self,
        path: Path,
        overrides: DocumentOverrides = DocumentOverrides(),
        audit: Audit | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> FileResult:
        """Ingest one file; errors are returned in the result (never raised), with a Dutch reason.

        ``audit(session, action, result)`` writes the audit entry inside the store's switch transaction;
        ``on_progress(done, total)``: texts embedded so far of the document's total.
        """
        prep = self._guard(path, lambda: self._prepare(path, overrides))
        if isinstance(prep, FileResult):
            return prep
        total = len(prep.texts)
        progress = (lambda n: on_progress(n, total)) if on_progress else None
        result: FileResult = self._guard(path, lambda: self._commit(prep, progress, audit))
        return result

    def _guard(self, path: Path, work: Callable[[], Any]) -> Any:
        try:
            if not path.exists():
                raise IngestError(path, "bestand niet gevonden")
            return work()
        except (IngestError, StoreError) as exc:
            log.warning("%s", exc)
            return FileResult(path, "failed", error=str(exc))
        except ValueError as exc:
            log.warning("%s: %s", path.name, exc)
            return FileResult(path, "failed", error=f"{path.name}: {exc}")
        except Exception as exc:  # a bug or a store problem: report it, keep going with other files
            log.exception("ingest of %s failed", path)
            return FileResult(path, "failed", error=f"{path.name}: onverwachte fout: {exc}")

    def _prepare(self, path: Path, overrides: DocumentOverrides) -> _Prepared | FileResult:
        """Read, parse and chunk (no embedding, store untouched); an unchanged document is its result."""
        record, parsed = self._parse(path, overrides)
        previous = self.store.get_document(record.doc_id)
        if previous is not None and previous.sha256 == record.sha256 and self._current(previous, record):
            return FileResult(path, "unchanged", record.doc_id, record.title, previous.chunk_count)
        chunks = self._chunks(record, parsed, path)
        texts, titles = _texts_to_embed(chunks)
        return _Prepared(path, record, chunks, texts, titles, parsed)

    def _commit(self, prep: _Prepared, progress: Callable[[int], None] | None, audit: Audit | None) -> FileResult:
        """Embed the prepared texts and store the document (replacing its previous version)."""
        vectors = self._embedder().encode_documents(prep.texts, titles=prep.titles, progress=progress)
        result = FileResult(prep.path, "added", prep.record.doc_id, prep.record.title, len(prep.chunks))

        def in_transaction(session: Any, action: str) -> None:
            result.status = "added" if action == "add" else "replaced"
            if audit is not None:
                audit(session, action, result)

        self.store.replace_document(
            prep.record, prep.chunks, vectors, prep.parsed.full_text, original=prep.path, audit=in_transaction
        )
        return result

    def _parse(self, path: Path, overrides: DocumentOverrides) -> tuple[DocumentRecord, ParsedDocument]:
        raw = path.read_bytes() if path.stat().st_size <= self.settings.max_file_bytes else b""
        parsed = load_file(
            path,
            max_bytes=self.settings.max_file_bytes,
            max_unpacked_bytes=self.settings.max_unpacked_bytes,
        )
        sha = hashlib.sha256(raw).hexdigest()
        return self._record(path, parsed, overrides, sha), parsed

    def _embed(
        self,
        record: DocumentRecord,
        parsed: ParsedDocument,
        path: Path,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[list[NewChunk], Any]:
        chunks = self._chunks(record, parsed, path)
        texts, titles = _texts_to_embed(chunks)
        return chunks, self._embedder().encode_documents(texts, titles=titles, progress=progress)

    def _current(self, previous: DocumentRecord, record: DocumentRecord) -> bool:
        """Unchanged file and metadata, and its chunks are present for the current model."""
        same_meta = (previous.title, previous.partner, previous.topic, previous.valid_from, previous.url) == (
            record.title,
            record.partner,
            record.topic,
            record.valid_from,
            record.url,
        )
        return same_meta and len(self.store.chunks_of(previous.doc_id)) == previous.chunk_count > 0

    def _chunks(self, record: DocumentRecord, parsed: ParsedDocument, path: Path) -> list[NewChunk]:
        chunks = self.chunker.chunk(parsed)
        if not chunks:
            raise EmptyDocumentError(path, "het document bevat geen tekst om op te slaan")
        return [
            NewChunk(
                index=c.index,
                text=c.text,
                header=embedding_header(record.title, c.section),
                section=c.section,
                page_start=c.page_start,
                page_end=c.page_end,
                passages=passages_of(c.text) if self.settings.passage_vectors else (),
            )
            for c in chunks
        ]

    def _record(self, path: Path, parsed: ParsedDocument, overrides: DocumentOverrides, sha: str) -> DocumentRecord:
        meta = parsed.metadata
        source = overrides.source_name or path.name
        partner = str(overrides.partner or meta.get("partner") or self.settings.default_partner).strip()
        topic = str(overrides.topic or meta.get("topic") or "overig").strip().lower()
        if topic not in TOPICS:
            raise IngestError(path, f"onbekend onderwerp '{topic}': kies uit {', '.join(TOPICS)}")
        title = str(overrides.title or meta.get("title") or parsed.title or Path(source).stem).strip()
        extra = {
            k: v
            for k, v in meta.items()
            if k not in {"title", "topic", "partner", "language", "valid_from", "url", "doc_id"}
        }
        return DocumentRecord(
            doc_id=str(overrides.doc_id or meta.get("doc_id") or make_doc_id(partner, source)),
            source=source,
            title=title,
            partner=partner,
            topic=topic,
            language=str(overrides.language or meta.get("language") or "nl"),
            ingested_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            sha256=sha,
            kind=parsed.kind,
            valid_from=iso_date(overrides.valid_from or meta.get("valid_from")) or version_date(title),
            url=(overrides.url or meta.get("url") or None),
            extra=extra,
        )

    def reindex(
        self,
        on_result: Callable[[FileResult], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Re-embed every document from its kept original into a new chunk collection, then switch.

        Searches use the current collection until the new one holds every live version; the switch is one
        SQL transaction. Documents changed meanwhile are rebuilt before the switch (a few rounds at most).
        ``on_progress(done, total)`` counts the texts embedded; the total is the live documents' chunk count.
        """
        target = self.store.begin_rebuild()
        total = sum(record.chunk_count for record, _ in self.store.live_records())
        done = 0
        built: dict[str, tuple[str, int]] = {}
        failed: dict[str, str] = {}
        results: dict[str, FileResult] = {}
        try:
            for _round in range(5):
                for record, version in self.store.live_records():
                    if built.get(record.doc_id, ("",))[0] == version or failed.get(record.doc_id) == version:
                        continue
                    base = done

                    def progress(n: int, base: int = base) -> None:
                        if on_progress:
                            on_progress(base + n, max(total, base + n))

                    result = self._rebuild_one(target, record, version, progress)
                    done = base + (result.chunks if result.ok else 0)
                    if result.ok:
                        built[record.doc_id] = (version, result.chunks)
                        failed.pop(record.doc_id, None)
                    else:
                        failed[record.doc_id] = version
                    results[record.doc_id] = result
                    if on_result:
                        on_result(result)
                kill_point("reindex_built")
                if self.store.finish_rebuild(target, built, failed):
                    break
            else:
                raise StoreError("De documenten veranderden steeds tijdens het opnieuw opbouwen; probeer het later.")
        except BaseException:
            self.store.drop_rebuild(target)
            raise
        return IngestReport(list(results.values()))

    def _rebuild_one(
        self, target: Any, record: DocumentRecord, version: str, progress: Callable[[int], None] | None = None
    ) -> FileResult:
        original = self.store.original_path(record)
        if original is None:
            return FileResult(
                Path(record.source),
                "failed",
                record.doc_id,
                record.title,
                error=f"{record.source}: origineel ontbreekt; voeg het document opnieuw toe",
            )
        overrides = DocumentOverrides(
            partner=record.partner,
            topic=record.topic,
            title=record.title,
            valid_from=record.valid_from,
            url=record.url,
            language=record.language,
            doc_id=record.doc_id,
            source_name=record.source,
        )
        try:
            fresh, parsed = self._parse(original, overrides)
            chunks, vectors = self._embed(fresh, parsed, original, progress)
            self.store.add_chunks(target, record, version, chunks, vectors)
        except (IngestError, ValueError) as exc:
            return FileResult(original, "failed", record.doc_id, record.title, error=f"{record.source}: {exc}")
        return FileResult(original, "replaced", record.doc_id, record.title, len(chunks))


def _texts_to_embed(chunks: list[NewChunk]) -> tuple[list[str], list[str]]:
    """Every text a document embeds (its chunks, then their passages) and the context header of each."""
    texts = [c.text for c in chunks] + [p for c in chunks for p in c.passages]
    titles = [c.header for c in chunks] + [c.header for c in chunks for _ in c.passages]
    return texts, titles


@dataclass
class _Prepared:
    """A document read and chunked, waiting for its vectors."""

    path: Path
    record: DocumentRecord
    chunks: list[NewChunk]
    texts: list[str]
    titles: list[str]
    parsed: ParsedDocument
