"""The knowledge store: chunks with their embeddings and a register of documents, in Chroma.

Chroma runs embedded (a persistent folder) by default, or as a server (``chroma run``) when
``KB_CHROMA_HOST`` is set. Telemetry is off. Two collections:

* ``<prefix>_chunks_<model>``: one record per chunk, embedded with the configured model (a model change
  means a new collection, filled by ``kb reindex``);
* ``<prefix>_documents``: one record per document (its metadata and full extracted text), plus a revision
  counter that lets every process notice changes (for the lexical index cache).

Replacing a document is ordered so that a failure at any point leaves the previous version searchable.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from kb.config import Settings
from kb.embeddings import ChromaEmbeddingFunction

_REVISION_ID = "__revision__"
_PLACEHOLDER = [1.0, 0.0]  # the document register needs no real embedding
_GET_PAGE = 2000


class StoreError(Exception):
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
    def from_metadata(cls, meta: dict[str, Any]) -> "DocumentRecord":
        known = {f for f in cls.__dataclass_fields__}
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
    def from_record(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> "StoredChunk":
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


def make_client(settings: Settings) -> Any:
    """A Chroma client: HttpClient for a server, else a persistent client on the store folder."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        folder = settings.resolved_store_dir() / "chroma"
        folder.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exceptions / ValueErrors for connection problems
        where = (
            f"Chroma-server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"map {settings.resolved_store_dir()}"
        )
        raise StoreError(f"Kan de kennisbank niet openen ({where}): {exc}") from exc


class KnowledgeStore:
    """Documents and chunks in Chroma, plus the kept originals on disk."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        prefix = settings.collection_prefix
        self.embedding_function = ChromaEmbeddingFunction(settings.embed_model)
        self.chunks = self.client.get_or_create_collection(
            name=f"{prefix}_chunks_{collection_suffix(settings.embed_model)}",
            embedding_function=self.embedding_function,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.documents = self.client.get_or_create_collection(
            name=f"{prefix}_documents",
            embedding_function=ChromaEmbeddingFunction("placeholder"),
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.originals_dir = settings.resolved_store_dir() / "originals"
        self._revision_read: tuple[float, int] | None = None

    # ----------------------------------------------------------------------------- documents
    def get_document(self, doc_id: str) -> DocumentRecord | None:
        got = self.documents.get(ids=[doc_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return DocumentRecord.from_metadata(got["metadatas"][0])

    def document_text(self, doc_id: str) -> str | None:
        got = self.documents.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def list_documents(self, partner: str | None = None) -> list[DocumentRecord]:
        records = [
            DocumentRecord.from_metadata(meta)
            for rid, meta in self._iter_records(self.documents, include=["metadatas"])
            if rid != _REVISION_ID
        ]
        if partner is not None:
            wanted = partner.strip().casefold()
            records = [r for r in records if r.partner.strip().casefold() == wanted]
        return sorted(records, key=lambda r: (r.partner.casefold(), r.title.casefold()))

    def original_path(self, record: DocumentRecord) -> Path | None:
        if not record.original:
            return None
        path = self.originals_dir / record.original
        return path if path.exists() else None

    # ----------------------------------------------------------------------------- chunks
    def chunk_count(self) -> int:
        return len(self.chunks.get(where={"kind": "chunk"}, include=[])["ids"])

    def iter_chunks(self) -> Iterator[StoredChunk]:
        for rid, meta, text in self._iter_records(
            self.chunks, include=["metadatas", "documents"], where={"kind": "chunk"}
        ):
            yield StoredChunk.from_record(rid, text, meta)

    def chunks_of(self, doc_id: str) -> list[StoredChunk]:
        got = self.chunks.get(
            where={"$and": [{"doc_id": doc_id}, {"kind": "chunk"}]}, include=["metadatas", "documents"]
        )
        chunks = [StoredChunk.from_record(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda c: c.index)

    def get_chunks(self, chunk_ids: list[str]) -> list[StoredChunk]:
        if not chunk_ids:
            return []
        got = self.chunks.get(ids=chunk_ids, include=["metadatas", "documents"])
        by_id = {i: StoredChunk.from_record(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[c] for c in chunk_ids if c in by_id]

    def passage_vectors(self, chunk_ids: list[str]) -> dict[str, list[tuple[str, np.ndarray]]]:
        """For each chunk: its passages with their stored vectors, or the chunk itself when it has none."""
        out: dict[str, list[tuple[str, np.ndarray]]] = {cid: [] for cid in chunk_ids}
        if not chunk_ids:
            return out
        got = self.chunks.get(where={"parent": {"$in": list(chunk_ids)}}, include=["documents", "embeddings", "metadatas"])
        for rid, text, vec, meta in sorted(
            zip(got["ids"], got["documents"], got["embeddings"], got["metadatas"]), key=lambda r: r[0]
        ):
            out[str(meta["parent"])].append((text, np.asarray(vec, dtype=np.float32)))
        lone = [cid for cid, units in out.items() if not units]
        if lone:
            got = self.chunks.get(ids=lone, include=["documents", "embeddings"])
            for rid, text, vec in zip(got["ids"], got["documents"], got["embeddings"]):
                out[rid].append((text, np.asarray(vec, dtype=np.float32)))
        return out

    def query(
        self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance), best first.

        A chunk's score is the best of its own vector and its passages' vectors.
        """
        total = self.chunks.count()
        if total == 0:
            return []
        # Ids and distances only: a passage's id names its chunk, so the metadata of the winners alone is
        # fetched afterwards (fetching it for all 3·k vectors was most of a query's time).
        query = [np.asarray(embedding, dtype=np.float32).tolist()]
        n = min(3 * k, total)
        while True:
            res = self.chunks.query(query_embeddings=query, n_results=n, where=where, include=["distances"])
            best: dict[str, float] = {}
            for rid, dist in zip(res["ids"][0], res["distances"][0]):
                chunk_id = parent_chunk_id(rid)
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
    ) -> None:
        """Store a new version of a document; the old version stays until the new one is complete.

        ``embeddings`` holds one vector per chunk, then one per passage (chunk order, passage order).
        """
        n_vectors = len(chunks) + sum(len(c.passages) for c in chunks)
        if n_vectors != len(embeddings):
            raise ValueError("elk stuk tekst heeft precies één embedding nodig")
        version = uuid.uuid4().hex[:10]
        ids, texts, metas = self._records(record, chunks, version)
        kept = self._keep_original(record, original, version) if original else None
        try:
            for start in range(0, len(ids), 500):
                part = slice(start, start + 500)
                self.chunks.add(
                    ids=ids[part],
                    documents=texts[part],
                    embeddings=[np.asarray(e, dtype=np.float32).tolist() for e in embeddings[part]],
                    metadatas=metas[part],
                )
            if kept is not None:
                record.original = kept
            record.chunk_count = len(chunks)
            self.documents.upsert(
                ids=[record.doc_id],
                documents=[full_text],
                embeddings=[_PLACEHOLDER],
                metadatas=[record.to_metadata()],
            )
        except Exception:
            self._delete_ids(ids)
            if kept is not None:
                shutil.rmtree(self.originals_dir / Path(kept).parent, ignore_errors=True)
            raise
        # The new version is complete: drop the previous version's chunks and original.
        self.chunks.delete(where={"$and": [{"doc_id": record.doc_id}, {"version": {"$ne": version}}]})
        self._drop_old_originals(record.doc_id, keep=version if kept else None)
        self._bump_revision()

    def remove_document(self, doc_id: str) -> bool:
        """Delete a document's chunks, register entry and original. False when it did not exist."""
        existed = self.get_document(doc_id) is not None
        self.chunks.delete(where={"doc_id": doc_id})
        self.documents.delete(ids=[doc_id])
        shutil.rmtree(self.originals_dir / _safe_dir(doc_id), ignore_errors=True)
        self._bump_revision()
        return existed

    def reset_chunks(self) -> None:
        """Drop and recreate this model's chunk collection (used by ``kb reindex``)."""
        name = self.chunks.name
        self.client.delete_collection(name)
        self.chunks = self.client.get_or_create_collection(
            name=name, embedding_function=self.embedding_function, configuration={"hnsw": {"space": "cosine"}}
        )
        self._bump_revision()

    def revision(self, max_age: float = 0.0) -> int:
        """The change counter; ``max_age`` seconds lets a hot path reuse a recent reading."""
        now = time.monotonic()
        if max_age and self._revision_read and now - self._revision_read[0] <= max_age:
            return self._revision_read[1]
        got = self.documents.get(ids=[_REVISION_ID], include=["metadatas"])
        value = int(got["metadatas"][0]["revision"]) if got["ids"] else 0
        self._revision_read = (now, value)
        return value

    # ----------------------------------------------------------------------------- helpers
    def _records(
        self, record: DocumentRecord, chunks: list[NewChunk], version: str
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Ids, texts and metadata of the chunks, followed by those of their passages."""
        ids, texts, metas = [], [], []
        for c in chunks:
            ids.append(f"{record.doc_id}::{version}::{c.index:05d}")
            texts.append(c.text)
            metas.append(self._chunk_metadata(record, c, version))
        for c, chunk_id in zip(chunks, list(ids)):
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

    def _keep_original(self, record: DocumentRecord, original: Path, version: str) -> str:
        folder = self.originals_dir / _safe_dir(record.doc_id) / version
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _safe_name(record.source)
        shutil.copyfile(original, target)
        return str(target.relative_to(self.originals_dir))

    def _drop_old_originals(self, doc_id: str, keep: str | None) -> None:
        folder = self.originals_dir / _safe_dir(doc_id)
        if not folder.exists():
            return
        for child in folder.iterdir():
            if child.name != keep:
                shutil.rmtree(child, ignore_errors=True)

    def _delete_ids(self, ids: list[str]) -> None:
        try:
            self.chunks.delete(ids=ids)
        except Exception:  # best effort while cleaning up after another error
            pass

    def _bump_revision(self) -> None:
        self._revision_read = None
        self.documents.upsert(
            ids=[_REVISION_ID],
            embeddings=[_PLACEHOLDER],
            metadatas=[{"revision": self.revision() + 1}],
            documents=[""],
        )

    @staticmethod
    def _iter_records(collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[tuple]:
        offset = 0
        while True:
            got = collection.get(include=include, limit=_GET_PAGE, offset=offset, where=where)
            ids = got["ids"]
            if not ids:
                return
            columns = [got[name] for name in include]
            for row in zip(ids, *columns):
                yield row
            offset += len(ids)
            if len(ids) < _GET_PAGE:
                return


def _safe_dir(doc_id: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]+", "_", doc_id)[:120] or "doc"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", Path(name).name).strip() or "document"
    return cleaned[:160]
