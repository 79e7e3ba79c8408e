"""End to end in a real browser: ``streamlit run app.py`` on a free loopback port with a temporary
knowledge base, driven by Debian's Chromium through Playwright.

A volunteer asks a question, sees the answer stream in with a source card, gives feedback (stored in the
database) and sees that a ``<script>`` in a source stays text. A partner logs in, uploads a DOCX, asks a
question only that document answers, deletes it, and sees the answer change. On failure a screenshot and
the server log are saved in ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apptest_support import PARTNER_A, PASSWORD, STARTER_DOCS, build_tiny_model, docx_bytes, model_texts, write_docs
from browser_support import ARTIFACTS, NEEDS_CHROMIUM, ROOT, wait_idle
from browser_support import ask as ask_question

DOCX_TITLE = "De buurtbatterij"
DOCX_TEXT = [
    "De buurtbatterij van de coöperatie heeft kleurcode oranje.",
    "Opladen van de buurtbatterij mag alleen overdag met zonnestroom van de daken in de buurt.",
]
ONLY_DOCX_QUESTION = "Welke kleurcode heeft de buurtbatterij?"
E2E_DOCS = {name: STARTER_DOCS[name] for name in ("stichting.md", "vereniging.md", "kwetsbaar.md")}
TABLE_GUIDE = ROOT / "knowledge_base" / "rechtsvorm" / "rechtsvorm-kiezen.md"  # has a comparison table
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, streamlit_app) -> Iterator[dict]:
    yield from _serve(tmp_path_factory, streamlit_app)


@pytest.fixture(scope="module")
def refusing_server(tmp_path_factory: pytest.TempPathFactory, streamlit_app) -> Iterator[dict]:
    """A second app that refuses every question (the tiny test model has no fitted refusal model)."""
    yield from _serve(tmp_path_factory, streamlit_app, KB_REFUSAL_THRESHOLD="5")


def _serve(tmp_path_factory: pytest.TempPathFactory, streamlit_app, **extra_env: str) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("e2e")
    model = build_tiny_model(base / "model", model_texts(ROOT) + [" ".join(DOCX_TEXT), DOCX_TITLE])
    # the tiny test model's similarities are lower than the real model's
    app = streamlit_app(base, model, KB_PARTNER_MATCH_FLOOR="0.05", **extra_env)
    # a couple of small Markdown documents, ingested with the kb CLI
    docs = write_docs(base / "docs", E2E_DOCS)
    shutil.copyfile(TABLE_GUIDE, docs / TABLE_GUIDE.name)
    app.kb("ingest", str(docs))
    # first-run set-up without a model install: loads the starter partner directory (knowledge_base/partners.yaml)
    app.kb("setup", "--skip-model")
    # the partner account, made with kb.db accounts
    from kb.db import create_user, dispose_engines, init_db, session_scope

    with session_scope(init_db(app.database)) as session:
        create_user(session, "anna", PASSWORD, "partner", PARTNER_A)
        create_user(session, "sanne", PASSWORD, "staff")
    try:
        yield {"url": app.start(), "database": app.database, "log": app.log, "base": base}
    finally:
        dispose_engines()


# ------------------------------------------------------------------------------------ helpers
def ask(page, question: str):
    """Ask and wait for the answer, recording its length as it streams in (``window.__answerLengths``)."""
    return ask_question(page, question, watch_stream=True)


def shot(page, name: str) -> None:
    """Keep a screenshot of a step (for people checking what the app shows)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"), full_page=True)


def log_in(page, username: str) -> None:
    goto_nav(page, "Inloggen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_text(f"Je bent ingelogd als {username}").wait_for()


def goto_nav(page, label: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label).click()
    wait_idle(page)


def feedback_rows(database: str) -> list[tuple[int, str | None]]:
    from sqlalchemy import select

    from kb.db import Feedback, init_db, session_scope

    with session_scope(init_db(database)) as session:
        return [(f.score, f.comment) for f in session.scalars(select(Feedback))]


# ------------------------------------------------------------------------------------ tests
def test_volunteer_asks_sees_streamed_answer_and_source_card_and_gives_feedback(page, server):
    page.goto(server["url"])
    page.get_by_text("Vraag het SamenWeten").first.wait_for()
    page.get_by_text("geen juridisch of fiscaal advies").wait_for()
    page.get_by_role("button", name="Wat is het verschil tussen een stichting en een vereniging?").wait_for()

    message = ask(page, "Wie beslist er in een stichting?")
    lengths = page.evaluate("window.__answerLengths")
    assert len(set(lengths)) >= 3 and max(lengths) > 100  # the answer grew while streaming in
    answer = message.inner_text()
    assert "bestuur" in answer
    # the source card, collapsed: number, title, partner; opened: section, quoted sentence highlighted,
    # full text, URL
    assert "[1] De stichting" in answer
    cards = message.get_by_test_id("stExpander").filter(has_text="De stichting")
    for i in range(cards.count()):
        cards.nth(i).locator("summary").click()
    page.wait_for_timeout(500)
    answer = message.inner_text()
    assert f"Partner: {PARTNER_A}" in answer and "Artikel/sectie: Wie beslist" in answer
    highlight = message.locator("span", has_text="Het bestuur van de stichting beslist").first
    assert highlight.is_visible()
    assert message.get_by_role("link", name="Originele bron openen").first.get_attribute("href") == (
        "https://example.org/stichting"
    )
    shot(page, "1-answer")

    message.get_by_role("button", name="Volledige brontekst lezen").first.click()
    dialog = page.get_by_test_id("stDialog")
    dialog.get_by_text("notariële akte").wait_for()
    shot(page, "2-full-text")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")

    # the feedback buttons are named in Dutch (st.feedback said "Thumbs up/down" to screen readers)
    buttons = message.get_by_test_id("stButtonGroup")
    assert "Nuttig" in buttons.inner_text() and "Niet nuttig" in buttons.inner_text()
    assert buttons.locator('[aria-label*="humbs"]').count() == 0
    buttons.get_by_text("Niet nuttig").click()
    wait_idle(page)
    comment = message.get_by_label("Toelichting (optioneel)")
    comment.fill("Ik mis hoe het bestuur wordt benoemd.")
    comment.press("Enter")
    wait_idle(page)
    message.get_by_role("button", name="Toelichting versturen").click()
    message.get_by_text("Bedankt voor je toelichting!").wait_for()
    assert feedback_rows(server["database"]) == [(-1, "Ik mis hoe het bestuur wordt benoemd.")]
    assert not page.errors


def test_script_in_a_source_stays_text(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    message = ask(page, "Wat doet de kascommissie met de boekhouding?")
    text = message.inner_text()
    assert "<script>alert('xss')</script>" in text and "<img src=x onerror=\"alert('img')\">" in text
    assert ":red[rood]" in text and "$x^2$" in text
    assert message.locator("script").count() == 0 and message.locator("img[src='x']").count() == 0
    assert message.locator("a[href^='javascript']").count() == 0
    shot(page, "3-escaped-source")
    assert not page.errors


def test_partner_uploads_docx_answer_uses_it_then_delete_changes_the_answer(page, server, tmp_path):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()

    log_in(page, "anna")
    page.get_by_text(f"Je bent ingelogd als anna (partner, {PARTNER_A})").wait_for()

    goto_nav(page, "Documenten")
    page.get_by_text(f"Documenten van {PARTNER_A}").wait_for()
    docx = tmp_path / "buurtbatterij.docx"
    docx.write_bytes(docx_bytes(DOCX_TITLE, DOCX_TEXT))
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(docx))
    page.get_by_text("buurtbatterij.docx").first.wait_for()
    page.get_by_role("textbox", name="Titel").first.fill(DOCX_TITLE)
    page.get_by_role("button", name="Toevoegen").click()
    page.get_by_text(f"buurtbatterij.docx: toegevoegd als “{DOCX_TITLE}”").wait_for(timeout=120_000)
    wait_idle(page)
    shot(page, "4-uploaded")

    goto_nav(page, "Vraag het SamenWeten")
    with_docx = ask(page, ONLY_DOCX_QUESTION).inner_text()
    assert f"[1] {DOCX_TITLE}" in with_docx and "kleurcode oranje" in with_docx
    shot(page, "5-answer-with-docx")

    goto_nav(page, "Documenten")
    page.get_by_text("Document kiezen").wait_for()
    chooser = page.get_by_role("combobox", name="Document kiezen")
    chooser.click()
    page.keyboard.type(DOCX_TITLE)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("tab", name="Verwijderen").click()
    page.get_by_text("Ja, ik wil dit document verwijderen").click()
    wait_idle(page)
    page.get_by_role("button", name="Verwijderen").click()
    page.get_by_text(f"“{DOCX_TITLE}” is verwijderd.").wait_for()
    wait_idle(page)

    goto_nav(page, "Vraag het SamenWeten")
    page.get_by_role("button", name="Nieuw gesprek").click()
    page.get_by_text("Voorbeeldvragen").wait_for()
    wait_idle(page)
    without_docx = ask(page, ONLY_DOCX_QUESTION)
    text = without_docx.inner_text()
    assert DOCX_TITLE not in text and "kleurcode oranje" not in text
    assert text != with_docx
    shot(page, "6-answer-after-delete")
    assert not page.errors


def test_staff_reviews_an_answer_and_exports_csv(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    question = "Mag een vereniging winst verdelen onder de leden?"
    ask(page, question)

    log_in(page, "sanne")
    goto_nav(page, "Beoordelen")
    page.get_by_text("Vragen en antwoorden beoordelen").wait_for()
    entry = page.get_by_test_id("stExpander").filter(has_text=question).first
    entry.click()
    entry.get_by_text("Opgehaalde bronnen").wait_for()
    entry.get_by_text("Onjuist").click()
    entry.get_by_label("Notitie").fill("Noem ook de uitzondering voor een coöperatie.")
    entry.get_by_role("button", name="Beoordeling opslaan").click()
    page.get_by_text("Beoordeling van vraag").wait_for()
    wait_idle(page)
    page.get_by_test_id("stExpander").filter(has_text=question).first.click()
    page.get_by_text("Onjuist door sanne").wait_for()
    page.wait_for_timeout(1000)  # let the expander finish opening
    shot(page, "7-review")

    with page.expect_download() as download:
        page.get_by_role("button", name="Exporteren als CSV").click()
    csv_text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(csv_text), delimiter=";"))
    row = next(r for r in rows if r["vraag"] == question)
    assert (row["beoordeling"], row["beoordeling_notitie"], row["beoordelaar"]) == (
        "incorrect",
        "Noem ook de uitzondering voor een coöperatie.",
        "sanne",
    )
    assert row["geweigerd"] == "nee" and "De vereniging" in row["bronnen"]
    assert not page.errors


# ------------------------------------------------------------------------------------ issue 16
TABLE_QUESTION = "Wat is het verschil tussen een stichting en een vereniging?"


def open_card_with_table(message, title: str):
    """Open the source cards of ``title`` one by one (several sections of one guide may be cited) and
    return the table in the first card that shows one."""
    cards = message.get_by_test_id("stExpander").filter(has_text=title)
    for i in range(cards.count()):
        card = cards.nth(i)
        if "Meer uit de bronnen" in card.locator("summary").inner_text():
            continue  # the collapsed supporting lines (its summary starts with an icon), not a source card
        card.locator("summary").click()
        with contextlib.suppress(Exception):
            card.locator("table").first.wait_for(timeout=3_000)
        if card.locator("table").count():
            return card, card.locator("table").first
    raise AssertionError(f"geen tabel in de kaarten van {title!r}: {message.inner_text()}")


def test_a_table_in_a_source_is_rendered_as_a_table(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    message = ask(page, TABLE_QUESTION)
    # the answer leads with sentences (a table does not fit a phone); the guide's comparison table is a real
    # table in its source card, not "| | Vereniging |…|---|"
    answer = message.get_by_test_id("stMarkdownContainer").first
    assert answer.locator("table").count() == 0, answer.inner_text()
    assert "?, " not in answer.inner_text() and "?:" not in answer.inner_text()
    card, table = open_card_with_table(message, "Welke rechtsvorm past bij ons initiatief?")
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    assert headers[1:] == ["Vereniging", "Stichting", "Coöperatie"]
    assert "Leden" in table.inner_text() and "|---|" not in message.inner_text()
    assert "**" not in message.inner_text()  # bold is bold, not asterisks
    # the card shows how current the guide is and links to the official source
    card.get_by_text("Geldig vanaf 1 januari 2026").wait_for()
    assert card.get_by_role("link", name="Officiële bron").get_attribute("href") == (
        "https://wetten.overheid.nl/BWBR0003045"
    )
    shot(page, "8-table")
    assert not page.errors


def test_a_follow_up_that_swaps_the_subject(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    ask(page, "Moeten we naar de notaris om een buurtvereniging te beginnen?")
    follow_up = ask(page, "En voor een stichting?")
    text = follow_up.inner_text()
    # the second question was searched with the subject swapped: the stichting guide is cited, and says
    # that a stichting always needs the notary
    expanders = follow_up.get_by_test_id("stExpander").all_inner_texts()
    labels = [e for e in expanders if "Meer uit de bronnen" not in e]  # the source cards, in order
    assert labels and "De stichting" in labels[0], labels
    assert "notari" in text
    shot(page, "9-follow-up")
    assert not page.errors


def test_reload_keeps_the_login_and_bookmarks_work(page, server):
    # a bookmark of /beoordelen before logging in: the login, not "Page not found"
    page.goto(server["url"] + "/beoordelen")
    page.get_by_text("Log in om Beoordelen te openen.").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_label("Gebruikersnaam").fill("sanne")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_text("Vragen en antwoorden beoordelen").first.wait_for()  # back where the bookmark pointed
    wait_idle(page)
    assert page.url.endswith("/beoordelen")

    page.reload()  # F5
    page.get_by_text("Vragen en antwoorden beoordelen").first.wait_for()
    page.get_by_text("Ingelogd als sanne (medewerker)").wait_for()
    goto_nav(page, "Documenten")
    page.get_by_text("Alle documenten").wait_for()
    page.reload()
    page.get_by_text("Alle documenten").wait_for()
    assert page.get_by_text("Page not found").count() == 0

    # logging out ends it for real: a reload stays logged out
    goto_nav(page, "Account")
    page.get_by_role("button", name="Uitloggen").click()
    page.get_by_text("Je bent uitgelogd.").wait_for()
    wait_idle(page)
    page.goto(server["url"] + "/beoordelen")
    page.get_by_text("Log in om Beoordelen te openen.").wait_for()
    assert not page.errors


def test_reload_keeps_the_conversation(page, server):
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    ask(page, "Wie beslist er in een stichting?")
    assert "gesprek=" in page.url
    page.reload()
    page.get_by_test_id("stChatMessage").first.wait_for()
    wait_idle(page)
    assert "Wie beslist er in een stichting?" in page.get_by_test_id("stChatMessage").first.inner_text()
    # a new tab on the same browser offers it under "Recente gesprekken"
    other = page.context.new_page()
    other.goto(server["url"])
    other.get_by_text("Recente gesprekken").wait_for()
    other.get_by_role("button", name="Wie beslist er in een stichting?").click()
    other.get_by_test_id("stChatMessage").first.wait_for()
    assert not page.errors


def _answer_top(page) -> float:
    return page.evaluate("""() => {
      const all = document.querySelectorAll('[data-testid="stChatMessage"]');
      return all[all.length - 1].getBoundingClientRect().top;
    }""")


def test_phone_view_starts_at_the_answer_and_screenshots(page, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # desktop
    page.goto(server["url"])
    page.get_by_test_id("stChatInputTextArea").wait_for()
    ask(page, TABLE_QUESTION)
    page.wait_for_timeout(800)
    page.screenshot(path=str(SCREENSHOTS / "answer-desktop.png"))
    # phone: 390 px wide
    phone = page.context.browser.new_context(
        viewport=PHONE, locale="nl-NL", device_scale_factor=2, is_mobile=True, has_touch=True
    )
    mobile = phone.new_page()
    mobile.set_default_timeout(60_000)
    try:
        mobile.goto(server["url"])
        mobile.get_by_test_id("stChatInputTextArea").wait_for()
        message = ask(mobile, TABLE_QUESTION)
        # the view starts at the answer's first line (not at its bottom), once the page has settled
        settled = f"""() => {{
          const all = document.querySelectorAll('[data-testid="stChatMessage"]');
          const top = all[all.length - 1].getBoundingClientRect().top;
          return top >= 0 && top < {PHONE["height"] / 3};
        }}"""
        with contextlib.suppress(Exception):  # the assertion below reports where the answer stands
            mobile.wait_for_function(settled, timeout=10_000)
        mobile.wait_for_timeout(6_500)  # past the page's last scroll attempt: it must still stand there
        top = _answer_top(mobile)
        assert 0 <= top < PHONE["height"] / 3, top
        # its first line is not hidden under the app's fixed header bar
        bar = mobile.evaluate(
            """() => { const b = document.querySelector('[data-testid="stHeader"]');
                       return b ? b.getBoundingClientRect().bottom : 0; }"""
        )
        assert top >= bar - 1, (top, bar)
        # the cards are collapsed
        assert message.get_by_test_id("stExpander").count() >= 1
        assert all(not d.get_attribute("open") for d in message.locator("details").all())
        # the answer is short: its lead (up to "Meer uit de bronnen") fits one screen, nothing runs off its side
        answer = message.get_by_test_id("stMarkdownContainer").first
        heights = answer.evaluate("""a => {
          const top = a.getBoundingClientRect().top;
          const more = [...a.querySelectorAll('p')].find(p => p.innerText.startsWith('Meer uit de bronnen'));
          return {lead: (more ? more.getBoundingClientRect().top : a.getBoundingClientRect().bottom) - top,
                  answer: a.getBoundingClientRect().height};
        }""")
        print(
            f"phone: lead {heights['lead']:.0f} px, answer text {heights['answer']:.0f} px (screen {PHONE['height']})"
        )
        assert heights["lead"] <= PHONE["height"], heights
        assert answer.locator("table").count() == 0
        assert mobile.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
        mobile.screenshot(path=str(SCREENSHOTS / "answer-phone.png"))
        ARTIFACTS.mkdir(exist_ok=True)
        mobile.screenshot(path=str(ARTIFACTS / "e2e-10-phone.png"))
        # the comparison table is in its card, and scrolls sideways inside it instead of running off the screen
        _, table = open_card_with_table(message, "Welke rechtsvorm past bij ons initiatief?")
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
        assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # wider than the card: it scrolls
        assert mobile.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
        mobile.screenshot(path=str(ARTIFACTS / "e2e-11-phone-card.png"))
    finally:
        phone.close()


def test_a_refused_question_names_a_partner_with_its_contact_routes(page, refusing_server):
    page.goto(refusing_server["url"])
    page.get_by_text("Vraag het SamenWeten").first.wait_for()
    message = ask(page, "Hoe richten we een zorgcoöperatie op voor de zorg aan ouderen in ons dorp?")
    text = message.inner_text()
    assert "Dat staat niet in de bronnen" in text
    assert "Wie kan je hierbij helpen?" in text and "Nederland Zorgt Voor Elkaar" in text
    assert "ondersteuningsteam@nlzve.nl" in text and "0800-8010" in text and "werkdagen 09.00–17.00" in text
    assert message.get_by_role("link", name="Website openen").first.get_attribute("href") == (
        "https://www.nlzorgtvoorelkaar.nl"
    )
    shot(page, "8-refusal-with-partner")
    message.get_by_role("link", name="Over Nederland Zorgt Voor Elkaar in de partnergids").click()
    wait_idle(page)
    page.get_by_role("heading", name="Partnergids").wait_for()
    page.get_by_text("Landelijk netwerk van en voor burgerinitiatieven in zorg en welzijn").wait_for()
    assert "org=nederland" in page.url
    assert not page.errors
