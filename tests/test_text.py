"""kb.text: the one sentence splitter, paragraph splitter and web-address check."""

from __future__ import annotations

import pytest

from kb.text import split_paragraphs, split_sentences, web_address


# ------------------------------------------------------------------------------------ sentences
def test_sentences_end_at_end_marks_before_a_capital_or_digit():
    assert split_sentences("Wat kost het? Veel! Het bestuur beslist. 2026 wordt anders.") == [
        "Wat kost het?",
        "Veel!",
        "Het bestuur beslist.",
        "2026 wordt anders.",
    ]


def test_semicolon_and_colon_end_a_clause_before_a_capital():
    assert split_sentences("Eerst dit; Dan dat: Klaar.") == ["Eerst dit;", "Dan dat:", "Klaar."]
    assert split_sentences("Kies uit: een vereniging of een stichting.") == [
        "Kies uit: een vereniging of een stichting."
    ]


def test_article_references_stay_in_their_sentence():
    assert split_sentences("Zie art. 2:26 BW. Het bestuur beslist. Daarna de vergadering.") == [
        "Zie art. 2:26 BW.",
        "Het bestuur beslist.",
        "Daarna de vergadering.",
    ]
    assert split_sentences("Art. 6.32 Wet IB 2001 regelt giften. Lees het.") == [
        "Art. 6.32 Wet IB 2001 regelt giften.",
        "Lees het.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "Dit geldt bijv. De Buurtkamer en het dorpshuis.",
        "Het bestuur regelt o.a. De financiën en de leden.",
        "Bel ons, d.w.z. Het Juridisch Loket, op werkdagen.",
        "Dhr. Jansen en Mevr. De Vries tekenen namens het bestuur.",
        "Zie hfdst. 3 en blz. 12 voor de voorwaarden.",
        "Er zijn drie vormen, nl. Vereniging, stichting en coöperatie.",
        "Ca. 30 mensen kwamen, vgl. Vorig jaar 20.",
    ],
)
def test_abbreviations_do_not_end_a_sentence(sentence):
    assert split_sentences(sentence + " Daarna volgt meer.") == [sentence, "Daarna volgt meer."]


def test_points_inside_numbers_do_not_end_a_sentence():
    assert split_sentences("De grens is € 1.200,50 per jaar. Daarboven 2.500 euro.") == [
        "De grens is € 1.200,50 per jaar.",
        "Daarboven 2.500 euro.",
    ]
    assert split_sentences("Dat staat in lid 2. Het bestuur beslist.") == [
        "Dat staat in lid 2.",
        "Het bestuur beslist.",
    ]


def test_a_list_number_belongs_to_its_item():
    assert split_sentences("Stappen: 1. Kies een naam. 2. Ga naar de notaris. 10b. Betaal.") == [
        "Stappen:",
        "1. Kies een naam.",
        "2. Ga naar de notaris.",
        "10b. Betaal.",
    ]


def test_a_list_after_a_lead_in_without_capitals_stays_one_sentence():
    text = "Kies uit:\n- een vereniging;\n- een stichting."
    assert split_sentences(text) == [text]


def test_a_markdown_heading_line_is_a_sentence_of_its_own():
    assert split_sentences("## Oprichten\nEen stichting richt je op bij de notaris. Dat kost geld.") == [
        "## Oprichten",
        "Een stichting richt je op bij de notaris.",
        "Dat kost geld.",
    ]
    # an abbreviation before a heading does not pull the heading into its sentence
    assert split_sentences("Zie art.\n# Kop\nTekst.") == ["Zie art.", "# Kop", "Tekst."]


def test_quotes_around_sentences():
    assert split_sentences("Zie “Het boek”. “Dit” is het.") == ["Zie “Het boek”.", "“Dit” is het."]
    assert split_sentences('Hij zei: "Ja." Toen ging hij.') == ["Hij zei:", '"Ja."', "Toen ging hij."]


def test_keep_lead_ins_joins_a_colon_sentence_with_the_next():
    assert split_sentences("Vraag: Hoe richt ik een stichting op?", keep_lead_ins=True) == [
        "Vraag: Hoe richt ik een stichting op?"
    ]
    assert split_sentences("Stappen: 1. Kies een naam. 2. Betaal.", keep_lead_ins=True) == [
        "Stappen: 1. Kies een naam.",
        "2. Betaal.",
    ]


def test_lowercase_after_a_point_does_not_split():
    assert split_sentences("Zie bijv. de notaris. enz. verder.") == ["Zie bijv. de notaris. enz. verder."]


def test_text_without_an_end_is_one_sentence_and_empty_text_one_empty():
    assert split_sentences("  geen einde  ") == ["geen einde"]
    assert split_sentences("") == [""]


def test_line_breaks_inside_a_sentence_are_kept():
    assert split_sentences("Het bestuur\nbeslist. Daarna\nde leden.") == ["Het bestuur\nbeslist.", "Daarna\nde leden."]


# ------------------------------------------------------------------------------------ paragraphs
def test_paragraphs_end_at_blank_lines_and_keep_inner_line_breaks():
    text = "\n  Eerste alinea  \nloopt door.\n \t\nTweede.\n\n\n\nDerde\n"
    assert split_paragraphs(text) == ["Eerste alinea\nloopt door.", "Tweede.", "Derde"]
    assert split_paragraphs(" \n\n ") == []


LIST = "Artikel 5 Bestuur\n1. Het bestuur bestaat uit:\na. een voorzitter;\n- een penningmeester.\n2. De leden kiezen."


def test_list_items_start_no_paragraph_by_default():
    assert split_paragraphs(LIST) == [LIST]


def test_numbered_items_start_a_paragraph_and_keep_their_sub_items():
    assert split_paragraphs(LIST, items="numbered") == [
        "Artikel 5 Bestuur",
        "1. Het bestuur bestaat uit:\na. een voorzitter;\n- een penningmeester.",
        "2. De leden kiezen.",
    ]


def test_every_item_starts_a_paragraph_with_all():
    assert split_paragraphs(LIST, items="all") == [
        "Artikel 5 Bestuur",
        "1. Het bestuur bestaat uit:",
        "a. een voorzitter;",
        "- een penningmeester.",
        "2. De leden kiezen.",
    ]


def test_a_number_inside_a_line_starts_no_paragraph():
    text = "Het kost\n1.200 euro per jaar."
    assert split_paragraphs(text, items="all") == [text]


# ------------------------------------------------------------------------------------ web addresses
def test_web_address_accepts_complete_http_addresses():
    assert web_address(" https://example.org/a?b=c ") == "https://example.org/a?b=c"
    assert web_address("http://www.voorbeeld.nl") == "http://www.voorbeeld.nl"
    assert web_address("HTTPS://Example.org:8443/x") == "HTTPS://Example.org:8443/x"
    assert web_address("http://localhost:8501/") == "http://localhost:8501/"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)",
        "data:text/html,x",
        "//example.org",
        "ftp://example.org",
        "example.org",
        "https://",
        "https://exa mple.org",
        "https://intranet/x",
        "https://example.org:poort/",
        "https://example./x",
    ],
)
def test_web_address_refuses_anything_else(bad):
    assert web_address(bad) is None
