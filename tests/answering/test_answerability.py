from kb.answering.answerability import asking_part, check_answerable
from kb.retrieval.dutch_text import DutchAnalyzer
from kb.retrieval.types import Hit
from kb.store import StoredChunk

CORPUS = [
    "Een stichting wordt opgericht bij notariële akte. Het bestuur van de stichting beslist.",
    "Een vereniging heeft leden. De algemene vergadering van leden kiest het bestuur.",
    "De vrijstelling geldt tot een bedrag van € 15.000 per jaar.",
    "Het bezwaar moet binnen zes weken na de datum van het besluit worden ingediend bij de gemeente.",
]


def hit(text: str) -> Hit:
    chunk = StoredChunk("c", "d", text, "", "T", "s.md", "p", "overig", ("T",), None, None, 0)
    return Hit(1, 1.0, chunk)


ANALYZER = DutchAnalyzer(DutchAnalyzer.build_vocabulary(CORPUS))


def test_asking_part_takes_the_question_sentence():
    assert asking_part("We zijn een club. Wat moeten we doen? Dank.") == "Wat moeten we doen?"
    assert asking_part("Geen vraagteken hier. Laatste zin") == "Laatste zin"


def test_price_question_needs_an_amount_in_the_sources():
    no_amount = [hit(CORPUS[0])]
    verdict = check_answerable("Wat kost het om een stichting op te richten?", no_amount, ANALYZER)
    assert not verdict.answerable and "bedrag" in verdict.reason
    assert check_answerable("Wat kost het?", [hit(CORPUS[2])], ANALYZER).answerable


def test_date_question_needs_a_date_or_term():
    assert not check_answerable("Voor welke datum moeten we bezwaar maken?", [hit(CORPUS[0])], ANALYZER).answerable
    assert check_answerable("Voor welke datum moeten we bezwaar maken?", [hit(CORPUS[3])], ANALYZER).answerable


def test_unknown_name_and_unknown_subject_are_refused():
    sources = [hit(CORPUS[0])]
    assert not check_answerable("Welke regels gelden in de gemeente Zwolle?", sources, ANALYZER).answerable
    verdict = check_answerable("Mogen we bier en wijn schenken zonder vergunning?", sources, ANALYZER)
    assert not verdict.answerable and "bier" in verdict.reason


def test_ordinary_questions_pass():
    sources = [hit(CORPUS[0]), hit(CORPUS[1])]
    assert check_answerable("Onze club groeit. Wie kiest het bestuur van een vereniging?", sources, ANALYZER).answerable
    assert check_answerable("Heeft een stichting leden?", sources, ANALYZER).answerable


def test_short_known_words_are_known():
    analyzer = DutchAnalyzer(DutchAnalyzer.build_vocabulary(["De Wmo regelt ondersteuning door de gemeente."]))
    sources = [hit("De Wmo regelt ondersteuning door de gemeente.")]
    assert check_answerable("Wat zegt de Wmo over ondersteuning?", sources, analyzer).answerable


def test_unknown_acronym_is_refused_and_known_acronym_passes():
    analyzer = DutchAnalyzer(DutchAnalyzer.build_vocabulary(CORPUS + ["Een ANBI en een SBBI hebben een RSIN."]))
    sources = [hit(CORPUS[0])]
    verdict = check_answerable("Hoe vragen we SDE++-subsidie aan voor ons dak?", sources, analyzer)
    assert not verdict.answerable and "SDE" in verdict.reason
    assert not check_answerable("Moet ons buurthuis een AED hebben?", sources, analyzer).answerable
    assert check_answerable("Kan onze stichting een ANBI worden?", sources, analyzer).answerable
    assert check_answerable("Heeft een SBBI-stichting een bestuur?", sources, analyzer).answerable
