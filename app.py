"""SamenWeten: the Streamlit app. Start with ``streamlit run app.py`` (or ``make run``).

Pages: the chat for volunteers (no login), the partner directory (everyone; staff edit it), login/account, documents (partners and staff) and the review
of questions and answers (staff). Which pages are offered depends on who is logged in; every page checks
access again itself, and document changes are enforced in ``kb.documents``.
"""

from __future__ import annotations

import streamlit as st

from ui import login
from ui.components import escape_markdown

st.set_page_config(page_title="SamenWeten", page_icon=":material/forum:", layout="centered")

principal = login.current_principal()

chat = st.Page("ui/chat.py", title="Vraag het SamenWeten", icon=":material/chat:", default=True)
account = st.Page(
    "ui/login.py",
    title="Account" if principal.is_authenticated else "Inloggen",
    icon=":material/person:",
    url_path="inloggen",
)
partners = st.Page("ui/partners.py", title="Partnergids", icon=":material/diversity_3:", url_path="partnergids")
pages: dict[str, list[st.Page]] = {"Vragen": [chat, partners]}
manage = [account]
if principal.role in ("staff", "partner"):
    manage.insert(0, st.Page("ui/documents.py", title="Documenten", icon=":material/folder_open:", url_path="documenten"))
if principal.role == "staff":
    manage.insert(0, st.Page("ui/review.py", title="Beoordelen", icon=":material/fact_check:", url_path="beoordelen"))
pages["Medewerkers en partners"] = manage

with st.sidebar:
    if principal.is_authenticated:
        st.caption("Ingelogd als " + escape_markdown(login.describe(principal)))

st.navigation(pages).run()
