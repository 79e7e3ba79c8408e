import pytest

from kb.evaluation.normalize import contains_fact, dutch_number, missing_facts, normalize_text


@pytest.mark.parametrize(
    "a, b",
    [
        ("zeven dagen", "7 dagen"),
        ("twee derden", "2/3"),
        ("€ 75 000", "75000"),
        ("€ 75.000", "75000"),
        ("€ 75 000", "€ 75.000"),
        ("€75.000", "75000"),
        ("een tiende", "1/10"),
        ("één tiende", "1/10"),
        ("Eén derde", "1/3"),
        ("een vierde", "een kwart"),
        ("een kwart", "1/4"),
        ("de helft", "1/2"),
        ("½", "1/2"),
        ("zestien weken", "16 weken"),
        ("dertien weken", "13 weken"),
        ("eenentwintig", "21"),
        ("tweeëntwintig", "22"),
        ("tweehonderdvijftig", "250"),
        ("vijftienhonderd", "1500"),
        ("tienduizend", "10000"),
        ("vijfenzeventigduizend", "75000"),
        ("75 duizend", "75000"),
        ("vijf honderd duizend", "500000"),
        ("1,5 miljoen", "1500000"),
        ("1.234.567", "1234567"),
        ("COÖPERATIE", "cooperatie"),
        ("notariële akte", "notariele akte"),
        ("zes  \n weken", "6 weken"),
        ("30 %", "30%"),
    ],
)
def test_equal_after_normalisation(a, b):
    assert normalize_text(a) == normalize_text(b)


def test_exact_forms():
    assert normalize_text("Zeven Dagen") == "7 dagen"
    assert normalize_text("€ 75.000") == "75000"
    assert normalize_text("twee derden") == "2/3"


def test_decimal_comma_and_colon_and_article_numbers_stay():
    assert normalize_text("€ 0,23 per kilometer") == "0,23 per kilometer"
    assert normalize_text("1.234,50") == "1234,50"
    assert normalize_text("art. 2:26 BW") == "art. 2:26 bw"
    assert normalize_text("art. 6.32 Wet IB 2001") == "art. 6.32 wet ib 2001"
    assert normalize_text("art. 2.1.3 Wmo 2015") == "art. 2.1.3 wmo 2015"


def test_words_that_merely_contain_number_words_stay():
    assert normalize_text("algemeen belang") == "algemeen belang"
    assert normalize_text("tweede lid") == "tweede lid"
    assert normalize_text("het derde lid") == "het derde lid"
    assert normalize_text("tienden") == "tienden"


def test_article_een_becomes_one_on_both_sides():
    assert normalize_text("een vereniging") == "1 vereniging"
    assert contains_fact("Ja, een vereniging mag dat.", "een vereniging")
    assert contains_fact("binnen één week", "1 week")


def test_dutch_number_words():
    assert dutch_number("een") == 1
    assert dutch_number("negentien") == 19
    assert dutch_number("honderd") == 100
    assert dutch_number("honderdeneen") == 101
    assert dutch_number("duizend") == 1000
    assert dutch_number("tweeduizendvijfhonderd") == 2500
    assert dutch_number("tweemiljoen") == 2_000_000
    assert dutch_number("eens") is None
    assert dutch_number("vereniging") is None
    assert dutch_number("duizendduizend") is None


def test_contains_fact_examples_from_the_benchmark():
    assert contains_fact("De termijn is zestien weken na de aanvraag.", "zestien weken")
    assert contains_fact("De termijn is 16 weken na de aanvraag.", "zestien weken")
    assert contains_fact("Zij moeten met ten minste 1/10 van de stemmen verzoeken.", "een tiende")
    assert contains_fact("De vrijstelling geldt tot € 75.000 winst.", "75 000")
    assert contains_fact("Het gaat om €2.769 per jaar.", "2.769")
    assert contains_fact("Een notariële akte is nodig.", "notari")
    assert contains_fact("Dat mag niet bij een Coöperatie.", "coöperatie")
    assert contains_fact("Je mag € 0,23 per km aftrekken.", "0,23")
    assert not contains_fact("De termijn is zes weken.", "zestien weken")
    assert not contains_fact("De vrijstelling geldt tot € 7.500.", "75 000")


def test_numbers_are_not_found_inside_longer_numbers():
    assert not contains_fact("Het bedrag is 2100 euro.", "21")
    assert not contains_fact("In 2021 gewijzigd.", "21")
    assert contains_fact("Het tarief is 21%.", "21")
    assert not contains_fact("Je mag € 10,23 aftrekken.", "0,23")
    assert not contains_fact("Je mag € 0,235 aftrekken.", "0,23")


def test_empty_fact_and_missing_facts():
    assert contains_fact("wat dan ook", "")
    assert missing_facts("Het bestuur beslist.", ["bestuur", "vergadering"]) == ["vergadering"]
    assert missing_facts("Het bestuur en de algemene vergadering.", ("bestuur", "vergadering")) == []
