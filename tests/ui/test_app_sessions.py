"""Sessions through AppTest: the login survives a reload (browser cookie, checked by the server), bookmarks
of staff pages lead to the login, staff unlock accounts, a volunteer reopens recent conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apptest_support import PASSWORD, plain
from sqlalchemy import select, update

from kb.db import Exchange, LoginSession, authenticate, session_scope
from kb.db.accounts import LoginError

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store


@pytest.fixture
def cookies(monkeypatch):
    """The cookies the browser sends with the page request (a reload or a new tab)."""
    jar: dict[str, str] = {}
    import ui.browser

    monkeypatch.setattr(ui.browser, "cookie", lambda name: jar.get(name))
    return jar


def _scripts(at) -> list[str]:
    return [h.proto.body for h in at.html]


def _login(at, username, password=PASSWORD):
    at.switch_page("ui/login.py").run()
    user_input, password_input = at.text_input
    user_input.input(username)
    password_input.input(password)
    at.button(key="FormSubmitter:login-Inloggen").click().run()
    return at


def test_login_is_kept_in_the_browser_and_a_reload_keeps_it(app_env, app_test, cookies):
    at = _login(app_test().run(), "sanne")
    assert at.title[0].value == "Account"
    # the app asks the browser to keep the login token for 8 hours (the server stores only its hash)
    token = at.session_state["auth_token"]
    assert any(f"samenweten_sessie={token}; Max-Age=28800; Path=/; SameSite=Strict" in s for s in _scripts(at))

    cookies["samenweten_sessie"] = token  # F5: a new session, the browser sends the cookie
    reloaded = app_test()
    reloaded.run()
    assert "Ingelogd als sanne (medewerker)" in plain(" ".join(c.value for c in reloaded.sidebar.caption))
    reloaded.switch_page("ui/review.py").run()  # a bookmark of /beoordelen
    assert reloaded.title[0].value == "Vragen en antwoorden beoordelen"


def test_an_expired_or_forged_cookie_is_refused(app_env, app_test, cookies):
    cookies["samenweten_sessie"] = "vervalst-token"
    at = app_test().run()
    assert not plain(" ".join(c.value for c in at.sidebar.caption)).startswith("Ingelogd")
    at.switch_page("ui/review.py").run()
    assert at.title[0].value == "Inloggen"

    cookies["samenweten_sessie"] = app_env.staff_token
    with session_scope(app_env.engine) as session:
        session.execute(update(LoginSession).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    at = app_test().run()
    at.switch_page("ui/review.py").run()
    assert at.title[0].value == "Inloggen"
    assert any("samenweten_sessie=; Max-Age=0" in s for s in _scripts(at))  # the stale cookie is deleted


def test_logout_deletes_the_cookie_and_ends_the_session(app_env, app_test, cookies):
    cookies["samenweten_sessie"] = app_env.staff_token
    at = app_test().run()
    at.switch_page("ui/login.py").run()
    at.button[0].click().run()  # Uitloggen
    assert at.title[0].value == "Inloggen"
    assert any("samenweten_sessie=; Max-Age=0" in s for s in _scripts(at))
    again = app_test().run()  # even a browser that kept the cookie is no longer logged in
    again.switch_page("ui/review.py").run()
    assert again.title[0].value == "Inloggen"


def test_bookmark_of_documents_leads_to_login_and_back(app_env, app_test):
    at = app_test().run()
    at.switch_page("ui/documents.py").run()
    assert at.title[0].value == "Inloggen" and "Log in om Documenten te openen." in at.info[0].value
    at.switch_page("ui/login.py")  # where the browser now is
    user_input, password_input = at.text_input
    user_input.input("anna")
    password_input.input(PASSWORD)
    at.button(key="FormSubmitter:login-Inloggen").click().run()
    assert not at.exception
    assert "Documenten van" in " ".join(t.value for t in [*at.title, *at.header, *at.subheader])


def test_staff_unlock_a_locked_account_in_the_app(app_env, app_test):
    for attempt in range(5):
        with pytest.raises(LoginError), session_scope(app_env.engine) as session:
            authenticate(session, "bram", f"fout-wachtwoord-{attempt}")
    locked = _login(app_test().run(), "bram")
    message = plain(locked.error[0].value)
    assert "geblokkeerd tot" in message and "nog 15 minuten" in message

    at = app_test()
    at.session_state["auth_token"] = app_env.staff_token
    at.run()
    at.switch_page("ui/login.py").run()
    assert "Geblokkeerde accounts" in [s.value for s in at.subheader]
    assert any("bram: geblokkeerd tot" in plain(m.value) for m in at.markdown)
    at.button(key="unlock_bram").click().run()
    assert not at.exception
    assert "Er zijn geen geblokkeerde accounts." in [c.value for c in at.caption]
    with session_scope(app_env.engine) as session:
        assert authenticate(session, "bram", PASSWORD).username == "bram"


def test_a_volunteer_reopens_a_recent_conversation_on_the_same_browser(app_env, app_test, cookies):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    at.chat_input[0].set_value("En bij een vereniging?").run()
    with session_scope(app_env.engine) as session:
        conversation_id = session.scalars(select(Exchange.conversation_id)).first()
    # the browser is asked to remember the conversation, and the link of the tab names it
    assert any(f"samenweten_gesprekken={conversation_id};" in s for s in _scripts(at))
    assert at.query_params["gesprek"] in (conversation_id, [conversation_id])

    cookies["samenweten_gesprekken"] = conversation_id  # later, same browser, a new tab
    later = app_test().run()
    assert not later.chat_message
    button = later.sidebar.button(key=f"open_{conversation_id}")
    assert button.label == "Wie beslist er in een stichting?"
    button.click().run()
    assert not later.exception
    assert [plain(m.markdown[0].value) for m in later.chat_message if m.name == "user"] == [
        "Wie beslist er in een stichting?",
        "En bij een vereniging?",
    ]
    cards = [plain(e.label) for e in later.chat_message[1].expander if plain(e.label).startswith("[")]
    assert cards[0].startswith("[1] De stichting")
    # a follow-up continues the reopened conversation
    later.chat_input[0].set_value("En bij een coöperatie?").run()
    with session_scope(app_env.engine) as session:
        assert set(session.scalars(select(Exchange.conversation_id))) == {conversation_id}


def test_a_reload_reopens_the_conversation_of_the_tab(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    conversation_id = at.query_params["gesprek"]
    conversation_id = conversation_id if isinstance(conversation_id, str) else conversation_id[0]
    reloaded = app_test()
    reloaded.query_params["gesprek"] = conversation_id  # F5 keeps the address ?gesprek=…
    reloaded.run()
    assert [m.name for m in reloaded.chat_message] == ["user", "assistant"]
    assert plain(reloaded.chat_message[0].markdown[0].value) == "Wie beslist er in een stichting?"

    stranger = app_test()
    stranger.query_params["gesprek"] = "00000000-0000-0000-0000-000000000000"
    stranger.run()
    assert not stranger.chat_message and not stranger.exception
