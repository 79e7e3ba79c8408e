"""The documents page through AppTest: upload with metadata (success and a clear Dutch failure), the
partner's own list, replace, delete, and a partner who tries to touch another partner's document."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_support import PARTNER_A, PARTNER_B, docx_bytes, plain
from streamlit.testing.v1 import AppTest

from kb.db import list_events, session_scope

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store

ROOT = Path(__file__).resolve().parents[2]
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def open_documents(app_test, token: str):
    at = app_test()
    at.session_state["auth_token"] = token
    at.run()
    at.switch_page("ui/documents.py").run()
    assert not at.exception
    return at


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [s.value for s in at.success]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [t.value for t in at.title]
    return plain("\n".join(parts))


def test_partner_sees_only_own_documents(app_env, app_test):
    at = open_documents(app_test, app_env.partner_a_token)
    assert at.title[0].value == f"Documenten van {PARTNER_A}"
    (table,) = at.dataframe
    titles = set(table.value["Titel"])
    assert titles == {"De stichting", "Giften aftrekken"}
    assert "Partner" not in table.value.columns  # a partner's own list
    assert set(table.value["Stukken"]) >= {1} and all(table.value["Toegevoegd"])
    assert at.selectbox(key="doc_choice_").options == ["De stichting — stichting.md", "Giften aftrekken — giften.md"]


def test_upload_docx_succeeds_with_metadata_and_audit(app_env, app_test):
    at = open_documents(app_test, app_env.partner_a_token)
    data = docx_bytes("Buurtbatterij", ["De buurtbatterij heeft kleurcode oranje voor laden."])
    at.file_uploader(key="upload_files_0").set_value([("buurtbatterij.docx", data, DOCX_MIME)])
    at.text_input(key="upload_0_title").input("De buurtbatterij")
    at.selectbox(key="upload_0_topic").set_value("financiering")
    at.text_input(key="upload_0_url").input("https://example.org/batterij")
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    assert not at.exception
    assert "buurtbatterij.docx: toegevoegd als “De buurtbatterij” (1 stuk tekst)." in texts(at)
    assert not at.error

    record = next(r for r in app_env.kb.store.list_documents() if r.title == "De buurtbatterij")
    assert (record.partner, record.topic, record.url, record.kind) == (
        PARTNER_A,
        "financiering",
        "https://example.org/batterij",
        "docx",
    )
    assert "De buurtbatterij" in set(at.dataframe[0].value["Titel"])
    with session_scope(app_env.engine) as session:
        (event,) = list_events(session)
    assert (event.username, event.action, event.doc_id) == ("anna", "add", record.doc_id)
    # the form is fresh again after the upload
    assert at.file_uploader(key="upload_files_1") is not None


def test_failed_upload_shows_a_clear_dutch_error_next_to_a_success(app_env, app_test):
    at = open_documents(app_test, app_env.partner_a_token)
    at.file_uploader(key="upload_files_0").set_value(
        [
            ("goed.md", b"# Goed\n\nEen gewoon document over de kas.\n", "text/markdown"),
            ("oud.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "application/msword"),
            ("leeg.txt", b"   ", "text/plain"),
        ]
    )
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    assert not at.exception
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 2
    assert errors[0].startswith("oud.doc is niet toegevoegd.") and "Opslaan als" in errors[0]
    assert errors[1].startswith("leeg.txt is niet toegevoegd.")
    assert [plain(s.value) for s in at.success] == ["goed.md: toegevoegd als “Goed” (1 stuk tekst)."]
    assert {r.source for r in app_env.kb.store.list_documents(partner=PARTNER_A)} == {
        "stichting.md",
        "giften.md",
        "goed.md",
    }


def _pdf_bytes(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def test_upload_pdf_html_and_text_in_one_go(app_env, app_test):
    at = open_documents(app_test, app_env.partner_b_token)
    at.file_uploader(key="upload_files_0").set_value(
        [
            (
                "jaarverslag.pdf",
                _pdf_bytes("Het jaarverslag van het dorpshuis wordt in juni vastgesteld."),
                "application/pdf",
            ),
            (
                "huisregels.html",
                b"<html><head><title>Huisregels</title></head><body><h1>Huisregels</h1>"
                b"<p>Na 23 uur is het stil in het dorpshuis.</p><script>alert(1)</script></body></html>",
                "text/html",
            ),
            ("notitie.txt", b"Sleutels liggen bij de beheerder.", "text/plain"),
        ]
    )
    at.selectbox(key="upload_0_topic").set_value("overig")
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    assert not at.exception and not at.error
    assert len(at.success) == 3
    kinds = {r.source: r.kind for r in app_env.kb.store.list_documents(partner=PARTNER_B)}
    assert {kinds["jaarverslag.pdf"], kinds["huisregels.html"], kinds["notitie.txt"]} == {"pdf", "html", "text"}
    html_id = next(r.doc_id for r in app_env.kb.store.list_documents() if r.source == "huisregels.html")
    assert "alert" not in app_env.kb.store.document_text(html_id)


def test_document_text_can_be_read_and_gaps_are_shown(app_env, app_test):
    from kb.config import TOPICS
    from kb.db import record_exchange, start_conversation

    doc_id = app_env.doc_id("De stichting")
    own = {r.topic for r in app_env.kb.store.list_documents(partner=PARTNER_A)}
    other = next(t for t in TOPICS if t not in own)
    with session_scope(app_env.engine) as session:
        conversation = start_conversation(session).id  # no topic chosen: the best source's topic counts
        source = [{"doc_id": doc_id, "chunk_id": "x", "title": "De stichting", "section": "", "score": 0.2, "rank": 1}]
        for question in ("Hoeveel kost een huurcontract?", "hoeveel kost een huurcontract"):
            record_exchange(
                session, conversation, question, "Dat staat niet in de bronnen.", refused=True, sources=source
            )
        elsewhere = start_conversation(session, topic_filter=other).id
        record_exchange(session, elsewhere, "Geheime vraag over een ander onderwerp?", "Niet gevonden.", refused=True)
    at = open_documents(app_test, app_env.partner_a_token)
    at.selectbox(key="doc_choice_").set_value(doc_id).run()
    at.button(key=f"view_{doc_id}").click().run()
    assert not at.exception
    assert "Een stichting richt je op bij de notaris met een notariële akte." in texts(at)
    at.toggle(key="documents_show_missing").set_value(True).run()
    assert "**2×** hoeveel kost een huurcontract" in texts(at)  # the newest wording, asked twice
    assert "Geheime vraag" not in texts(at)  # a partner sees the gaps of their own topics only


def test_upload_without_a_file_asks_for_one(app_env, app_test):
    at = open_documents(app_test, app_env.partner_a_token)
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    assert "Kies eerst een of meer bestanden" in at.warning[0].value


def test_partner_deletes_own_document(app_env, app_test):
    doc_id = app_env.doc_id("Giften aftrekken")
    at = open_documents(app_test, app_env.partner_a_token)
    at.selectbox(key="doc_choice_").set_value(doc_id).run()
    assert at.query_params["doc"] == [doc_id] or at.query_params["doc"] == doc_id
    assert at.button(key=f"delete_{doc_id}").disabled  # needs confirmation first
    at.checkbox(key=f"confirm_delete_{doc_id}").check().run()
    at.button(key=f"delete_{doc_id}").click().run()
    assert not at.exception
    assert app_env.kb.store.get_document(doc_id) is None
    assert "“Giften aftrekken” is verwijderd." in texts(at)
    with session_scope(app_env.engine) as session:
        assert [(e.action, e.doc_id, e.username) for e in list_events(session)] == [("remove", doc_id, "anna")]


def test_partner_replaces_own_document(app_env, app_test):
    doc_id = app_env.doc_id("De stichting")
    at = open_documents(app_test, app_env.partner_a_token)
    at.selectbox(key="doc_choice_").set_value(doc_id).run()
    new = "# De stichting\n\n## Bestuur\n\nHet bestuur van de stichting vergadert vier keer per jaar.\n"
    at.file_uploader(key=f"replace_file_{doc_id}").set_value(("stichting-2026.md", new.encode(), "text/markdown"))
    at.button(key=f"FormSubmitter:replace_{doc_id}-Vervangen").click().run()
    assert not at.exception
    assert "stichting-2026.md: vervangen als “De stichting”" in texts(at)
    record = app_env.kb.store.get_document(doc_id)
    assert record.source == "stichting-2026.md" and record.url == "https://example.org/stichting"
    assert "vier keer per jaar" in app_env.kb.store.document_text(doc_id)


def test_partner_cannot_touch_another_partners_document(app_env, app_test):
    other = app_env.doc_id("De vereniging")  # belongs to PARTNER_B
    before = (app_env.kb.store.get_document(other), [c.chunk_id for c in app_env.kb.store.chunks_of(other)])
    at = app_test()
    at.session_state["auth_token"] = app_env.partner_a_token
    at.query_params["doc"] = other  # a deep link to Dorpshuis West's document
    at.run()
    at.switch_page("ui/documents.py").run()
    assert not at.exception
    message = texts(at)
    assert f"Je kunt alleen documenten van je eigen organisatie ({PARTNER_A}) beheren" in message
    assert PARTNER_B in message
    assert not [b for b in at.button if b.key and other in b.key]  # no replace or delete offered
    assert "De vereniging" not in set(at.dataframe[0].value["Titel"])
    after = (app_env.kb.store.get_document(other), [c.chunk_id for c in app_env.kb.store.chunks_of(other)])
    assert after == before


def test_staff_manages_all_documents_and_chooses_the_partner(app_env, app_test):
    at = open_documents(app_test, app_env.staff_token)
    assert at.title[0].value == "Alle documenten"
    assert set(at.dataframe[0].value["Partner"]) == {PARTNER_A, PARTNER_B}
    at.file_uploader(key="upload_files_0").set_value([("kas.md", b"# Kas\n\nDe kas klopt.\n", "text/markdown")])
    assert PARTNER_A in at.selectbox(key="upload_0_partner").options  # organisations come from the register
    at.selectbox(key="upload_0_partner").set_value(PARTNER_B)
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    assert not at.exception and not at.error
    assert "kas.md" in {r.source for r in app_env.kb.store.list_documents(partner=PARTNER_B)}

    other = app_env.doc_id("De vereniging")
    at.selectbox(key="doc_choice_").set_value(other).run()
    at.checkbox(key=f"confirm_delete_{other}").check().run()
    at.button(key=f"delete_{other}").click().run()
    assert app_env.kb.store.get_document(other) is None


def test_volunteer_cannot_open_the_documents_page(app_env, app_test):
    at = app_test().run()
    at.switch_page("ui/documents.py").run()  # a bookmark: sent to the login instead of "Page not found"
    assert not at.exception
    assert at.title[0].value == "Inloggen" and "Log in om Documenten te openen." in at.info[0].value
    assert not at.file_uploader
    # and the page refuses by itself when reached anyway
    page = AppTest.from_file(str(ROOT / "ui" / "documents.py"), default_timeout=60).run()
    assert not page.exception
    assert "Log in als partner of medewerker" in page.warning[0].value
    assert not page.dataframe and not page.file_uploader


def test_dutch_texts_date_field_and_topic_names(app_env, app_test):
    at = open_documents(app_test, app_env.partner_a_token)
    # the uploader's built-in English ("Upload", "25MB per file") is replaced by Dutch (our own CSS)
    styles = " ".join(h.proto.body for h in at.html)
    assert 'content:"Bestanden kiezen"' in styles and "maximaal 25 MB per bestand" in styles
    # topics by their Dutch names in the table and the form
    assert set(at.dataframe[0].value["Onderwerp"]) == {
        "Rechtsvorm (vereniging, stichting, coöperatie)",
        "Belasting en giften",
    }
    assert (
        "Belasting en giften"
        in [at.selectbox(key="upload_0_topic").format_func(o) for o in at.selectbox(key="upload_0_topic").options]
        or "Belasting en giften" in at.selectbox(key="upload_0_topic").options
    )
    # the date is typed as dd-mm-jjjj; a wrong date stops the upload with a Dutch error
    field = at.text_input(key="upload_0_valid_from")
    assert field.placeholder == "dd-mm-jjjj"
    data = docx_bytes("Buurtbatterij", ["De buurtbatterij heeft kleurcode oranje voor laden."])
    at.file_uploader(key="upload_files_0").set_value([("buurtbatterij.docx", data, DOCX_MIME)])
    field.input("32-13-2026")
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    assert "is geen datum: schrijf hem als dd-mm-jjjj" in texts(at)
    assert "De buurtbatterij" not in {r.title for r in app_env.kb.store.list_documents()}
    at.text_input(key="upload_0_valid_from").input("1-3-2026")
    at.button(key="FormSubmitter:upload_0-Toevoegen").click().run()
    record = next(r for r in app_env.kb.store.list_documents() if r.source == "buurtbatterij.docx")
    assert record.valid_from == "2026-03-01"
