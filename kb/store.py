"""The knowledge store: the document register in SQL, chunks and vectors in Chroma, originals on disk.

* SQL (``kb.db``, SQLite or PostgreSQL) is the one source of truth: organisations, documents (metadata,
  full text, the live version), document versions and a revision counter that every change bumps in the
  same transaction (an atomic ``UPDATE … SET number = number + 1``), so every process notices changes.
* Chroma (embedded, or a ``chroma run`` server when ``KB_CHROMA_HOST`` is set) holds only chunks and their
  vectors, each tagged with its document version. A chunk counts only when its version is live in SQL: a
  version being written, or one just replaced, is invisible to searches.
* Originals are kept under ``originals/<sha256 of the document id>/<version>/``.

A change is crash-safe by its order: (1) a ``pending`` version row is committed, (2) the original is copied
and the chunks are written, (3) one transaction makes the version live, supersedes the old one, writes the
audit entry and bumps the revision, (4) the old version's chunks and original are deleted and its row too.
A kill before (3) leaves an invisible pending version, after it an invisible superseded one; the start-up
sweep (:meth:`KnowledgeStore.recover`) finishes either. ``KB_TEST_KILL_AT=<step>`` kills the process at a
named step (tests only).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from kb.config import Settings
from kb.db.engine import init_db, session_scope
from kb.db.models import Document, DocumentVersion, Organisation, StoreState, utcnow
from kb.embeddings import ChromaEmbeddingFunction
from kb.errors import KbError
from kb.naming import organisation_key

log = logging.getLogger(__name__)

_LEGACY_REVISION_ID = "__revision__"
_GET_PAGE = 2000
_ADD_BATCH = 500
KILL_ENV = "KB_TEST_KILL_AT"  # test hook: SIGKILL this process at the named step
PAUSE_ENV = "KB_TEST_PAUSE_AT"  # test hook: pause this process at the named step
STALE_REMOTE_OWNER_S = 6 * 3600  # a pending version of another host counts as abandoned after this long
RETIRED_GRACE_S = 120.0  # a collection replaced by ``kb reindex`` stays this long for searches in flight


class StoreError(KbError):
    """The store cannot be reached or used; the message is Dutch and says what to do."""


@dataclass
class DocumentRecord:
    """Everything we know about one ingested document."""

    doc_id: str
    source: str
    title: str
    partner: str
    topic: str
    language: str
    ingested_at: str
    sha256: str
    kind: str
    chunk_count: int = 0
    valid_from: str | None = None
    url: str | None = None
    original: str | None = None  # path of the kept original, relative to the originals folder
    extra: dict[str, Any] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        data = asdict(self)
        data["extra"] = json.dumps(self.extra, ensure_ascii=False, default=str)
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_row(cls, doc: Document) -> DocumentRecord:
        return cls(
            doc_id=doc.doc_id,
            source=doc.source,
            title=doc.title,
            partner=doc.organisation.name,
            topic=doc.topic,
            language=doc.language,
            ingested_at=doc.ingested_at,
            sha256=doc.sha256,
            kind=doc.kind,
            chunk_count=doc.chunk_count,
            valid_from=doc.valid_from,
            url=doc.url,
            original=doc.original,
            extra=dict(doc.extra or {}),
        )

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocumentRecord:
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in meta.items() if k in known}
        data["extra"] = json.loads(meta.get("extra") or "{}")
        data["chunk_count"] = int(meta.get("chunk_count", 0))
        return cls(**data)


_PASSAGE_ID = re.compile(r"::p\d+$")


def parent_chunk_id(vector_id: str) -> str:
    """The chunk a vector belongs to: passage vectors have ids ``<chunk id>::pNNN``."""
    return _PASSAGE_ID.sub("", vector_id)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as it lives in the store."""

    chunk_id: str
    doc_id: str
    text: str
    header: str
    title: str
    source: str
    partner: str
    topic: str
    section: tuple[str, ...]
    page_start: int | None
    page_end: int | None
    index: int
    valid_from: str | None = None
    url: str | None = None

    @property
    def indexed_text(self) -> str:
        """What the lexical index sees: the context header and the text."""
        return f"{self.header}\n\n{self.text}" if self.header else self.text

    @classmethod
    def from_record(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> StoredChunk:
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta["doc_id"]),
            text=text,
            header=str(meta.get("header", "")),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            partner=str(meta.get("partner", "")),
            topic=str(meta.get("topic", "overig")),
            section=tuple(json.loads(meta.get("section", "[]"))),
            page_start=_opt_int(meta.get("page_start")),
            page_end=_opt_int(meta.get("page_end")),
            index=int(meta.get("chunk_index", 0)),
            valid_from=meta.get("valid_from"),
            url=meta.get("url"),
        )


@dataclass(frozen=True)
class NewChunk:
    """A chunk ready to be stored: text, context header, section and pages.

    ``passages`` are smaller pieces of the chunk (its paragraphs) that get their own vectors: a question that
    matches one paragraph well finds the whole chunk (small-to-big retrieval).
    """

    index: int
    text: str
    header: str
    section: tuple[str, ...]
    page_start: int | None
    page_end: int | None
    passages: tuple[str, ...] = ()


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def collection_suffix(model: str) -> str:
    """A Chroma-safe collection suffix for a model name or path."""
    base = Path(model).name if ("/" in model or "\\" in model) else model
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", base).strip("-_").lower() or "model"
    return slug[:60]


def make_client(settings: Settings, fresh: bool = False) -> Any:
    """A Chroma client: HttpClient for a server, else a persistent client on the store folder.

    Embedded Chroma keeps each collection's vector index in memory and never sees what another process
    added later; ``fresh`` opens a new one that loads the current state from disk (the old one keeps
    serving whoever still holds it).
    """
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        folder = settings.resolved_store_dir() / "chroma"
        folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(folder), None)
        return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exceptions / ValueErrors for connection problems
        where = (
            f"Chroma-server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"map {settings.resolved_store_dir()}"
        )
        raise StoreError(f"Kan de kennisbank niet openen ({where}): {exc}") from exc


def kill_point(step: str) -> None:
    """Test hooks: ``KB_TEST_KILL_AT=<step>`` makes this process SIGKILL itself here (nothing is cleaned
    up); ``KB_TEST_PAUSE_AT=<step>:<seconds>`` makes it wait there (to let another process act meanwhile)."""
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
    pause = os.environ.get(PAUSE_ENV, "")
    if pause.startswith(step + ":"):
        time.sleep(float(pause.rsplit(":", 1)[1]))


def owner_id() -> str:
    """Who is writing: ``host:pid``; the sweep leaves the pending work of a live owner alone."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str, created_at: Any) -> bool:
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname():
        age = (utcnow() - created_at).total_seconds() if created_at is not None else 0.0
        return age < STALE_REMOTE_OWNER_S
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")  # a zombie is dead


def original_folder(doc_id: str) -> str:
    """The folder of a document's originals: a hash of its id, so two long ids never share one."""
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]


def version_of(chunk_id: str) -> str:
    """The version a chunk id (``<doc id>::<version>::<index>``) belongs to."""
    parts = parent_chunk_id(chunk_id).rsplit("::", 2)
    return parts[1] if len(parts) == 3 else ""


class _CollectionMoved(Exception):
    """The active chunk collection changed (a reindex switched) while a change was being written."""


class KnowledgeStore:
    """Documents in SQL, chunks in Chroma, the kept originals on disk."""

    def __init__(self, settings: Settings, client: Any | None = None, engine: Engine | None = None) -> None:
        self.settings = settings
        self._embedded = client is None and not settings.chroma_host
        # a store opened now sees the store as it is on disk now (not an older in-process index)
        self.client = client if client is not None else make_client(settings, fresh=self._embedded)
        self._client_revision: int | None = None
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self.engine = engine if engine is not None else init_db(settings.resolved_database_url())
        self.embedding_function = ChromaEmbeddingFunction(settings.embed_model)
        self.base_name = f"{settings.collection_prefix}_chunks_{collection_suffix(settings.embed_model)}"
        self._active_key = f"active:{self.base_name}"
        self.originals_dir = settings.resolved_store_dir() / "originals"
        self._revision_read: tuple[float, int] | None = None
        self._collection_cache: tuple[int, str, Any] | None = None
        self._live_cache: tuple[int, dict[str, str]] | None = None
        self._ensure_active_collection()
        with self.writing():
            self._take_over_chroma_register()
        self.recover()

    # ----------------------------------------------------------------------------- processes
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's write lock (embedded Chroma: one writing process at a time, across processes)
        and make sure this process's Chroma client has seen every earlier write."""
        with self._thread_lock:
            if not self._embedded or self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            lock_path = self.settings.resolved_store_dir() / "write.lock"
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(lock_path, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._lock_depth += 1
                try:
                    self._refresh_client()
                    yield
                finally:
                    self._lock_depth -= 1
                    self._client_revision = self.revision()  # our own writes are in our client
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _refresh_client(self) -> None:
        """Embedded mode: a new client when another process changed the store since ours was opened."""
        if not self._embedded:
            return
        revision = self.revision()
        if self._client_revision is None:
            self._client_revision = revision
        elif revision != self._client_revision:
            self.client = make_client(self.settings, fresh=True)
            self._collection_cache = None
            self._client_revision = revision

    # ----------------------------------------------------------------------------- sql helpers
    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def _bump(self, session: Session) -> None:
        """Bump the revision first thing in a change transaction: it takes the write lock (SQLite) or the
        row lock (PostgreSQL), so change transactions run one after the other and never lose an update."""
        session.execute(
            update(StoreState)
            .where(StoreState.key == "revision")
            .values(number=StoreState.number + 1, updated_at=utcnow())
        )
        self._revision_read = None

    def _state_text(self, session: Session, key: str) -> str | None:
        row = session.get(StoreState, key)
        return row.text if row is not None else None

    def _set_state(self, session: Session, key: str, text: str | None, number: int = 0) -> None:
        row = session.get(StoreState, key)
        if row is None:
            session.add(StoreState(key=key, text=text, number=number, updated_at=utcnow()))
        else:
            row.text, row.number, row.updated_at = text, number, utcnow()

    def _organisation(self, session: Session, name: str) -> Organisation:
        key = organisation_key(name)
        if not key:
            raise StoreError("Een document hoort bij een organisatie: de naam van de partner ontbreekt.")
        org = session.scalar(select(Organisation).where(Organisation.key == key))
        if org is None:
            org = Organisation(key=key, name=name.strip())
            session.add(org)
            session.flush()
        return org

    # ----------------------------------------------------------------------------- collections
    def _open_collection(self, name: str, create: bool = False) -> Any:
        if create:
            return self.client.get_or_create_collection(
                name=name, embedding_function=self.embedding_function, configuration={"hnsw": {"space": "cosine"}}
            )
        return self.client.get_collection(name=name, embedding_function=self.embedding_function)

    def _ensure_active_collection(self) -> None:
        with self._tx() as s:
            if self._state_text(s, self._active_key) is None:
                self._bump(s)  # serialises two processes starting at once
                if self._state_text(s, self._active_key) is None:
                    self._set_state(s, self._active_key, self.base_name)
        self._open_collection(self.active_collection_name(), create=True)

    def active_collection_name(self) -> str:
        with self._tx() as s:
            return self._state_text(s, self._active_key) or self.base_name

    @property
    def chunks(self) -> Any:
        """The active chunk collection of this model (it changes when ``kb reindex`` switches)."""
        revision = self.revision(max_age=1.0)
        cached = self._collection_cache
        if cached is None or cached[0] != revision:
            if not self._lock_depth:
                self._refresh_client()
                cached = self._collection_cache
            name = self.active_collection_name()
            handle = cached[2] if cached is not None and cached[1] == name else self._open_collection(name, create=True)
            self._collection_cache = cached = (revision, name, handle)
        return cached[2]

    def _model_collections(self) -> list[Any]:
        """Every chunk collection of this model: the active one, and any being built or retired."""
        names = []
        for item in self.client.list_collections():
            name = item if isinstance(item, str) else item.name
            if name == self.base_name or name.startswith(self.base_name + "__"):
                names.append(name)
        return [self._open_collection(n) for n in names]

    # ----------------------------------------------------------------------------- documents
    def _live(self) -> dict[str, str]:
        """doc id → live version (cached per revision)."""
        revision = self.revision(max_age=1.0)
        if self._live_cache is None or self._live_cache[0] != revision:
            with self._tx() as s:
                rows = s.execute(select(Document.doc_id, Document.current_version)).all()
            self._live_cache = (revision, dict(rows))
        return self._live_cache[1]

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        with self._tx() as s:
            doc = s.get(Document, doc_id)
            return DocumentRecord.from_row(doc) if doc is not None else None

    def document_text(self, doc_id: str) -> str | None:
        with self._tx() as s:
            return s.scalar(select(Document.full_text).where(Document.doc_id == doc_id))

    def list_documents(self, partner: str | None = None) -> list[DocumentRecord]:
        stmt = select(Document).join(Organisation)
        if partner is not None:
            stmt = stmt.where(Organisation.key == organisation_key(partner))
        with self._tx() as s:
            records = [DocumentRecord.from_row(d) for d in s.scalars(stmt)]
        return sorted(records, key=lambda r: (r.partner.casefold(), r.title.casefold()))

    def organisation_name(self, name: str) -> str:
        """The registered spelling of an organisation (matched by key), or ``name`` itself when new."""
        with self._tx() as s:
            known = s.scalar(select(Organisation.name).where(Organisation.key == organisation_key(name)))
        return known or name.strip()

    def organisations(self) -> list[Organisation]:
        """Every known organisation, by name."""
        with self._tx() as s:
            return sorted(s.scalars(select(Organisation)), key=lambda o: o.name.casefold())

    def original_path(self, record: DocumentRecord) -> Path | None:
        if not record.original:
            return None
        path = self.originals_dir / record.original
        return path if path.exists() else None

    # ----------------------------------------------------------------------------- chunks
    def chunk_count(self) -> int:
        """Chunks of the live versions (what searches see)."""
        with self._tx() as s:
            return int(sum(s.scalars(select(Document.chunk_count))))

    def vector_count(self) -> int:
        """Every record in the active collection, live or not (for checks: no orphans)."""
        return int(self.chunks.count())

    def iter_chunks(self) -> Iterator[StoredChunk]:
        live = self._live()
        for rid, meta, text in self._iter_records(
            self.chunks, include=["metadatas", "documents"], where={"kind": "chunk"}
        ):
            if live.get(str(meta.get("doc_id"))) == meta.get("version"):
                yield StoredChunk.from_record(rid, text, meta)

    def chunks_of(self, doc_id: str) -> list[StoredChunk]:
        version = self._live().get(doc_id)
        if version is None:
            return []
        got = self.chunks.get(
            where={"$and": [{"doc_id": doc_id}, {"version": version}, {"kind": "chunk"}]},
            include=["metadatas", "documents"],
        )
        chunks = [
            StoredChunk.from_record(i, t, m)
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=False)
        ]
        return sorted(chunks, key=lambda c: c.index)

    def _is_live(self, chunk_id: str, live: dict[str, str]) -> bool:
        doc_id = parent_chunk_id(chunk_id).rsplit("::", 2)[0]
        return live.get(doc_id) == version_of(chunk_id)

    def get_chunks(self, chunk_ids: list[str]) -> list[StoredChunk]:
        if not chunk_ids:
            return []
        live = self._live()
        got = self.chunks.get(ids=chunk_ids, include=["metadatas", "documents"])
        by_id = {
            i: StoredChunk.from_record(i, t, m)
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=False)
        }
        return [by_id[c] for c in chunk_ids if c in by_id and self._is_live(c, live)]

    def passage_vectors(self, chunk_ids: list[str]) -> dict[str, list[tuple[str, np.ndarray]]]:
        """For each chunk: its passages with their stored vectors, or the chunk itself when it has none."""
        out: dict[str, list[tuple[str, np.ndarray]]] = {cid: [] for cid in chunk_ids}
        if not chunk_ids:
            return out
        # Which chunks have passages at all: a lookup of their first passage ids (``::p000``) by primary key;
        # the metadata filter below scans the collection, so only those chunks go through it (none when the
        # store has no passage vectors, the default).
        first = self.chunks.get(ids=[f"{cid}::p000" for cid in chunk_ids], include=[])
        with_passages = [parent_chunk_id(rid) for rid in first["ids"]]
        got = (
            self.chunks.get(where={"parent": {"$in": with_passages}}, include=["documents", "embeddings", "metadatas"])
            if with_passages
            else {"ids": [], "documents": [], "embeddings": [], "metadatas": []}
        )
        for _rid, text, vec, meta in sorted(
            zip(got["ids"], got["documents"], got["embeddings"], got["metadatas"], strict=False), key=lambda r: r[0]
        ):
            out[str(meta["parent"])].append((text, np.asarray(vec, dtype=np.float32)))
        lone = [cid for cid, units in out.items() if not units]
        if lone:
            got = self.chunks.get(ids=lone, include=["documents", "embeddings"])
            for rid, text, vec in zip(got["ids"], got["documents"], got["embeddings"], strict=False):
                out[rid].append((text, np.asarray(vec, dtype=np.float32)))
        return out

    def query(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance), best first.

        A chunk's score is the best of its own vector and its passages' vectors.
        """
        collection = self.chunks
        total = collection.count()
        if total == 0:
            return []
        live = self._live()
        # Ids and distances only: a passage's id names its chunk, so the metadata of the winners alone is
        # fetched afterwards (fetching it for all 3·k vectors was most of a query's time).
        query = [np.asarray(embedding, dtype=np.float32).tolist()]
        n = min(3 * k, total)
        while True:
            res = collection.query(query_embeddings=query, n_results=n, where=where, include=["distances"])
            best: dict[str, float] = {}
            for rid, dist in zip(res["ids"][0], res["distances"][0], strict=False):
                chunk_id = parent_chunk_id(rid)
                if not self._is_live(chunk_id, live):
                    continue  # a version being written, or one just replaced
                score = 1.0 - float(dist)
                if score > best.get(chunk_id, -2.0):
                    best[chunk_id] = score
            # passages of a few chunks can fill every slot: widen until k chunks or every vector is seen
            if len(best) >= k or n >= total or len(res["ids"][0]) < n:
                break
            n = min(4 * n, total)
        ranked = sorted(best, key=lambda cid: best[cid], reverse=True)[:k]
        found = {chunk.chunk_id: chunk for chunk in self.get_chunks(ranked)}
        return [(found[cid], best[cid]) for cid in ranked if cid in found]

    # ----------------------------------------------------------------------------- changes
    def replace_document(
        self,
        record: DocumentRecord,
        chunks: list[NewChunk],
        embeddings: np.ndarray,
        full_text: str,
        original: Path | None,
        audit: Callable[[Session, str], None] | None = None,
    ) -> str:
        """Store a new version of a document; the old version stays searchable until the switch.

        ``embeddings`` holds one vector per chunk, then one per passage (chunk order, passage order).
        ``audit(session, action)`` runs inside the switch transaction (action ``add`` or ``replace``), so the
        change and its audit entry are committed together. Returns that action.
        """
        n_vectors = len(chunks) + sum(len(c.passages) for c in chunks)
        if n_vectors != len(embeddings):
            raise ValueError("elk stuk tekst heeft precies één embedding nodig")
        with self.writing():
            return self._replace(record, chunks, embeddings, full_text, original, audit)

    def _replace(
        self,
        record: DocumentRecord,
        chunks: list[NewChunk],
        embeddings: np.ndarray,
        full_text: str,
        original: Path | None,
        audit: Callable[[Session, str], None] | None,
    ) -> str:
        version = uuid.uuid4().hex[:16]
        record.partner = self.organisation_name(record.partner)  # the chunks carry the canonical name
        kept = self._original_rel(record.doc_id, version, record.source) if original else None
        collection = self.chunks
        with self._tx() as s:  # (1) the pending version: from now on a crash leaves work the sweep finds
            s.add(
                DocumentVersion(
                    version=version,
                    doc_id=record.doc_id,
                    state="pending",
                    owner=owner_id(),
                    collection=collection.name,
                    original=kept,
                )
            )
        kill_point("registered")
        try:
            if original is not None and kept is not None:  # (2) original and chunks, invisible until (3)
                target = self.originals_dir / kept
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(original, target)
            kill_point("original_kept")
            self.add_chunks(collection, record, version, chunks, embeddings)
            kill_point("chunks_added")
            record.original = kept
            record.chunk_count = len(chunks)
            for _attempt in range(5):
                try:
                    action, superseded = self._switch(record, version, full_text, collection.name, audit)
                    break
                except _CollectionMoved as moved:  # a reindex switched collections meanwhile: write there too
                    collection = self._open_collection(str(moved), create=True)
                    self.add_chunks(collection, record, version, chunks, embeddings)
            else:
                raise StoreError("De kennisbank werd steeds opnieuw opgebouwd; probeer het zo nog eens.")
        except BaseException:
            self._finish_versions([version])  # undo what was written (best effort; else the sweep does it)
            raise
        kill_point("switched")
        self._finish_versions(superseded)  # (4) the old version's chunks, original and row
        return action

    def _switch(
        self,
        record: DocumentRecord,
        version: str,
        full_text: str,
        collection_name: str,
        audit: Callable[[Session, str], None] | None,
    ) -> tuple[str, list[str]]:
        """(3) One transaction: the new version live, the old one superseded, the audit entry, the revision."""
        with self._tx() as s:
            self._bump(s)
            if (self._state_text(s, self._active_key) or self.base_name) != collection_name:
                raise _CollectionMoved(self._state_text(s, self._active_key))
            org = self._organisation(s, record.partner)
            record.partner = org.name
            doc = s.get(Document, record.doc_id)
            superseded: list[str] = []
            action = "add" if doc is None else "replace"
            if doc is None:
                doc = Document(doc_id=record.doc_id)
                s.add(doc)
            else:
                superseded.append(doc.current_version)
            doc.organisation_id = org.id
            doc.source, doc.title, doc.topic, doc.language = record.source, record.title, record.topic, record.language
            doc.kind, doc.sha256, doc.ingested_at = record.kind, record.sha256, record.ingested_at
            doc.valid_from, doc.url, doc.original = record.valid_from, record.url, record.original
            doc.chunk_count, doc.extra, doc.full_text = record.chunk_count, dict(record.extra), full_text
            doc.current_version = version
            s.execute(
                update(DocumentVersion)
                .where(DocumentVersion.doc_id == record.doc_id, DocumentVersion.state == "live")
                .values(state="superseded")
            )
            s.execute(update(DocumentVersion).where(DocumentVersion.version == version).values(state="live"))
            if audit is not None:
                audit(s, action)
        self._live_cache = None
        return action, superseded

    def add_chunks(
        self, collection: Any, record: DocumentRecord, version: str, chunks: list[NewChunk], embeddings: np.ndarray
    ) -> None:
        """Write a version's chunk and passage vectors into ``collection`` (not yet live)."""
        if self._embedded and not self._lock_depth:  # a rebuild: take the lock per document
            with self.writing():
                return self.add_chunks(self._open_collection(collection.name), record, version, chunks, embeddings)
        ids, texts, metas = self._records(record, chunks, version)
        for start in range(0, len(ids), _ADD_BATCH):
            part = slice(start, start + _ADD_BATCH)
            collection.add(
                ids=ids[part],
                documents=texts[part],
                embeddings=[np.asarray(e, dtype=np.float32).tolist() for e in embeddings[part]],
                metadatas=metas[part],
            )
            kill_point("chunks_partial")

    def remove_document(
        self, doc_id: str, audit: Callable[[Session, DocumentRecord], None] | None = None
    ) -> DocumentRecord | None:
        """Delete a document (register entry, then chunks and original). None when it did not exist.

        ``audit(session, record)`` runs in the transaction that removes the register entry.
        """
        with self.writing():
            return self._remove(doc_id, audit)

    def _remove(self, doc_id: str, audit: Callable[[Session, DocumentRecord], None] | None) -> DocumentRecord | None:
        with self._tx() as s:
            self._bump(s)
            doc = s.get(Document, doc_id)
            if doc is None:
                return None
            record = DocumentRecord.from_row(doc)
            version = doc.current_version
            s.delete(doc)
            s.execute(update(DocumentVersion).where(DocumentVersion.version == version).values(state="removed"))
            if audit is not None:
                audit(s, record)
        self._live_cache = None
        kill_point("remove_committed")
        self._finish_versions([version])
        return record

    def revision(self, max_age: float = 0.0) -> int:
        """The change counter; ``max_age`` seconds lets a hot path reuse a recent reading."""
        now = time.monotonic()
        if max_age and self._revision_read and now - self._revision_read[0] <= max_age:
            return self._revision_read[1]
        with self._tx() as s:
            value = int(s.scalar(select(StoreState.number).where(StoreState.key == "revision")) or 0)
        self._revision_read = (now, value)
        return value

    # ----------------------------------------------------------------------------- reindex
    def begin_rebuild(self) -> Any:
        """A new, empty chunk collection for ``kb reindex``; searches keep using the active one."""
        name = f"{self.base_name}__{uuid.uuid4().hex[:8]}"
        with self._tx() as s:
            self._set_state(s, f"building:{name}", owner_id())
        return self._open_collection(name, create=True)

    def live_records(self) -> list[tuple[DocumentRecord, str]]:
        """Every document with its live version."""
        with self._tx() as s:
            return [(DocumentRecord.from_row(d), d.current_version) for d in s.scalars(select(Document))]

    def finish_rebuild(self, collection: Any, built: dict[str, tuple[str, int]], failed: dict[str, str]) -> bool:
        """Switch searches to ``collection`` if it holds every live version (``built``: doc id → (version,
        chunks); ``failed``: doc id → version that could not be rebuilt). False, nothing changed, when
        documents changed meanwhile (build those and call again)."""
        with self.writing():
            return self._finish_rebuild(self._open_collection(collection.name), built, failed)

    def _finish_rebuild(self, collection: Any, built: dict[str, tuple[str, int]], failed: dict[str, str]) -> bool:
        with self._tx() as s:
            self._bump(s)
            live = dict(s.execute(select(Document.doc_id, Document.current_version)).all())
            done = {d: v for d, (v, _) in built.items()} | failed
            if any(done.get(d) != v for d, v in live.items()):
                s.rollback()
                return False
            old = self._state_text(s, self._active_key) or self.base_name
            for doc_id, (version, count) in built.items():
                if live.get(doc_id) == version:
                    s.execute(update(Document).where(Document.doc_id == doc_id).values(chunk_count=count))
            for doc_id in failed:
                if doc_id in live:
                    s.execute(update(Document).where(Document.doc_id == doc_id).values(chunk_count=0))
            self._set_state(s, self._active_key, collection.name)
            if old != collection.name:
                self._set_state(s, f"retired:{old}", owner_id())
            s.execute(delete(StoreState).where(StoreState.key == f"building:{collection.name}"))
        self._collection_cache = None
        self._live_cache = None
        kill_point("reindex_switched")
        stale = [v for d, (v, _) in built.items() if live.get(d) != v]
        if stale:
            collection.delete(where={"version": {"$in": stale}})
        return True

    def drop_rebuild(self, collection: Any) -> None:
        """Abandon a rebuild (its collection and state row)."""
        with self.writing():
            self._delete_collection(collection.name)
        with self._tx() as s:
            s.execute(delete(StoreState).where(StoreState.key == f"building:{collection.name}"))

    # ----------------------------------------------------------------------------- recovery
    def recover(self) -> dict[str, int]:
        """The start-up sweep: finish or undo what a crashed process left. Cheap when there is nothing.

        * a ``pending`` version of a dead process: its chunks and original are deleted (it never went live);
        * a ``superseded`` or ``removed`` version: its chunks, original and row are deleted;
        * a collection being built by a dead ``kb reindex`` is dropped; one retired by a reindex longer than
          a grace period ago (searches in flight may still read it) is dropped.
        """
        with self._tx() as s:
            rows = list(s.scalars(select(DocumentVersion).where(DocumentVersion.state != "live")))
            states = list(
                s.scalars(
                    select(StoreState).where(StoreState.key.like("building:%") | StoreState.key.like("retired:%"))
                )
            )
        done = [r.version for r in rows if r.state != "pending" or not _owner_alive(r.owner, r.created_at)]
        if not done and not states:
            return {"versions": 0, "collections": 0}
        with self.writing():
            return self._recover(done, states)

    def _recover(self, done: list[str], states: list[StoreState]) -> dict[str, int]:
        if done:
            log.info("opruimen na een onderbroken wijziging: %d versies", len(done))
            self._finish_versions(done)
        dropped = 0
        active = self.active_collection_name()
        for st in states:
            name = st.key.split(":", 1)[1]
            if not name.startswith(self.base_name) or name == active:
                continue
            if st.key.startswith("building:"):
                gone = not _owner_alive(st.text or "", st.updated_at)
            else:
                gone = (utcnow() - st.updated_at).total_seconds() > RETIRED_GRACE_S
            if gone:
                self._delete_collection(name)
                with self._tx() as s:
                    s.execute(delete(StoreState).where(StoreState.key == st.key))
                dropped += 1
        return {"versions": len(done), "collections": dropped}

    def _finish_versions(self, versions: list[str]) -> None:
        """Delete the chunks (in every collection of this model), original and row of non-live versions."""
        versions = [v for v in versions if v]
        if not versions:
            return
        with self._tx() as s:
            rows = list(s.scalars(select(DocumentVersion).where(DocumentVersion.version.in_(versions))))
        rows = [r for r in rows if r.state != "live"]
        if not rows:
            return
        names = [r.version for r in rows]
        for collection in self._model_collections():
            collection.delete(where={"version": {"$in": names}})
        kill_point("old_chunks_deleted")
        for r in rows:
            if r.original:
                folder = (self.originals_dir / r.original).parent
                shutil.rmtree(folder, ignore_errors=True)
                with suppress(OSError):  # the document's folder, when no version is left in it
                    folder.parent.rmdir()
        kill_point("old_originals_deleted")
        with self._tx() as s:
            s.execute(
                delete(DocumentVersion).where(DocumentVersion.version.in_(names), DocumentVersion.state != "live")
            )

    def _delete_collection(self, name: str) -> None:
        with suppress(Exception):  # already gone
            self.client.delete_collection(name)

    # ----------------------------------------------------------------------------- take-over of the old register
    def _take_over_chroma_register(self) -> None:
        """First start after the SQL register arrived: import the Chroma register (``<prefix>_documents``).

        Documents, organisations and the revision move to SQL in one transaction; chunks of any other
        version than the one the register names are deleted; then the old collection is dropped.
        """
        legacy = f"{self.settings.collection_prefix}_documents"
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        if legacy not in names:
            return
        register = self.client.get_collection(legacy, embedding_function=ChromaEmbeddingFunction("placeholder"))
        got = register.get(include=["metadatas", "documents"])
        chunks = self._open_collection(self.base_name, create=True)
        versions: dict[str, dict[str, int]] = {}
        for meta in self._iter_records(chunks, include=["metadatas"], where={"kind": "chunk"}):
            m = meta[1]
            per = versions.setdefault(str(m.get("doc_id")), {})
            per[str(m.get("version"))] = per.get(str(m.get("version")), 0) + 1
        imported, revision, stale = 0, 0, []
        with self._tx() as s:
            self._bump(s)
            if s.scalar(select(StoreState.number).where(StoreState.key == "register_imported")):
                return  # another process did it
            for rid, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=False):
                if rid == _LEGACY_REVISION_ID:
                    revision = int(meta.get("revision", 0))
                    continue
                record = DocumentRecord.from_metadata(meta)
                if s.get(Document, record.doc_id) is not None:
                    continue
                found = versions.get(record.doc_id, {})
                from_original = Path(record.original).parent.name if record.original else ""
                matching = [v for v, n in found.items() if n == record.chunk_count]
                version = from_original if from_original in found else (matching[0] if matching else "")
                if not version:
                    version = uuid.uuid4().hex[:16]  # no chunks: a document that needs re-ingesting
                stale += [v for v in found if v != version]
                org = self._organisation(s, record.partner)
                s.add(
                    Document(
                        doc_id=record.doc_id,
                        organisation_id=org.id,
                        source=record.source,
                        title=record.title,
                        topic=record.topic,
                        language=record.language,
                        kind=record.kind,
                        sha256=record.sha256,
                        ingested_at=record.ingested_at,
                        valid_from=record.valid_from,
                        url=record.url,
                        original=record.original,
                        chunk_count=record.chunk_count,
                        extra=record.extra,
                        full_text=text or "",
                        current_version=version,
                    )
                )
                s.add(
                    DocumentVersion(
                        version=version,
                        doc_id=record.doc_id,
                        state="live",
                        owner=owner_id(),
                        collection=self.base_name,
                        original=record.original,
                    )
                )
                imported += 1
            s.execute(
                update(StoreState).where(StoreState.key == "revision").values(number=StoreState.number + revision)
            )
            self._set_state(s, "register_imported", str(imported), number=1)
        if stale:
            chunks.delete(where={"version": {"$in": stale}})
        self._delete_collection(legacy)
        log.warning("documentregister overgenomen uit Chroma: %d documenten", imported)

    # ----------------------------------------------------------------------------- helpers
    def _original_rel(self, doc_id: str, version: str, source: str) -> str:
        return f"{original_folder(doc_id)}/{version}/{_safe_name(source)}"

    def _records(
        self, record: DocumentRecord, chunks: list[NewChunk], version: str
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Ids, texts and metadata of the chunks, followed by those of their passages."""
        ids, texts, metas = [], [], []
        for c in chunks:
            ids.append(f"{record.doc_id}::{version}::{c.index:05d}")
            texts.append(c.text)
            metas.append(self._chunk_metadata(record, c, version))
        for c, chunk_id in zip(chunks, list(ids), strict=False):
            for j, passage in enumerate(c.passages):
                ids.append(f"{chunk_id}::p{j:03d}")
                texts.append(passage)
                metas.append({**self._chunk_metadata(record, c, version), "kind": "passage", "parent": chunk_id})
        return ids, texts, metas

    def _chunk_metadata(self, record: DocumentRecord, chunk: NewChunk, version: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "kind": "chunk",
            "doc_id": record.doc_id,
            "version": version,
            "chunk_index": chunk.index,
            "source": record.source,
            "title": record.title,
            "partner": record.partner,
            "org": organisation_key(record.partner),
            "topic": record.topic,
            "language": record.language,
            "header": chunk.header,
            "section": json.dumps(list(chunk.section), ensure_ascii=False),
            "section_text": " > ".join(chunk.section),
        }
        for key, value in (
            ("page_start", chunk.page_start),
            ("page_end", chunk.page_end),
            ("valid_from", record.valid_from),
            ("url", record.url),
        ):
            if value is not None:
                meta[key] = value
        return meta

    @staticmethod
    def _iter_records(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[tuple]:
        offset = 0
        while True:
            got = collection.get(include=include, limit=_GET_PAGE, offset=offset, where=where)
            ids = got["ids"]
            if not ids:
                return
            columns = [got[name] for name in include]
            yield from zip(ids, *columns, strict=False)
            offset += len(ids)
            if len(ids) < _GET_PAGE:
                return


def _safe_dir(doc_id: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]+", "_", doc_id)[:120] or "doc"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", Path(name).name).strip() or "document"
    return cleaned[:160]
