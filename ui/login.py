"""Login for staff and partners, and who the current user is.

The session keeps only a random login token; the database stores its hash with an expiry
(``kb.db.accounts``). Every rerun checks the token again, so an expired or ended session drops the user
back to anonymous (volunteer) at once. Failed logins are counted and lock the account for a while.
"""

from __future__ import annotations

import logging

import streamlit as st

from kb.access import Principal
from kb.errors import KbError, reason_for
from ui import resources
from ui.components import escape_markdown

log = logging.getLogger(__name__)

TOKEN_KEY = "auth_token"
NOTICE_KEY = "auth_notice"
ROLE_NL = {"staff": "medewerker", "partner": "partner", "volunteer": "vrijwilliger"}


def current_principal() -> Principal:
    """The logged-in staff member or partner, or an anonymous volunteer."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return Principal.anonymous()
    try:
        principal = resources.auth_service().principal_for_token(token)
    except KbError as exc:
        log.warning("checking the login failed: %s", exc)
        st.error(escape_markdown(reason_for(exc)))
        return Principal.anonymous()
    if principal is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[NOTICE_KEY] = "Je sessie is verlopen of beëindigd. Log opnieuw in."
        return Principal.anonymous()
    return principal


def log_in(username: str, password: str) -> Principal:
    """Check the credentials and start a session; raises :class:`kb.db.LoginError` (Dutch message)."""
    principal, token = resources.auth_service().log_in(username, password)
    st.session_state[TOKEN_KEY] = token
    st.session_state.pop(NOTICE_KEY, None)
    return principal


def log_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        try:
            resources.auth_service().log_out(token)
        except KbError:
            log.exception("ending the login session failed")
    st.session_state[NOTICE_KEY] = "Je bent uitgelogd."


def describe(principal: Principal) -> str:
    text = f"{principal.username} ({ROLE_NL[principal.role]}"
    if principal.role == "partner":
        text += f", {principal.partner_org}"
    return text + ")"


def render() -> None:
    principal = current_principal()
    notice = st.session_state.pop(NOTICE_KEY, None)
    if principal.is_authenticated:
        st.title("Account")
        st.markdown(escape_markdown(f"Je bent ingelogd als {describe(principal)}."))
        st.page_link("ui/documents.py", label="Documenten beheren", icon=":material/folder_open:")
        if principal.role == "staff":
            st.page_link("ui/review.py", label="Vragen en antwoorden beoordelen", icon=":material/fact_check:")
        if st.button("Uitloggen", icon=":material/logout:"):
            log_out()
            st.rerun()
        return

    st.title("Inloggen")
    st.write(
        "Voor medewerkers van SamenWeten en partnerorganisaties. "
        "Vrijwilligers kunnen zonder inloggen vragen stellen."
    )
    if notice:
        st.info(notice)
    with st.form("login", enter_to_submit=True):
        username = st.text_input("Gebruikersnaam", autocomplete="username")
        password = st.text_input("Wachtwoord", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Inloggen", type="primary")
    if submitted:
        try:
            log_in(username, password)
        except KbError as exc:  # a refused login, or the database: the reason; details in the log
            log.info("login refused: %s", exc)
            st.error(escape_markdown(reason_for(exc)))
        else:
            st.rerun()


if __name__ == "__main__":
    render()
