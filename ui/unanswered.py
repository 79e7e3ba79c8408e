"""The unanswered questions, grouped by similarity: shown to staff (review) and partners (documents)."""

from __future__ import annotations

import logging

import streamlit as st

from kb.errors import reason_for
from ui import resources
from ui.components import escape_markdown, render_question_groups

log = logging.getLogger(__name__)


def show_unanswered_groups(threshold: float = 0.8) -> None:
    """The knowledge gaps the logged-in user may see: staff all, a partner those of their own topics."""
    from ui.login import current_principal

    try:
        groups = resources.review_service().unanswered_groups(current_principal(), threshold=threshold)
    except Exception as exc:
        log.exception("grouping unanswered questions failed")
        st.error("De onbeantwoorde vragen konden niet worden geladen. " + escape_markdown(reason_for(exc)))
        return
    render_question_groups(groups)
