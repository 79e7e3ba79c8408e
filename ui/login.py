"""Login for staff and partners, and who the current user is.

The session keeps only a random login token; the database stores its hash with an expiry
(``kb.db.accounts``, 8 hours). The browser keeps the same token in a cookie, so a reload (F5) or a
bookmarked page (``/beoordelen``, ``/documenten``) keeps the login: the server checks the token again on
every rerun, so an expired or ended session drops the user back to anonymous (volunteer) at once. Failed
logins are counted and lock the account for a while; staff can unlock accounts here.
"""

from __future__ import annotations

import logging

import streamlit as st

from kb.access import Principal
from kb.errors import KbError, reason_for
from kb.services import AuthService
from ui import browser, resources
from ui.components import escape_markdown, local_time

log = logging.getLogger(__name__)

TOKEN_KEY = "auth_token"
NOTICE_KEY = "auth_notice"
COOKIE_READ_KEY = "auth_cookie_read"
AFTER_LOGIN_KEY = "auth_after_login"  # the page a bookmark or link asked for before logging in
FORGET_COOKIE_KEY = "auth_forget_cookie"
SWITCH_KEY = "auth_switch_to"
SESSION_COOKIE = "samenweten_sessie"
SESSION_SECONDS = int(AuthService.session_hours * 3600)
ROLE_NL = {"staff": "medewerker", "partner": "partner", "volunteer": "vrijwilliger"}


def current_principal() -> Principal:
    """The logged-in staff member or partner, or an anonymous volunteer."""
    token = st.session_state.get(TOKEN_KEY)
    if not token and not st.session_state.get(COOKIE_READ_KEY):
        # a new browser session (reload, bookmark, new tab): the login kept in the browser, checked below
        st.session_state[COOKIE_READ_KEY] = True
        token = browser.cookie(SESSION_COOKIE)
        if token:
            st.session_state[TOKEN_KEY] = token
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
        st.session_state[FORGET_COOKIE_KEY] = True
        st.session_state[NOTICE_KEY] = "Je sessie is verlopen of beëindigd. Log opnieuw in."
        return Principal.anonymous()
    return principal


def log_in(username: str, password: str) -> Principal:
    """Check the credentials and start a session; raises :class:`kb.db.LoginError` (Dutch message)."""
    principal, token = resources.auth_service().log_in(username, password)
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_READ_KEY] = True
    st.session_state.pop(FORGET_COOKIE_KEY, None)
    st.session_state.pop(NOTICE_KEY, None)
    return principal


def log_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    st.session_state[COOKIE_READ_KEY] = True  # the cookie this page was loaded with is no longer valid
    st.session_state[FORGET_COOKIE_KEY] = True
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


def keep_login_in_browser(principal: Principal) -> None:
    """Keep the browser's session cookie in step with the login; call once per run (from ``app.py``).

    Written on every run while logged in (a script element that a rerun cut off is simply written again),
    deleted on every run after a logout. The cookie holds only the random token the server checks.
    """
    token = st.session_state.get(TOKEN_KEY)
    with st.sidebar:
        if principal.is_authenticated and token:
            browser.set_cookie(SESSION_COOKIE, token, SESSION_SECONDS)
        elif st.session_state.get(FORGET_COOKIE_KEY):
            browser.delete_cookie(SESSION_COOKIE)


def require_login(page_title: str, url_path: str, login_page: object) -> None:
    """Send an anonymous visitor of a staff or partner page to the login, and back there afterwards."""
    st.session_state[AFTER_LOGIN_KEY] = url_path
    st.session_state[NOTICE_KEY] = f"Log in om {page_title} te openen."
    st.switch_page(login_page)  # type: ignore[arg-type]


def render_unlock(principal: Principal) -> None:
    """Staff: accounts locked after too many failed logins, each with an unlock button."""
    try:
        locked = resources.auth_service().locked_accounts(principal)
    except KbError as exc:
        st.error(escape_markdown(reason_for(exc)))
        return
    st.subheader("Geblokkeerde accounts")
    if not locked:
        st.caption("Er zijn geen geblokkeerde accounts.")
        return
    for username, until in locked:
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(escape_markdown(f"{username}: geblokkeerd tot {local_time(until)}"))
        if right.button("Ontgrendelen", key=f"unlock_{username}", icon=":material/lock_open:"):
            try:
                resources.auth_service().unlock(principal, username)
            except KbError as exc:  # AccountError, DatabaseError or PermissionDeniedError: a Dutch reason
                st.error(escape_markdown(reason_for(exc)))
            else:
                log.info("%s ontgrendelde account %s", principal.username, username)
                st.toast(f"Account {username} is ontgrendeld.")
                st.rerun()


def render() -> None:
    principal = current_principal()
    notice = st.session_state.pop(NOTICE_KEY, None)
    if principal.is_authenticated:
        st.title("Account")
        st.markdown(escape_markdown(f"Je bent ingelogd als {describe(principal)}."))
        st.caption(
            f"Je blijft ingelogd in deze browser, ook na herladen, tot je uitlogt of na {AuthService.session_hours:g} uur."
        )
        st.page_link("ui/documents.py", label="Documenten beheren", icon=":material/folder_open:")
        if principal.role == "staff":
            st.page_link("ui/review.py", label="Vragen en antwoorden beoordelen", icon=":material/fact_check:")
        if st.button("Uitloggen", icon=":material/logout:"):
            log_out()
            st.rerun()
        if principal.role == "staff":
            render_unlock(principal)
        return

    st.title("Inloggen")
    st.write(
        "Voor medewerkers van SamenWeten en partnerorganisaties. Vrijwilligers kunnen zonder inloggen vragen stellen."
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
            target = st.session_state.pop(AFTER_LOGIN_KEY, None)
            if target:
                st.session_state[SWITCH_KEY] = target
            st.rerun()


if __name__ == "__main__":
    render()
