"""The review page for support staff: every question and answer with its sources, scores, citations,
refusal and feedback; filters; marking answers checked or incorrect; the unanswered questions grouped by
meaning; CSV export.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import streamlit as st

from kb.config import TOPICS
from kb.errors import KbError, reason_for
from kb.services import ExchangeFilter, ExchangeRow, SourceRecord
from ui import resources
from ui.components import date_field, escape_markdown, local_time, topic_label
from ui.login import current_principal
from ui.unanswered import show_unanswered_groups

log = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_ROWS = 2000
STATUS_NL = {"checked": "Klopt (gecontroleerd)", "incorrect": "Onjuist"}
DEFAULT_LOW_CONFIDENCE = 0.4


def feedback_label(score: int | None) -> str:
    return {1: "duim omhoog", -1: "duim omlaag"}.get(score or 0, "geen feedback")


def filters_from_sidebar() -> ExchangeFilter:
    with st.sidebar:
        st.subheader("Filters")
        negative = st.checkbox("Alleen negatieve feedback", key="review_negative")
        refused = st.checkbox("Alleen geweigerde vragen", key="review_refused")
        low = st.checkbox("Alleen lage betrouwbaarheid", key="review_low")
        threshold = st.number_input(
            "Grens lage betrouwbaarheid",
            0.0,
            1.0,
            DEFAULT_LOW_CONFIDENCE,
            0.05,
            key="review_threshold",
            disabled=not low,
        )
        unreviewed = st.checkbox("Alleen nog niet beoordeeld", key="review_unreviewed")
        date_from = date_field("Vanaf", key="review_from")
        date_to = date_field("Tot en met", key="review_to")
        topic = st.selectbox(
            "Onderwerp",
            ["", *TOPICS],
            key="review_topic",
            format_func=lambda t: topic_label(t) or "Alle onderwerpen",
        )
    return ExchangeFilter(
        negative_feedback_only=negative,
        refused_only=refused,
        max_confidence=float(threshold) if low else None,
        date_from=date_from,
        date_to=date_to,
        topic=topic or None,
        unreviewed_only=unreviewed,
    )


def _sources_table(row: ExchangeRow) -> list[dict[str, Any]]:
    cited = {c.get("chunk_id"): c.get("n") for c in row.citations}
    return [
        {
            "Rang": r.rank,
            "Score": round(r.score or 0.0, 4),
            "Geciteerd": f"[{cited[r.chunk_id]}]" if r.chunk_id in cited else "",
            "Titel": r.title,
            "Sectie": r.section_text,
            "Document-id": r.doc_id,
            "Stuk-id": r.chunk_id,
        }
        for r in map(SourceRecord.from_db, row.sources)
    ]


def _review_form(row: ExchangeRow) -> None:
    with st.form(f"review_{row.id}", clear_on_submit=True):
        status = st.radio(
            "Beoordeling",
            list(STATUS_NL),
            key=f"review_status_{row.id}",
            format_func=STATUS_NL.get,
            horizontal=True,
        )
        note = st.text_area(
            "Notitie",
            key=f"review_note_{row.id}",
            max_chars=2000,
            placeholder="Wat klopt er niet, of wat moet er in de kennisbank komen?",
        )
        if st.form_submit_button("Beoordeling opslaan"):
            try:
                resources.review_service().review(current_principal(), row.id, str(status), note)
            except KbError as exc:
                log.info("review refused: %s", exc)
                st.error(escape_markdown(reason_for(exc)))
            else:
                st.session_state["review_notice"] = f"Beoordeling van vraag {row.id} opgeslagen."
                st.rerun()


def render_exchange(row: ExchangeRow) -> None:
    flags = []
    if row.refused:
        flags.append("geweigerd")
    if row.feedback_score is not None:
        flags.append(feedback_label(row.feedback_score))
    if row.review_status:
        flags.append(STATUS_NL[row.review_status].split(" ")[0].lower())
    label = f"{local_time(row.created_at)} · {row.question[:90]}" + (f" ({', '.join(flags)})" if flags else "")
    with st.expander(escape_markdown(label)):
        st.markdown("**Vraag**")
        st.markdown(escape_markdown(row.question))
        if row.standalone_query and row.standalone_query.strip() != row.question.strip():
            st.caption("Gezocht als: " + escape_markdown(row.standalone_query))
        st.markdown("**Antwoord**")
        st.markdown(escape_markdown(row.answer))
        st.caption(
            " · ".join(
                escape_markdown(p)
                for p in (
                    "geweigerd" if row.refused else "beantwoord",
                    f"betrouwbaarheid {row.confidence:.2f}",
                    f"beantwoorder {row.answerer}",
                    f"onderwerp {topic_label(row.topic) or 'alle'}",
                    f"gesprek {row.conversation_id[:8]}",
                )
            )
        )
        st.markdown("**Opgehaalde bronnen**")
        if row.sources:
            st.dataframe(_sources_table(row), hide_index=True, width="stretch")
        else:
            st.caption("Geen bronnen gevonden.")
        if row.citations:
            st.markdown("**Citaten in het antwoord**")
            titles = {s.get("chunk_id"): s.get("title") for s in row.sources}
            for c in row.citations:
                st.markdown(
                    f"\\[{c.get('n')}\\] {escape_markdown(titles.get(c.get('chunk_id')) or c.get('doc_id') or '')}"
                    f" — {escape_markdown(c.get('section') or '')}: “{escape_markdown(c.get('quote') or '')}”"
                )
        st.markdown("**Feedback**")
        if row.feedback_score is None:
            st.caption("Geen feedback gegeven.")
        else:
            icon = ":material/thumb_up:" if row.feedback_score > 0 else ":material/thumb_down:"
            st.markdown(
                f"{icon} {feedback_label(row.feedback_score)}: "
                + (escape_markdown(row.feedback_comment) if row.feedback_comment else "geen toelichting")
            )
        if row.review_status:
            st.info(
                f"{STATUS_NL[row.review_status]} door {escape_markdown(row.reviewer or '')} op "
                f"{local_time(row.reviewed_at)}" + (f": {escape_markdown(row.review_note)}" if row.review_note else "")
            )
        _review_form(row)


def _exchanges_tab(filters: ExchangeFilter) -> None:
    service = resources.review_service()
    rows = service.exchanges(current_principal(), filters, limit=MAX_ROWS)
    refused = sum(1 for r in rows if r.refused)
    negative = sum(1 for r in rows if (r.feedback_score or 0) < 0)
    a, b, c = st.columns(3)
    a.metric("Vragen", len(rows))
    b.metric("Geweigerd", refused)
    c.metric("Negatieve feedback", negative)
    if len(rows) >= MAX_ROWS:
        st.caption(f"Alleen de nieuwste {MAX_ROWS} vragen worden getoond; verfijn de filters.")
    st.download_button(
        "Exporteren als CSV",
        data=service.export_csv(rows),
        file_name=f"samenweten-vragen-{dt.date.today().isoformat()}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        disabled=not rows,
    )
    if not rows:
        st.info("Geen vragen gevonden met deze filters.")
        return
    pages = (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Pagina (van {pages})", 1, pages, 1, key="review_page"))
    for row in rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        render_exchange(row)


def _unanswered_tab() -> None:
    st.caption(
        "Vragen die de kennisbank niet kon beantwoorden, gegroepeerd op betekenis: zo zien medewerkers en "
        "partners welke informatie ontbreekt."
    )
    threshold = st.slider("Hoe sterk moeten vragen op elkaar lijken?", 0.5, 0.99, 0.8, 0.01, key="review_group")
    show_unanswered_groups(threshold)


def render() -> None:
    principal = current_principal()
    if principal.role != "staff":
        st.title("Beoordelen")
        st.error(
            "Alleen medewerkers van SamenWeten kunnen vragen en antwoorden beoordelen. "
            "Log in met een medewerkersaccount."
        )
        st.stop()
    st.title("Vragen en antwoorden beoordelen")
    notice = st.session_state.pop("review_notice", None)
    if notice:
        st.success(notice)
    filters = filters_from_sidebar()
    answers_tab, missing_tab = st.tabs(["Vragen en antwoorden", "Zonder antwoord"])
    with answers_tab:
        _exchanges_tab(filters)
    with missing_tab:
        _unanswered_tab()


if __name__ == "__main__":
    st.set_page_config(page_title="SamenWeten — beoordelen", layout="wide")
    render()
