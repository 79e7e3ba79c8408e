"""SamenWeten: the Streamlit app. Start with ``streamlit run app.py`` (or ``make run``).

Pages: the chat for volunteers (no login), the partner directory (everyone; staff edit it), login/account, documents (partners and staff) and the review
of questions and answers (staff). Every page is registered, so a bookmark or a reload of ``/beoordelen`` or
``/documenten`` works; the menu shows only the pages of the logged-in role, an anonymous visitor of a staff
or partner page is sent to the login and back afterwards, and every page checks access again itself
(document changes are enforced in ``kb.documents``). The login survives a reload (``ui.login``). The
knowledge base (embedding model, store, word index) starts loading on the first page view
(``ui.resources.warm_up``); the chat shows "bezig met opstarten" until it is ready.
"""

from __future__ import annotations

import streamlit as st

from ui import login, resources
from ui.components import escape_markdown

st.set_page_config(page_title="SamenWeten", page_icon=":material/forum:", layout="centered")

principal = login.current_principal()
resources.warm_up()  # starts once per process, in the background

can_review = principal.role == "staff"
can_manage = principal.role in ("staff", "partner")
chat = st.Page("ui/chat.py", title="Vraag het SamenWeten", icon=":material/chat:", default=True)
account = st.Page(
    "ui/login.py",
    title="Account" if principal.is_authenticated else "Inloggen",
    icon=":material/person:",
    url_path="inloggen",
)
review = st.Page(
    "ui/review.py",
    title="Beoordelen",
    icon=":material/fact_check:",
    url_path="beoordelen",
    visibility="visible" if can_review else "hidden",
)
documents = st.Page(
    "ui/documents.py",
    title="Documenten",
    icon=":material/folder_open:",
    url_path="documenten",
    visibility="visible" if can_manage else "hidden",
)
partners = st.Page("ui/partners.py", title="Partnergids", icon=":material/diversity_3:", url_path="partnergids")
pages: dict[str, list[st.Page]] = {"Vragen": [chat, partners], "Medewerkers en partners": [review, documents, account]}

current = st.navigation(pages)
login.keep_login_in_browser(principal)

with st.sidebar:
    if principal.is_authenticated:
        st.caption("Ingelogd als " + escape_markdown(login.describe(principal)))

protected = {"beoordelen": ("Beoordelen", review, can_review), "documenten": ("Documenten", documents, can_manage)}
back_to = st.session_state.pop(login.SWITCH_KEY, None)
if back_to in protected and protected[back_to][2]:
    st.switch_page(protected[back_to][1])
if current.url_path in protected and not principal.is_authenticated:
    title, _, _ = protected[current.url_path]
    login.require_login(title, current.url_path, account)

current.run()
