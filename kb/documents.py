"""Document management for the app: list, add, replace and remove documents, with access control
and an audit trail.

Every change is checked with :func:`kb.access.require_manage` *before* the store is touched: a partner
only ever writes into their own organisation, staff may manage every document, volunteers none. Each
change that reaches the store is written to the audit log (who, what, when). No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ingest.pipeline import DocumentOverrides, FileResult, IngestReport, iso_date
from kb.access import PermissionDeniedError, Principal, require_manage
from kb.config import TOPICS
from kb.db.audit import list_events, log_event
from kb.db.engine import session_scope
from kb.db.models import AuditEvent, Document
from kb.errors import KbError
from kb.naming import make_doc_id
from kb.store import DocumentRecord
from kb.text import web_address

if TYPE_CHECKING:
    from kb.service import KnowledgeBase

log = logging.getLogger(__name__)

AUDIT_ACTION_BY_STATUS: dict[str, str] = {"added": "add", "replaced": "replace", "unchanged": "replace"}


class DocumentNotFoundError(KbError, LookupError):
    """The document does not exist (any more); the message is Dutch."""


@dataclass(frozen=True)
class DocumentMetadata:
    """What the upload form asks. Empty fields fall back to the file itself (or, when replacing, to the
    current version). ``partner`` is only honoured for staff; a partner always uploads for their own
    organisation."""

    title: str | None = None
    topic: str | None = None
    valid_from: dt.date | str | None = None
    url: str | None = None
    partner: str | None = None


def check_url(url: str | None) -> str | None:
    """``url`` stripped, or None when empty; anything but a :func:`~kb.text.web_address` is refused (Dutch ValueError)."""
    text = (url or "").strip()
    if not text:
        return None
    if web_address(text) is None:
        raise ValueError(f"ongeldige URL '{text}': gebruik een volledig webadres dat begint met https:// of http://")
    return text


def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


class DocumentService:
    """The documents a principal may see and change, over one :class:`KnowledgeBase` and database."""

    def __init__(self, kb: KnowledgeBase, db_engine: Engine) -> None:
        self.kb = kb
        self.engine = db_engine

    # ------------------------------------------------------------------------------- reading
    def list_for(self, principal: Principal) -> list[DocumentRecord]:
        """Staff: every document. Partner: their organisation's documents. Volunteers: refused."""
        if principal.role == "staff":
            return self.kb.store.list_documents()
        if principal.role == "partner":
            return self.kb.store.list_documents(partner=principal.partner_org)
        require_manage(principal, None)  # raises the Dutch "log in" message
        return []

    def get_for(self, principal: Principal, doc_id: str) -> DocumentRecord:
        """One document to manage; :class:`DocumentNotFoundError` or :class:`PermissionDeniedError`."""
        record = self._existing(doc_id)
        require_manage(principal, record.partner)
        return record

    def full_text(self, doc_id: str) -> str | None:
        """The extracted text of a document, for reading a source in the app (sources are public)."""
        return self.kb.store.document_text(doc_id)

    def partners(self) -> list[str]:
        """The registered organisations (stable keys, one spelling each), for the staff form's list."""
        return [org.name for org in self.kb.store.organisations()]

    def history_for(self, principal: Principal, limit: int = 100) -> list[AuditEvent]:
        """Audit events a principal may see: staff all, a partner those of their organisation."""
        with session_scope(self.engine) as session:
            if principal.role == "staff":
                return list_events(session, limit=limit)
            if principal.role == "partner":
                return list_events(session, partner_org=principal.partner_org, limit=limit)
        require_manage(principal, None)
        return []

    # ------------------------------------------------------------------------------- changes
    def add(
        self,
        principal: Principal,
        uploaded_path: Path,
        original_name: str,
        metadata: DocumentMetadata = DocumentMetadata(),
        on_progress: Callable[[int, int], None] | None = None,
    ) -> FileResult:
        """Ingest an uploaded file as a document of the principal's organisation.

        ``on_progress(done, total)`` follows the embedding of its texts (chunk-level progress for a page).

        Uploading a file with the same name again for the same organisation replaces that document.
        Raises :class:`PermissionDeniedError` (nothing touched) when the principal may not write there;
        ingest problems come back as a failed :class:`FileResult` with a Dutch error.
        """
        partner = self._target_partner(principal, metadata.partner)
        require_manage(principal, partner)
        source = Path(original_name).name or Path(uploaded_path).name
        doc_id = make_doc_id(partner, source)
        existing = self.kb.store.get_document(doc_id)
        if existing is not None:
            # Another organisation whose name slugifies the same must never be overwritten.
            require_manage(principal, existing.partner)
        try:
            overrides = DocumentOverrides(
                partner=partner,
                topic=_clean(metadata.topic),
                title=_clean(metadata.title),
                valid_from=iso_date(metadata.valid_from),
                url=check_url(metadata.url),
                doc_id=doc_id,  # never taken from the file's own front matter
                source_name=source,
            )
            self._check_topic(overrides.topic)
        except ValueError as exc:
            return FileResult(Path(source), "failed", error=f"{source}: {exc}")
        result = self.kb.pipeline.ingest_file(
            Path(uploaded_path),
            overrides,
            audit=self._audit_hook(principal, partner, source),
            on_progress=on_progress,
        )
        self._audit_unchanged(principal, result, partner, source)
        return result

    def replace(
        self,
        principal: Principal,
        doc_id: str,
        uploaded_path: Path,
        original_name: str,
        metadata: DocumentMetadata = DocumentMetadata(),
    ) -> FileResult:
        """Replace a document by a new file; its id stays. Empty metadata keeps the current values."""
        current = self._existing(doc_id)
        require_manage(principal, current.partner)
        partner = current.partner
        if principal.role == "staff" and _clean(metadata.partner):
            partner = str(_clean(metadata.partner))
        require_manage(principal, partner)
        source = Path(original_name).name or Path(uploaded_path).name
        try:
            overrides = DocumentOverrides(
                partner=partner,
                topic=_clean(metadata.topic) or current.topic,
                title=_clean(metadata.title) or current.title,
                valid_from=iso_date(metadata.valid_from) or current.valid_from,
                url=check_url(metadata.url) or current.url,
                language=current.language,
                doc_id=current.doc_id,
                source_name=source,
            )
            self._check_topic(overrides.topic)
        except ValueError as exc:
            return FileResult(Path(source), "failed", current.doc_id, current.title, error=f"{source}: {exc}")
        result = self.kb.pipeline.ingest_file(
            Path(uploaded_path), overrides, audit=self._audit_hook(principal, partner, source, action="replace")
        )
        if result.ok and result.status == "added":  # the id existed a moment ago: it is a replacement
            result.status = "replaced"
        self._audit_unchanged(principal, result, partner, source)
        return result

    def ingest_paths(
        self,
        principal: Principal,
        paths: list[Path],
        overrides: DocumentOverrides | None = None,
        on_result: Callable[[FileResult], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders (the CLI): staff only; each change is audited in its own transaction.

        Every file is read and chunked first, so ``on_progress(done, total)`` counts the texts of the whole run.
        """
        overrides = overrides or DocumentOverrides()
        if principal.role != "staff":
            require_manage(principal, overrides.partner or self.kb.settings.default_partner)

        def audit(session: Session, store_action: str, result: FileResult) -> None:
            self._audit_hook(principal, overrides.partner, result.path.name)(session, store_action, result)

        def each(result: FileResult) -> None:
            current = self.kb.store.get_document(result.doc_id) if result.doc_id else None
            self._audit_unchanged(principal, result, current.partner if current else "", result.path.name)
            if on_result:
                on_result(result)

        return self.kb.pipeline.ingest_paths(paths, overrides, on_result=each, audit=audit, on_progress=on_progress)

    def remove(self, principal: Principal, doc_id: str) -> DocumentRecord:
        """Delete a document (chunks, register entry, original). Returns the removed record."""
        record = self._existing(doc_id)
        require_manage(principal, record.partner)

        def audit(session: Session, removed: DocumentRecord) -> None:
            require_manage(principal, removed.partner)  # the document as it is now, inside the transaction
            log_event(
                session,
                username=principal.username,
                action="remove",
                doc_id=doc_id,
                partner_org=removed.partner,
                detail=f"{removed.title} ({removed.source}, {removed.chunk_count} stukken)",
            )

        removed = self.kb.store.remove_document(doc_id, audit=audit)
        if removed is None:
            raise DocumentNotFoundError(
                f"Het document '{doc_id}' bestaat niet (meer). Vernieuw de lijst met documenten."
            )
        return removed

    # ------------------------------------------------------------------------------- helpers
    def _existing(self, doc_id: str) -> DocumentRecord:
        record = self.kb.store.get_document(doc_id) if doc_id else None
        if record is None:
            raise DocumentNotFoundError(
                f"Het document '{doc_id}' bestaat niet (meer). Vernieuw de lijst met documenten."
            )
        return record

    def _target_partner(self, principal: Principal, requested: str | None) -> str:
        if principal.role == "partner":
            return str(principal.partner_org).strip()
        if principal.role == "staff":
            return _clean(requested) or self.kb.settings.default_partner
        raise PermissionDeniedError(
            "Alleen medewerkers en partners kunnen documenten toevoegen, vervangen of verwijderen. "
            "Log in met je account om verder te gaan."
        )

    @staticmethod
    def _check_topic(topic: str | None) -> None:
        if topic is not None and topic.lower() not in TOPICS:
            raise ValueError(f"onbekend onderwerp '{topic}': kies uit {', '.join(TOPICS)}")

    def _audit_hook(
        self, principal: Principal, partner: str | None, source: str, action: str | None = None
    ) -> Callable[[Session, str, FileResult], None]:
        """The audit entry of a change, written by the store inside the change's own transaction."""

        def hook(session: Session, store_action: str, result: FileResult) -> None:
            doc = session.get(Document, str(result.doc_id))  # flushed in this transaction
            org = doc.organisation.name if doc is not None and doc.organisation is not None else partner
            if principal.role == "partner":
                require_manage(principal, org)  # never into another organisation, checked in the transaction
            log_event(
                session,
                username=principal.username,
                action=action or store_action,
                doc_id=str(result.doc_id),
                partner_org=org,
                detail=f"{result.title} ({source}, {result.chunks} stukken)",
            )

        return hook

    def _audit_unchanged(self, principal: Principal, result: FileResult, partner: str, source: str) -> None:
        """An upload of an unchanged file changes nothing but is still recorded (who tried what)."""
        if result.status != "unchanged" or not result.doc_id:
            return
        detail = f"{result.title} ({source}, {result.chunks} stukken); inhoud ongewijzigd"
        self._log(principal, action="replace", doc_id=result.doc_id, partner=partner, detail=detail)

    def _log(self, principal: Principal, *, action: str, doc_id: str, partner: str, detail: str) -> None:
        with session_scope(self.engine) as session:
            log_event(
                session,
                username=principal.username,
                action=action,
                doc_id=doc_id,
                partner_org=partner,
                detail=detail,
            )
