"""The review page and login through AppTest: staff see every exchange with sources, scores, citations,
refusals and feedback; filters; reviews stored; unanswered questions grouped; CSV export offered;
login with lockout and session expiry; partners and volunteers kept out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apptest_support import PASSWORD, plain
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from kb.db import LoginSession, Review, add_feedback, record_exchange, session_scope, start_conversation

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store

ROOT = Path(__file__).resolve().parents[2]
DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
SOURCE = {
    "doc_id": "buurtkracht-oost--stichting-md",
    "chunk_id": "c1",
    "title": "De stichting",
    "section": "De stichting > Wie beslist",
    "score": 0.8123,
    "rank": 1,
}


@pytest.fixture
def seeded(app_env):
    """Four exchanges: answered+positive (rechtsvorm, day 1), answered+negative with a comment (day 2),
    two refused questions that mean the same thing (belasting, day 2)."""
    with session_scope(app_env.engine) as session:
        rechts = start_conversation(session, "rechtsvorm", now=DAY1).id
        belasting = start_conversation(session, "belasting", now=DAY2).id
        good = record_exchange(
            session,
            rechts,
            "Wie beslist in een stichting?",
            "Het bestuur beslist. [1]",
            confidence=0.82,
            answerer="extractive",
            sources=[SOURCE],
            citations=[
                {
                    "n": 1,
                    "doc_id": SOURCE["doc_id"],
                    "chunk_id": "c1",
                    "section": SOURCE["section"],
                    "quote": "Het bestuur beslist.",
                }
            ],
            now=DAY1,
        )
        bad = record_exchange(
            session,
            rechts,
            "Wie kiest het bestuur?",
            "De notaris. [1]",
            confidence=0.31,
            answerer="extractive",
            sources=[SOURCE],
            now=DAY2,
        )
        refused1 = record_exchange(
            session,
            belasting,
            "Welke kleurcode heeft de buurtbatterij?",
            "Dat staat niet in de bronnen.",
            refused=True,
            confidence=0.1,
            answerer="extractive",
            now=DAY2,
        )
        refused2 = record_exchange(
            session,
            belasting,
            "welke kleurcode heeft de buurtbatterij",
            "Dat staat niet in de bronnen.",
            refused=True,
            confidence=0.12,
            answerer="extractive",
            now=DAY2 + timedelta(minutes=5),
        )
        add_feedback(session, good.id, 1)
        add_feedback(session, bad.id, -1, '=HYPERLINK("x") <b>klopt niet</b>')
        ids = {"good": good.id, "bad": bad.id, "refused1": refused1.id, "refused2": refused2.id}
    return ids


def open_review(app_test, token):
    at = app_test()
    at.session_state["auth_token"] = token
    at.run()
    at.switch_page("ui/review.py").run()
    assert not at.exception
    return at


def questions(at) -> list[str]:
    return [plain(e.label).split(" · ", 1)[1] for e in at.expander if " · " in e.label]


def test_staff_sees_every_exchange_with_sources_citations_and_feedback(app_env, seeded, app_test):
    at = open_review(app_test, app_env.staff_token)
    assert at.title[0].value == "Vragen en antwoorden beoordelen"
    shown = questions(at)
    assert len(shown) == 4 and shown[-1] == "Wie beslist in een stichting? (duim omhoog)"
    assert [m.value for m in at.metric] == ["4", "2", "1"]
    # sources with scores and which was cited
    sources = at.dataframe[0].value
    assert list(sources["Titel"]) == ["De stichting"] and list(sources["Score"]) == [0.8123]
    assert "Geciteerd" in sources.columns
    body = plain("\n".join(m.value for m in at.markdown))
    assert "[1] De stichting — De stichting > Wie beslist: “Het bestuur beslist.”" in body
    # feedback comments are shown as text, never as markup
    assert 'duim omlaag: =HYPERLINK("x") <b>klopt niet</b>' in body
    # no HTML from answers or feedback: the only HTML is the app's own fixed login-cookie script
    assert all(
        h.proto.body.startswith("<script>document.cookie = ") and "HYPERLINK" not in h.proto.body for h in at.html
    )
    assert at.download_button[0].label == "Exporteren als CSV" and not at.download_button[0].disabled


def test_filters(app_env, seeded, app_test):
    at = open_review(app_test, app_env.staff_token)
    at.sidebar.checkbox(key="review_negative").check().run()
    assert questions(at) == ["Wie kiest het bestuur? (duim omlaag)"]
    at.sidebar.checkbox(key="review_negative").uncheck()
    at.sidebar.checkbox(key="review_refused").check().run()
    assert len(questions(at)) == 2 and all("geweigerd" in q for q in questions(at))
    at.sidebar.checkbox(key="review_refused").uncheck()
    at.sidebar.checkbox(key="review_low").check().run()
    at.sidebar.number_input(key="review_threshold").set_value(0.35).run()
    assert len(questions(at)) == 3  # 0.31, 0.1 and 0.12
    at.sidebar.checkbox(key="review_low").uncheck()
    # dates are typed the Dutch way (dd-mm-jjjj); a wrong one gets a Dutch error
    assert at.sidebar.text_input(key="review_to").placeholder == "dd-mm-jjjj"
    at.sidebar.text_input(key="review_to").input("2-3-2026").run()
    assert questions(at) == ["Wie beslist in een stichting? (duim omhoog)"]
    at.sidebar.text_input(key="review_to").input("31-02-2026").run()
    assert "is geen datum: schrijf hem als dd-mm-jjjj" in plain(at.sidebar.error[0].value)
    at.sidebar.text_input(key="review_to").input("")
    at.sidebar.text_input(key="review_from").input(date(2026, 3, 9).strftime("%d-%m-%Y"))
    # topics by their Dutch names
    assert "Belasting en giften" in at.sidebar.selectbox(key="review_topic").options
    at.sidebar.selectbox(key="review_topic").set_value("belasting").run()
    assert len(questions(at)) == 2
    at.sidebar.selectbox(key="review_topic").set_value("financiering").run()
    assert questions(at) == [] and "Geen vragen gevonden met deze filters." in at.info[0].value


def test_marking_an_answer_incorrect_with_a_note(app_env, seeded, app_test):
    at = open_review(app_test, app_env.staff_token)
    bad = seeded["bad"]
    at.radio(key=f"review_status_{bad}").set_value("incorrect")
    at.text_area(key=f"review_note_{bad}").input("De ALV kiest het bestuur, niet de notaris.")
    at.button(key=f"FormSubmitter:review_{bad}-Beoordeling opslaan").click().run()
    assert not at.exception
    with session_scope(app_env.engine) as session:
        (review,) = session.scalars(select(Review))
        assert (review.exchange_id, review.status, review.reviewer, review.note) == (
            bad,
            "incorrect",
            "sanne",
            "De ALV kiest het bestuur, niet de notaris.",
        )
    assert "Beoordeling van vraag" in at.success[0].value
    assert any("Onjuist door sanne" in plain(i.value) for i in at.info)
    assert "Wie kiest het bestuur? (duim omlaag, onjuist)" in questions(at)
    at.sidebar.checkbox(key="review_unreviewed").check().run()
    assert "Wie kiest het bestuur? (duim omlaag, onjuist)" not in questions(at) and len(questions(at)) == 3


def test_unanswered_questions_are_grouped(app_env, seeded, app_test):
    at = open_review(app_test, app_env.staff_token)
    groups = [plain(m.value) for m in at.markdown if m.value.startswith("**2×**")]
    assert groups == ["**2×** welke kleurcode heeft de buurtbatterij"]


def test_partner_cannot_review(app_env, seeded, app_test):
    at = app_test()
    at.session_state["auth_token"] = app_env.partner_a_token
    at.run()
    assert (
        "Beoordelen" not in [link.label for link in at.sidebar.get("page_link")]
        if at.sidebar.get("page_link")
        else True
    )
    at.switch_page("ui/review.py").run()  # a bookmark reaches the page; it refuses a partner
    assert "Alleen medewerkers" in plain(at.error[0].value)
    assert not at.expander and not at.download_button
    page = AppTest.from_file(str(ROOT / "ui" / "review.py"), default_timeout=60)
    page.session_state["auth_token"] = app_env.partner_a_token
    page.run()
    assert "Alleen medewerkers" in plain(page.error[0].value)
    assert not page.expander and not page.download_button


# ------------------------------------------------------------------------------------ login
def _login(at, username, password):
    user_input, password_input = at.text_input
    user_input.input(username)
    password_input.input(password)
    at.button(key="FormSubmitter:login-Inloggen").click().run()
    return at


def test_login_opens_the_staff_pages_and_logout_closes_them(app_env, app_test):
    at = app_test().run()
    at.switch_page("ui/login.py").run()
    assert at.title[0].value == "Inloggen"
    _login(at, "Sanne", PASSWORD)
    assert not at.exception and not at.error
    assert at.title[0].value == "Account"
    assert "sanne (medewerker)" in plain(at.markdown[0].value)
    at.switch_page("ui/review.py").run()
    assert at.title[0].value == "Vragen en antwoorden beoordelen"
    at.switch_page("ui/login.py").run()
    at.button[0].click().run()  # Uitloggen
    assert at.title[0].value == "Inloggen" and "Je bent uitgelogd." in at.info[0].value
    # a bookmark of the review page now leads to the login, and back to the review after logging in
    at.switch_page("ui/review.py").run()
    assert at.title[0].value == "Inloggen" and "Log in om Beoordelen te openen." in at.info[0].value
    at.switch_page("ui/login.py")  # where the browser now is (AppTest keeps the page it was told)
    _login(at, "sanne", PASSWORD)
    assert not at.exception and at.title[0].value == "Vragen en antwoorden beoordelen"


def test_wrong_password_and_lockout(app_env, app_test):
    at = app_test().run()
    at.switch_page("ui/login.py").run()
    for _ in range(4):
        _login(at, "anna", "fout-wachtwoord")
        assert plain(at.error[0].value) == "Onjuiste gebruikersnaam of wachtwoord."
    _login(at, "anna", "fout-wachtwoord")
    assert "Te veel mislukte inlogpogingen" in plain(at.error[0].value)
    _login(at, "anna", PASSWORD)  # even the right password is refused while locked
    assert "Te veel mislukte inlogpogingen" in plain(at.error[0].value)
    assert at.title[0].value == "Inloggen"


def test_expired_session_falls_back_to_anonymous(app_env, app_test):
    at = app_test()
    at.session_state["auth_token"] = app_env.staff_token
    at.run()
    at.switch_page("ui/review.py").run()
    assert at.title[0].value == "Vragen en antwoorden beoordelen"
    with session_scope(app_env.engine) as session:
        session.execute(update(LoginSession).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    at.switch_page("ui/login.py").run()
    assert at.title[0].value == "Inloggen"
    assert "Je sessie is verlopen" in at.info[0].value
    assert "auth_token" not in at.session_state
