"""The chat page through AppTest: first load, asking, streaming into the page, source cards, follow-ups,
feedback stored in the database, topic filter, new conversation, refusals, and escaping."""

from __future__ import annotations

import pytest
from apptest_support import plain
from sqlalchemy import select

from kb.db import Conversation, Exchange, Feedback, list_exchanges, session_scope
from ui.chat import DISCLAIMER, EXAMPLE_QUESTIONS

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store


def _all_markdown(at) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def _exchanges(engine) -> list[Exchange]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Exchange).order_by(Exchange.id)))


def test_first_load_shows_examples_disclaimer_and_no_history(app_env, app_test):
    at = app_test().run()
    assert not at.exception
    labels = [b.label for b in at.button]
    for example in EXAMPLE_QUESTIONS:
        assert example in labels
    assert any(DISCLAIMER in c.value for c in at.caption)
    assert "Nieuw gesprek" in [b.label for b in at.sidebar.button]
    assert len(at.chat_input) == 1
    assert not at.chat_message


def test_question_is_answered_with_source_cards_and_stored(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    assert not at.exception

    user, assistant = at.chat_message
    assert user.name == "user" and assistant.name == "assistant"
    assert plain(user.markdown[0].value) == "Wie beslist er in een stichting?"
    answer_text = plain(" ".join(m.value for m in assistant.markdown))
    assert "bestuur" in answer_text
    # a numbered source card (collapsed) with title, partner, section and a highlighted quote
    # the supporting lines ("Meer uit de bronnen (n)") and the cards, all collapsed: the answer fits a phone
    support, *cards = assistant.expander
    assert plain(support.label).startswith("Meer uit de bronnen (") and not support.proto.expanded
    labels = [plain(e.label) for e in cards]
    assert labels and labels[0] == "[1] De stichting — Buurtkracht Oost"
    assert not any(e.proto.expanded for e in cards)
    # the lead is the first block, before the collapsed supporting lines
    assert "Meer uit de bronnen" not in assistant.markdown[0].value
    captions = plain(" ".join(c.value for c in assistant.caption))
    assert "Buurtkracht Oost" in captions and "Wie beslist" in captions
    assert any(":orange-background[" in m.value for m in assistant.markdown)
    assert "Volledige brontekst lezen" in [b.label for b in assistant.button]
    # the example questions are gone once the conversation started
    assert EXAMPLE_QUESTIONS[0] not in [b.label for b in at.button]

    (exchange,) = _exchanges(app_env.engine)
    assert exchange.question == "Wie beslist er in een stichting?"
    assert not exchange.refused and exchange.answerer == "extractive"
    assert exchange.sources and {"doc_id", "chunk_id", "score", "rank"} <= set(exchange.sources[0])
    assert exchange.citations[0]["doc_id"] == app_env.doc_id("De stichting")
    assert exchange.citations[0]["quote"]


def test_full_source_text_opens_in_a_dialog(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    at.button(key="src_1_1_full").click().run()
    assert not at.exception
    texts = plain(" ".join(_all_markdown(at)))
    # the whole document, including a section the answer did not quote
    assert "notari" in texts and "De gemarkeerde zinnen zijn in het antwoord gebruikt." in texts


def test_feedback_thumbs_and_comment_are_stored(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    (exchange,) = _exchanges(app_env.engine)

    control = at.segmented_control(key=f"feedback_{exchange.id}")
    assert control.label == "Was dit antwoord nuttig?"
    # the buttons' names (what a screen reader says) are Dutch
    assert [o.replace(":material/thumb_up: ", "").replace(":material/thumb_down: ", "") for o in control.options] == [
        "Nuttig",
        "Niet nuttig",
    ]
    at.segmented_control(key=f"feedback_{exchange.id}").set_value(0).run()  # niet nuttig
    assert not at.exception
    with session_scope(app_env.engine) as session:
        feedback = session.get(Feedback, exchange.id)
        assert feedback is not None and feedback.score == -1 and feedback.comment is None

    at.text_input(key=f"fbcomment_{exchange.id}").input("Het antwoord noemt de statuten niet.").run()
    at.button(key=f"fbsend_{exchange.id}").click().run()
    assert "Bedankt voor je toelichting!" in [c.value for c in at.caption]
    with session_scope(app_env.engine) as session:
        feedback = session.get(Feedback, exchange.id)
        assert (feedback.score, feedback.comment) == (-1, "Het antwoord noemt de statuten niet.")

    at.segmented_control(key=f"feedback_{exchange.id}").set_value(1).run()  # changed to nuttig, comment kept
    with session_scope(app_env.engine) as session:
        assert session.get(Feedback, exchange.id).score == 1


def test_follow_up_uses_the_conversation(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    at.chat_input[0].set_value("En bij een vereniging?").run()
    assert not at.exception
    assert len(at.chat_message) == 4
    first, second = _exchanges(app_env.engine)
    assert second.conversation_id == first.conversation_id
    assert second.standalone_query != second.question
    assert "vereniging" in second.standalone_query.lower() and "beslist" in second.standalone_query.lower()
    assert any(s["doc_id"] == app_env.doc_id("De vereniging") for s in second.citations)


def test_example_question_button_asks_it(app_env, app_test):
    at = app_test().run()
    at.button(key="example_3").click().run()
    assert not at.exception
    assert plain(at.chat_message[0].markdown[0].value) == EXAMPLE_QUESTIONS[3]
    assert _exchanges(app_env.engine)[0].question == EXAMPLE_QUESTIONS[3]


def test_topic_filter_limits_sources_and_is_stored(app_env, app_test):
    at = app_test().run()
    at.sidebar.selectbox(key="chat_topic").set_value("belasting").run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    (exchange,) = _exchanges(app_env.engine)
    titles = {s["title"] for s in exchange.sources}
    assert titles == {"Giften aftrekken"}
    with session_scope(app_env.engine) as session:
        assert session.get(Conversation, exchange.conversation_id).topic_filter == "belasting"


def test_new_conversation_clears_the_chat_and_starts_a_new_stored_conversation(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    at.sidebar.button[0].click().run()
    assert not at.chat_message
    assert EXAMPLE_QUESTIONS[0] in [b.label for b in at.button]
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    first, second = _exchanges(app_env.engine)
    assert first.conversation_id != second.conversation_id
    assert second.standalone_query == second.question  # no carry-over from the cleared conversation


def test_refused_question_is_shown_and_stored_as_refused(make_app_env, app_test):
    env = make_app_env(KB_REFUSAL_THRESHOLD="5")
    at = app_test().run()
    at.chat_input[0].set_value("Welke kleurcode heeft de buurtbatterij?").run()
    assert not at.exception
    assert "Dat staat niet in de bronnen" in plain(" ".join(m.value for m in at.chat_message[1].markdown))
    with session_scope(env.engine) as session:
        (row,) = list_exchanges(session)
    assert row.refused and row.citations == []


def test_script_in_a_source_never_becomes_markup(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wat doet de kascommissie?").run()
    assert not at.exception
    # nothing from a document is ever rendered as HTML: the only HTML is the app's own fixed scripts and style
    own_style = '<style>[data-testid="stMarkdownContainer"] table{display:block;max-width:100%;overflow-x:auto}</style>'
    for element in at.html:
        body = element.proto.body
        assert "document.cookie" in body or "scrollIntoView" in body or body == own_style, body
        assert "kascommissie" not in element.proto.body.lower()
    rendered = _all_markdown(at)
    joined = "\n".join(rendered)
    assert "Kascommissie <script>alert('titel')</script>" in plain(joined)  # the title, as text
    assert "\\<script\\>alert\\(\\'xss\\'\\)" in joined  # the source text, as text
    for value in rendered:
        assert "<script" not in value.replace("\\<script", "")
        assert "<img" not in value.replace("\\<img", "")
        assert "](javascript" not in value
        assert ":red[" not in value


def test_script_in_a_question_is_shown_as_text(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("<script>alert(1)</script> **vet** :red[rood]").run()
    assert not at.exception
    shown = at.chat_message[0].markdown[0].value
    assert shown == r"\<script\>alert\(1\)\<\/script\> \*\*vet\*\* \:red\[rood\]"
    assert plain(shown) == "<script>alert(1)</script> **vet** :red[rood]"
