"""The chat page through AppTest: Markdown rendered safely (tables, lists), follow-ups that swap the subject,
refusals that help (clickable suggestions, the reason once, contact routes), how current a source is, the
topic filter shown and reset, the start-up notice."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from apptest_support import plain
from sqlalchemy import select

from kb.db import Exchange, session_scope

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "knowledge_base" / "rechtsvorm" / "rechtsvorm-kiezen.md"


def _exchanges(engine) -> list[Exchange]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Exchange).order_by(Exchange.id)))


def _with_guide(make_app_env):
    env = make_app_env()
    report = env.kb.pipeline.ingest_paths([GUIDE])
    assert report.ok, [r.error for r in report.failed]
    return env


def test_a_table_in_a_source_is_rendered_as_a_table_in_its_card_and_the_lead_is_sentences(make_app_env, app_test):
    env = _with_guide(make_app_env)
    at = app_test().run()
    at.chat_input[0].set_value("Wat is het belangrijkste verschil tussen vereniging, stichting en coöperatie?").run()
    assert not at.exception
    (exchange,) = _exchanges(env.engine)
    cited = [c["doc_id"] for c in exchange.citations]
    assert env.doc_id("Welke rechtsvorm past bij ons initiatief?") in cited, exchange.citations
    assistant = at.chat_message[1]
    rendered = [m.value for m in assistant.markdown]
    tables = [m for m in rendered if re.search(r"^\| --- \| --- \| --- \| --- \|$", m, re.MULTILINE)]
    assert tables, rendered  # a Markdown table (in the answer and/or the source card), not raw pipes
    unhighlighted = [re.sub(r":orange-background\[(.*?)\]", r"\1", m) for m in tables]
    assert any("| Leden | ja | nee | ja |" in m for m in unhighlighted), tables
    # the answer itself (its first block) leads with sentences that fit a phone: the table is in the card
    assert "| --- |" not in rendered[0] and "Leden" not in rendered[0].split("Meer uit de bronnen")[0], rendered[0]
    assert rendered[0] not in tables
    assert "**\\-**" not in rendered[0]  # a supporting line's bullet is no bold heading
    # bold from the guide is bold, not "**vereniging**" shown with its asterisks
    joined = "\n".join(rendered)
    assert "\\*\\*vereniging\\*\\*" not in joined and "\\*\\*stichting\\*\\*" not in joined
    # the card says how current the guide is and links to the official source it rests on
    card_captions = plain(" ".join(c.value for c in assistant.caption))
    assert "Geldig vanaf 1 januari 2026" in card_captions and "laatst nagekeken op 26 november 2026" in card_captions
    assert "https://wetten.overheid.nl/BWBR0003045" in [b.proto.url for b in assistant.get("link_button")]


def test_follow_up_that_swaps_the_subject_searches_the_new_subject(app_env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Moeten we naar de notaris om een buurtvereniging te beginnen?").run()
    at.chat_input[0].set_value("En voor een stichting?").run()
    assert not at.exception
    first, second = _exchanges(app_env.engine)
    assert second.standalone_query == "Moeten we naar de notaris om een stichting te beginnen?"
    assert second.citations and second.citations[0]["doc_id"] == app_env.doc_id("De stichting")
    assert "notari" in plain(" ".join(m.value for m in at.chat_message[3].markdown))


def test_refusal_shows_its_reason_once_and_clickable_suggestions(make_app_env, app_test):
    make_app_env(KB_REFUSAL_THRESHOLD="5")
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    assert not at.exception
    assistant = at.chat_message[1]
    text = plain(" ".join(m.value for m in assistant.markdown))
    assert text.count("Dat staat niet in de bronnen") == 1
    assert not [c for c in assistant.caption if "geweigerd" in c.value]
    suggestions = [b for b in assistant.button if b.key and b.key.startswith("suggest_")]
    assert 1 <= len(suggestions) <= 3
    assert "- De stichting" not in text  # the list is buttons now, not text
    suggestions[0].click().run()
    assert not at.exception
    # the dialog with the suggested document's full text
    assert any(
        "De gemarkeerde zinnen" in c.value or "notari" in plain(m.value) for c in at.caption for m in at.markdown
    )


def test_contact_routes_from_the_answer_are_shown(make_app_env, app_test):
    from ui import resources

    make_app_env(KB_REFUSAL_THRESHOLD="5")
    # the shape the partner directory gives a refusal ("help": organisation, why, contact)
    routes = [
        {
            "organisation": "Nederland Zorgt Voor Elkaar",
            "why": "helpt zorginitiatieven",
            "contact": {"email": "ondersteuningsteam@nlzve.nl", "phone": "0800-8010"},
        }
    ]
    # The app's own knowledge base (the process-wide resource the page uses) gets these routes as the
    # assistant's help finder, in place of the partner directory (tests/ui/test_app_partners.py runs that).
    resources.knowledge_base().assistant.help_finder = lambda answer: [dict(r) for r in routes]
    at = app_test().run()
    at.chat_input[0].set_value("Hoe begin ik een zorgcoöperatie?").run()
    shown = plain(" ".join(m.value for m in at.chat_message[1].markdown))
    assert "Wie kan je hierbij helpen?" in shown and "Nederland Zorgt Voor Elkaar" in shown
    assert "ondersteuningsteam@nlzve.nl" in shown and "0800-8010" in shown


def test_help_routes_read_dicts_and_objects():
    from ui.chat import help_routes

    answer = SimpleNamespace(
        help=[
            {"organisation": "A", "why": "x", "contact": "a@example.org"},
            SimpleNamespace(organisation="B", why="y", contact="0800"),
            {"why": "no name"},
        ]
    )
    assert [r["organisation"] for r in help_routes(answer)] == ["A", "B"]
    assert help_routes(SimpleNamespace()) == []


def test_topic_filter_says_it_is_on_and_what_it_leaves_out_and_new_conversation_resets_it(app_env, app_test):
    at = app_test().run()
    assert not [i for i in at.info if "Onderwerpfilter" in i.value]
    at.sidebar.selectbox(key="chat_topic").set_value("belasting").run()
    notice = plain(next(i.value for i in at.info if "Onderwerpfilter" in i.value)).replace("**", "")
    assert notice == (
        "Onderwerpfilter aan: je zoekt alleen in Belasting en giften (1 document). "
        "3 documenten over andere onderwerpen worden overgeslagen."
    )
    # the sidebar shows Dutch topic names, not keys
    assert "Belasting en giften" in at.sidebar.selectbox(key="chat_topic").options
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    at.sidebar.button[0].click().run()  # Nieuw gesprek
    assert at.sidebar.selectbox(key="chat_topic").value == ""
    assert not [i for i in at.info if "Onderwerpfilter" in i.value]


def test_start_up_notice_while_the_model_loads(app_env, app_test, monkeypatch):
    from ui import resources

    class Starting:
        ready = False
        error = None

        def wait(self, timeout=None):
            return False

    monkeypatch.setattr(resources, "warm_up", lambda settings=None: Starting())
    at = app_test().run()
    assert not at.exception
    assert any("bezig met opstarten" in i.value for i in at.info)
    assert len(at.chat_input) == 1  # the page is usable meanwhile

    class Failed:
        ready = True
        error = "het model ontbreekt"

    monkeypatch.setattr(resources, "warm_up", lambda settings=None: Failed())
    at = app_test().run()
    assert any("kon niet opstarten" in plain(e.value) and "het model ontbreekt" in plain(e.value) for e in at.error)


def test_warm_up_loads_the_knowledge_base_once(app_env):
    from ui import resources

    warm = resources.warm_up()
    assert warm.wait(120) and warm.error is None and warm.seconds is not None
    assert resources.warm_up() is warm


def test_question_survives_the_start_up_finishing_during_its_run(app_env, app_test, monkeypatch):
    """The start-up can finish between the page's check and the notice's own check in the same run; the
    question asked in that run must still be answered (a rerun from the notice would drop it)."""
    from ui import resources

    real = resources.warm_up()
    assert real.wait(120)

    class FinishesNow:
        """Not ready at the page's first look, ready from then on."""

        error = None

        def __init__(self) -> None:
            self.looks = 0

        @property
        def ready(self) -> bool:
            self.looks += 1
            return self.looks > 1

        def wait(self, timeout=None):
            return True

    at = app_test().run()
    flip = FinishesNow()
    monkeypatch.setattr(resources, "warm_up", lambda settings=None: flip)
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    assert not at.exception
    assert flip.looks >= 2  # the notice looked again in the same run
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
