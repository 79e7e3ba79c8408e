"""The documents page for partners and staff: upload with metadata, the list of documents, replace and
delete, recent changes, and the questions the knowledge base could not answer.

Access is enforced in :class:`kb.documents.DocumentService` (a partner can only see and change the
documents of their own organisation); this page only decides what to offer.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from kb.access import PermissionDeniedError, Principal
from kb.config import TOPICS
from kb.errors import KbError
from kb.services import DocumentMetadata, DocumentNotFoundError, DocumentService
from kb.services.documents_view import STATUS_NL, SUPPORTED_TYPES_NL, DocumentRecord, FileResult
from ui import resources
from ui.components import (
    SourceView,
    date_field,
    date_field_invalid,
    dutch_file_uploader_text,
    escape_markdown,
    local_time,
    show_full_text,
    topic_label,
)
from ui.login import current_principal
from ui.unanswered import show_unanswered_groups

log = logging.getLogger(__name__)

RESULTS = "documents_results"
UPLOAD_ROUND = "documents_upload_round"
ACTION_NL = {"add": "toegevoegd", "replace": "vervangen", "remove": "verwijderd"}
TOPIC_CHOICES: list[str | None] = [None, *TOPICS]


def pieces_nl(n: int) -> str:
    return f"{n} stuk" if n == 1 else f"{n} stukken"


def safe_upload_name(name: str) -> str:
    """The user's file name without folders or odd characters (the extension is kept)."""
    cleaned = re.sub(r"[^\w.\- ()]+", "_", Path(name or "").name).strip(" .") or "document"
    return cleaned[-160:]


def ingest_upload(add: Callable[[Path, str], FileResult], name: str, data: bytes) -> FileResult:
    """Write an uploaded file to a private temporary folder and ingest it with ``add(path, name)``."""
    with tempfile.TemporaryDirectory(prefix="samenweten-upload-") as folder:
        path = Path(folder) / safe_upload_name(name)
        path.write_bytes(data)
        return add(path, name)


def _topic_label(topic: str | None) -> str:
    return "Uit het document (anders 'Overig')" if topic is None else topic_label(topic)


def _metadata_fields(
    prefix: str, principal: Principal, service: DocumentService, current: DocumentRecord | None = None
) -> DocumentMetadata:
    """The metadata inputs of the upload and replace forms."""
    title = st.text_input(
        "Titel",
        value=current.title if current else "",
        key=f"{prefix}_title",
        max_chars=200,
        help="Leeg laten: de titel uit het document zelf. Bij meerdere bestanden geldt een ingevulde titel voor elk bestand.",
    )
    topic_index = TOPIC_CHOICES.index(current.topic) if current and current.topic in TOPICS else 0
    topic = st.selectbox("Onderwerp", TOPIC_CHOICES, index=topic_index, key=f"{prefix}_topic", format_func=_topic_label)
    valid_from_value = dt.date.fromisoformat(current.valid_from) if current and current.valid_from else None
    valid_from = date_field(
        "Geldig vanaf",
        key=f"{prefix}_valid_from",
        value=valid_from_value,
        help="Optioneel: vanaf wanneer de inhoud geldt, als dd-mm-jjjj.",
    )
    url = st.text_input(
        "URL van de originele bron",
        value=(current.url or "") if current else "",
        key=f"{prefix}_url",
        placeholder="https://…",
        help="Optioneel: waar het origineel online staat.",
    )
    partner = None
    if principal.role == "staff":
        chosen = current.partner if current else service.kb.settings.default_partner
        known = sorted(set(service.partners()) | {chosen}, key=str.casefold)
        partner = st.selectbox(  # the registered organisations; a new one only when typed on purpose
            "Partnerorganisatie",
            known,
            index=known.index(chosen),
            key=f"{prefix}_partner",
            accept_new_options=True,
            help="Kies een bekende organisatie, of typ de naam van een nieuwe. Hoofdletters, spaties en "
            "streepjes maken geen nieuwe organisatie.",
        )
    return DocumentMetadata(title=title, topic=topic, valid_from=valid_from, url=url, partner=partner)


def _show_results(results: list[dict[str, Any]]) -> None:
    for r in results:
        if r["ok"]:
            status = STATUS_NL.get(r["status"], r["status"])
            st.success(
                f"{escape_markdown(r['name'])}: {status} als “{escape_markdown(r['title'] or '')}” "
                f"({pieces_nl(r['chunks'])} tekst).",
                icon=":material/check_circle:",
            )
        else:
            st.error(
                f"{escape_markdown(r['name'])} is niet toegevoegd. {escape_markdown(r['error'])}",
                icon=":material/error:",
            )


def _result_dict(name: str, result: FileResult) -> dict[str, Any]:
    error = result.error or ""
    prefix = f"{Path(result.path).name}: "
    if error.startswith(prefix):  # the file name is shown already
        error = error[len(prefix) :]
    error = error[:1].upper() + error[1:]
    return {
        "name": name,
        "ok": result.ok,
        "status": result.status,
        "title": result.title,
        "chunks": result.chunks,
        "error": error,
        "doc_id": result.doc_id,
    }


def _upload_section(principal: Principal, service: DocumentService) -> None:
    st.subheader("Documenten toevoegen")
    round_ = st.session_state.setdefault(UPLOAD_ROUND, 0)
    dutch_file_uploader_text(service.kb.settings.max_file_mb)
    with st.form(f"upload_{round_}"):
        files = st.file_uploader(
            f"Bestanden ({SUPPORTED_TYPES_NL})",
            accept_multiple_files=True,
            key=f"upload_files_{round_}",
            max_upload_size=math.ceil(service.kb.settings.max_file_mb),
            help=f"Maximaal {service.kb.settings.max_file_mb:g} MB per bestand. Een bestand met dezelfde naam "
            "als een bestaand document van je organisatie vervangt dat document.",
        )
        metadata = _metadata_fields(f"upload_{round_}", principal, service)
        submitted = st.form_submit_button("Toevoegen", type="primary", icon=":material/upload:")
    if not submitted:
        return
    if not files:
        st.warning("Kies eerst een of meer bestanden om toe te voegen.")
        return
    if date_field_invalid(f"upload_{round_}_valid_from"):
        return  # the Dutch error is shown at the field; nothing is added with a wrong date
    results: list[dict[str, Any]] = []
    bar = st.progress(0.0, text="Bezig met inlezen…")
    for i, uploaded in enumerate(files):
        label = f"Bezig met {escape_markdown(uploaded.name)} ({i + 1} van {len(files)})"
        bar.progress(i / len(files), text=f"{label}…")

        def on_progress(done: int, total: int, i: int = i, label: str = label) -> None:
            share = done / total if total else 1.0
            bar.progress(
                min(1.0, (i + share) / len(files)), text=f"{label}: {done} van {total} stukken tekst verwerkt…"
            )

        try:
            result = ingest_upload(
                lambda path, name: service.add(principal, path, name, metadata, on_progress=on_progress),
                uploaded.name,
                uploaded.getvalue(),
            )
        except KbError as exc:  # refused, or the store/database: the Dutch reason, details in the log
            log.warning("upload of %s failed: %s", uploaded.name, exc)
            result = FileResult(Path(uploaded.name), "failed", error=str(exc))
        results.append(_result_dict(uploaded.name, result))
    bar.progress(1.0, text="Klaar met inlezen.")
    st.session_state[RESULTS] = results
    st.session_state[UPLOAD_ROUND] = round_ + 1  # a fresh, empty form after this upload
    st.rerun()


def _documents_table(records: list[DocumentRecord], principal: Principal) -> None:
    rows = [
        {
            "Titel": r.title,
            **({"Partner": r.partner} if principal.role == "staff" else {}),
            "Onderwerp": topic_label(r.topic),
            "Stukken": r.chunk_count,
            "Toegevoegd": local_time(r.ingested_at),
            "Geldig vanaf": dt.date.fromisoformat(r.valid_from).strftime("%d-%m-%Y") if r.valid_from else "",
            "Bestand": r.source,
        }
        for r in records
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def _chosen_doc_id(records: list[DocumentRecord]) -> str | None:
    ids = [r.doc_id for r in records]
    by_id = {r.doc_id: r for r in records}
    requested = st.query_params.get("doc")
    index = ids.index(requested) if requested in ids else None
    choice = st.selectbox(
        "Document kiezen",
        ids,
        index=index,
        key=f"doc_choice_{requested or ''}",
        placeholder="Kies een document om te bekijken, te vervangen of te verwijderen",
        format_func=lambda i: f"{by_id[i].title} — {by_id[i].source}",
    )
    if choice is not None and choice != requested:
        st.query_params["doc"] = choice
    if requested and requested not in ids and choice is None:
        return requested  # a link to a document outside the list: the service decides (and refuses)
    return choice


def _manage_section(principal: Principal, service: DocumentService, records: list[DocumentRecord]) -> None:
    st.subheader("Document beheren")
    doc_id = _chosen_doc_id(records)
    if not doc_id:
        return
    try:
        record = service.get_for(principal, doc_id)
    except (PermissionDeniedError, DocumentNotFoundError) as exc:
        st.error(escape_markdown(str(exc)), icon=":material/block:")
        return

    st.markdown(f"**{escape_markdown(record.title)}**")
    st.caption(
        " · ".join(
            escape_markdown(p)
            for p in (
                f"Partner: {record.partner}",
                f"Onderwerp: {record.topic}",
                pieces_nl(record.chunk_count),
                f"toegevoegd {local_time(record.ingested_at)}",
                f"bestand {record.source}",
            )
        )
    )
    if st.button("Tekst bekijken", key=f"view_{record.doc_id}", icon=":material/article:"):
        show_full_text(
            SourceView(0, record.doc_id, record.title, record.partner, (), None, None, record.url, ""),
            service.full_text,
        )

    replace_tab, delete_tab = st.tabs(["Vervangen", "Verwijderen"])
    with replace_tab:
        with st.form(f"replace_{record.doc_id}", clear_on_submit=True):
            new_file = st.file_uploader(
                f"Nieuwe versie ({SUPPORTED_TYPES_NL})",
                key=f"replace_file_{record.doc_id}",
                max_upload_size=math.ceil(service.kb.settings.max_file_mb),
            )
            metadata = _metadata_fields(f"replace_{record.doc_id}", principal, service, current=record)
            submitted = st.form_submit_button("Vervangen", icon=":material/sync:")
        if submitted:
            if new_file is None:
                st.warning("Kies eerst het bestand met de nieuwe versie.")
            elif date_field_invalid(f"replace_{record.doc_id}_valid_from"):
                pass  # the Dutch error is shown at the field
            else:
                with st.spinner(f"Bezig met inlezen van {new_file.name}…"):
                    try:
                        result = ingest_upload(
                            lambda path, name: service.replace(principal, record.doc_id, path, name, metadata),
                            new_file.name,
                            new_file.getvalue(),
                        )
                    except KbError as exc:
                        log.warning("replacing %s failed: %s", record.doc_id, exc)
                        result = FileResult(Path(new_file.name), "failed", error=str(exc))
                st.session_state[RESULTS] = [_result_dict(new_file.name, result)]
                st.rerun()
    with delete_tab:
        st.write("Het document verdwijnt uit de kennisbank en wordt niet meer als bron gebruikt.")
        confirmed = st.checkbox("Ja, ik wil dit document verwijderen", key=f"confirm_delete_{record.doc_id}")
        if st.button(
            "Verwijderen",
            key=f"delete_{record.doc_id}",
            type="primary",
            disabled=not confirmed,
            icon=":material/delete:",
        ):
            try:
                removed = service.remove(principal, record.doc_id)
            except KbError as exc:
                log.warning("removing %s failed: %s", record.doc_id, exc)
                st.error(escape_markdown(str(exc)))
            else:
                st.session_state[RESULTS] = []
                st.session_state["documents_notice"] = f"“{removed.title}” is verwijderd."
                st.query_params.pop("doc", None)
                st.rerun()


def _history_section(principal: Principal, service: DocumentService, titles: dict[str, str]) -> None:
    with st.expander("Recente wijzigingen"):
        events = service.history_for(principal, limit=50)
        if not events:
            st.write("Nog geen wijzigingen.")
            return
        st.dataframe(
            [
                {
                    "Wanneer": local_time(e.at),
                    "Wie": e.username or "",
                    "Wat": ACTION_NL.get(e.action, e.action),
                    "Document": titles.get(e.doc_id, e.doc_id),
                    "Details": e.detail or "",
                }
                for e in events
            ],
            hide_index=True,
            width="stretch",
        )


def _missing_section() -> None:
    st.subheader("Wat ontbreekt er in de kennisbank?")
    st.caption("Vragen van vrijwilligers die de kennisbank niet kon beantwoorden, gegroepeerd op betekenis.")
    if not st.toggle("Toon onbeantwoorde vragen", key="documents_show_missing"):
        return
    show_unanswered_groups()


def render() -> None:
    principal = current_principal()
    if principal.role not in ("staff", "partner"):
        st.title("Documenten")
        st.warning("Log in als partner of medewerker om documenten te beheren: kies **Inloggen** in het menu.")
        st.stop()

    service = resources.document_service()
    if principal.role == "partner":
        st.title("Documenten van " + escape_markdown(principal.partner_org))
    else:
        st.title("Alle documenten")

    notice = st.session_state.pop("documents_notice", None)
    if notice:
        st.success(escape_markdown(notice))
    results = st.session_state.get(RESULTS) or []
    if results:
        _show_results(results)
        st.button("Meldingen sluiten", key="clear_results", on_click=lambda: st.session_state.pop(RESULTS, None))

    _upload_section(principal, service)

    records = service.list_for(principal)
    st.subheader(f"Documenten in de kennisbank ({len(records)})")
    if records:
        _documents_table(records, principal)
    else:
        st.info("Er staan nog geen documenten van je organisatie in de kennisbank.")
    _manage_section(principal, service, records)
    _history_section(principal, service, {r.doc_id: r.title for r in records})
    _missing_section()


if __name__ == "__main__":
    render()
