"""The partner directory page (Partnergids) and the help on a refused answer, through AppTest: staff add,
change and remove entries (audited, Dutch errors), a partner sees their own entry with documents and the
knowledge gaps on their topics (no who or when), a volunteer sees the directory without edit forms, and a
refused question in the chat names the fitting organisation with its contact routes."""

from __future__ import annotations

import pytest
from apptest_support import PARTNER_A, plain

from kb.db import list_events, record_exchange, session_scope, start_conversation
from kb.db.directory import EntryData, get_entry
from kb.partners.directory import DirectoryService

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store

BATTERY = "Steunpunt Buurtbatterij"
BATTERY_ENTRY = EntryData(
    name=BATTERY,
    description="Helpt coöperaties met een buurtbatterij: laden, kleurcode en zonnepanelen.",
    topics=["energie"],
    kinds=["buurtbatterij"],
    email="batterij@example.org",
    phone="0800-2222",
    opening_hours="werkdagen 10.00–16.00",
)
PARTNER_A_ENTRY = EntryData(
    name=PARTNER_A,
    description="Helpt stichtingen met het bestuur en giften.",
    topics=["stichting", "giften"],
    website="https://buurtkracht.example.org",
)


def directory_env(make_app_env, **extra: str):
    environment = make_app_env(KB_PARTNER_MATCH_FLOOR="0.05", **extra)
    service = DirectoryService(environment.engine)
    service.load_starter([BATTERY_ENTRY, PARTNER_A_ENTRY])
    return environment


@pytest.fixture
def env(make_app_env):
    return directory_env(make_app_env)


def open_page(app_test, token: str | None = None, **query: str):
    at = app_test()
    if token:
        at.session_state["auth_token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("ui/partners.py").run()
    assert not at.exception
    return at


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [s.value for s in at.success] + [i.value for i in at.info] + [w.value for w in at.warning]
    return plain("\n".join(parts))


def test_staff_changes_an_entry_and_the_change_is_audited(env, app_test):
    at = open_page(app_test, env.staff_token)
    assert at.title[0].value == "Partnergids"
    at.selectbox(key="partners_edit_choice").select("steunpunt-buurtbatterij").run()
    prefix = "edit_steunpunt-buurtbatterij"
    assert at.text_input(key=f"{prefix}_phone").value == "0800-2222"
    at.text_input(key=f"{prefix}_phone").input("0800-3333")
    at.text_input(key=f"{prefix}_kinds").input("buurtbatterij, energiecoöperatie")
    at.button(key=f"FormSubmitter:{prefix}-Opslaan").click().run()
    assert not at.exception
    assert f"{BATTERY}: soorten collectieven, telefoon opgeslagen." in texts(at)
    with session_scope(env.engine) as session:
        entry = get_entry(session, BATTERY)
        assert entry.phone == "0800-3333" and entry.kinds == ["buurtbatterij", "energiecoöperatie"]
        (event,) = [e for e in list_events(session) if e.action == "replace"]
        assert event.username == "sanne" and event.detail == "Partnergids: gewijzigd: soorten collectieven, telefoon"


def test_staff_adds_an_entry_and_bad_input_gets_a_dutch_error(env, app_test):
    at = open_page(app_test, env.staff_token)
    at.text_input(key="add_0_name").input("Dorpshuizen Noord")
    at.text_input(key="add_0_email").input("geen-adres")
    at.button(key="FormSubmitter:partners_add_0-Toevoegen").click().run()
    assert "'geen-adres' is geen geldig e-mailadres" in texts(at)
    with session_scope(env.engine) as session:
        assert get_entry(session, "Dorpshuizen Noord") is None

    at.text_input(key="add_0_email").input("info@dorpshuizen.example.org")
    at.text_input(key="add_0_topics").input("kleine kernen")
    at.button(key="FormSubmitter:partners_add_0-Toevoegen").click().run()
    assert not at.exception and "Dorpshuizen Noord is toegevoegd aan de partnergids." in texts(at)
    assert at.text_input(key="add_1_name").value == ""  # a fresh form
    with session_scope(env.engine) as session:
        assert get_entry(session, "dorpshuizen noord").topics == ["kleine kernen"]


def test_staff_removes_an_entry_after_confirming(env, app_test):
    at = open_page(app_test, env.staff_token)
    at.selectbox(key="partners_edit_choice").select("steunpunt-buurtbatterij").run()
    assert at.button(key="partners_remove_steunpunt-buurtbatterij").disabled
    at.checkbox(key="partners_confirm_steunpunt-buurtbatterij").check().run()
    at.button(key="partners_remove_steunpunt-buurtbatterij").click().run()
    assert f"{BATTERY} is uit de partnergids gehaald." in texts(at)
    with session_scope(env.engine) as session:
        assert get_entry(session, BATTERY) is None


def test_a_link_opens_an_entry_with_its_contact_routes_for_a_volunteer(env, app_test):
    at = open_page(app_test, org="steunpunt buurtbatterij")  # a link from before the keys became slugs still opens it
    shown = texts(at)
    assert "Helpt coöperaties met een buurtbatterij" in shown
    assert "E-mail: batterij@example.org" in shown and "Telefoon: 0800-2222" in shown
    assert "Netwerkpartner (nog geen documenten in de kennisbank)" in shown
    assert not list(at.text_input)  # no edit forms for a volunteer
    assert not [b for b in at.button if b.label == "Verwijderen"]


def test_a_partner_sees_their_entry_documents_and_gaps_without_who_or_when(env, app_test):
    with session_scope(env.engine) as session:
        conversation = start_conversation(session, "rechtsvorm").id
        other = start_conversation(session, "financiering").id
        record_exchange(
            session,
            conversation,
            "Hoe regelt een stichting het bestuur en giften?",
            "Dat staat niet in de bronnen.",
            refused=True,
        )
        record_exchange(
            session,
            other,
            "Welke kleurcode heeft de buurtbatterij?",
            "Dat staat niet in de bronnen.",
            refused=True,
        )
    at = open_page(app_test, env.partner_a_token)
    assert "Jouw vermelding" in [s.value for s in at.subheader]
    shown = texts(at)
    assert "Kennispartner (documenten in de kennisbank)" in shown
    assert not list(at.text_input)  # partners do not edit the directory
    at.toggle(key="partners_show_gaps").set_value(True).run()
    assert not at.exception
    shown = texts(at)
    assert "Hoe regelt een stichting het bestuur en giften?" in shown
    assert "kleurcode" not in shown  # a topic the partner has no documents on
    assert "sanne" not in shown and "2026" not in shown  # no who, no when
    expanders = [e.label for e in at.expander]
    assert "Documenten in de kennisbank (2)" in expanders


def test_a_refused_question_names_the_fitting_organisation_with_its_contact(make_app_env, app_test):
    directory_env(make_app_env, KB_REFUSAL_THRESHOLD="5")  # refuse (as in test_app_chat)
    at = app_test().run()
    at.chat_input[0].set_value("Welke kleurcode heeft de buurtbatterij?").run()
    assert not at.exception
    message = at.chat_message[1]
    shown = plain("\n".join([m.value for m in message.markdown] + [c.value for c in message.caption]))
    assert "Dat staat niet in de bronnen" in shown
    assert "Wie kan je hierbij helpen?" in shown and BATTERY in shown
    assert "E-mail: batterij@example.org" in shown and "Telefoon: 0800-2222" in shown
    assert "Bereikbaar: werkdagen 10.00–16.00" in shown
    assert any(f"Over {BATTERY} in de partnergids" in el.proto.label for el in at.get("page_link"))


def test_a_source_card_links_to_the_partners_entry(env, app_test):
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    assert not at.exception
    page_links = list(at.get("page_link"))
    assert any(f"Over {PARTNER_A} in de partnergids" in el.proto.label for el in page_links)
    assert any("org=buurtkracht-oost" in el.proto.query_string for el in page_links)
