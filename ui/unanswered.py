"""The unanswered questions, grouped by similarity: shown to staff (review) and partners (documents)."""

from __future__ import annotations

import logging

import streamlit as st

from kb.db import session_scope
from kb.db.app_queries import unanswered_groups
from ui import resources
from ui.components import escape_markdown, render_question_groups

log = logging.getLogger(__name__)


def show_unanswered_groups(threshold: float = 0.8) -> None:
    try:
        kb = resources.knowledge_base()
        with session_scope(resources.db_engine()) as session:
            groups = unanswered_groups(session, lambda texts: kb.embedder().encode_queries(texts), threshold=threshold)
    except Exception as exc:
        log.exception("grouping unanswered questions failed")
        st.error("De onbeantwoorde vragen konden niet worden geladen: " + escape_markdown(str(exc)))
        return
    render_question_groups(groups)
