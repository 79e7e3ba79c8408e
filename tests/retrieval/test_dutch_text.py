"""Dutch text analysis for the lexical index: folding, article references, stop words, stemming, compounds."""

from __future__ import annotations

import pytest

from kb.retrieval.dutch_text import STOPWORDS, DutchAnalyzer, article_tokens, fold, words


def test_fold_lowercases_and_strips_accents():
    assert fold("Coöperatie") == "cooperatie"
    assert fold("Notariële AKTE") == "notariele akte"
    assert fold("één café") == "een cafe"


def test_words_are_folded_alphanumeric_runs():
    assert words("Coöperatie, BTW-aangifte 2026!") == ["cooperatie", "btw", "aangifte", "2026"]
    assert words("  ...  ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zie art. 2:26 BW.", ["§2:26"]),
        ("artikel 5b AWR", ["§5b"]),
        ("Art. 5B AWR", ["§5b"]),
        ("art. 6.32 Wet IB 2001", ["§6.32"]),
        ("volgens art. 6.32. van de wet", ["§6.32"]),  # a sentence-final dot is not part of the reference
        ("Dat staat in 4:21 Awb", ["§4:21"]),  # a bare book:article reference needs no "artikel"
        ("Artikel 2:26a lid 1 BW", ["§2:26a"]),
        ("zie artikelen 7a", ["§7a"]),
        ("art.3", ["§3"]),
        ("artt. 2:26 en 2:27 BW", ["§2:26", "§2:27"]),
    ],
)
def test_article_references_become_exact_tokens(text, expected):
    assert article_tokens(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hoe start ik 3 projecten?",  # 'start' contains 'art' but is not a reference
        "Een subsidie voor 2026",
        "Hoeveel artsen zijn er 5?",
        "Wat doet de penningmeester?",
    ],
)
def test_text_without_article_references_gives_none(text):
    assert article_tokens(text) == []


def test_article_token_is_kept_exact_in_the_token_stream():
    tokens = DutchAnalyzer().tokens("Wat zegt art. 2:26 BW?")
    assert tokens[0] == "§2:26"  # not stemmed, not split
    assert "§2:27" not in tokens
    # the numbers are ordinary tokens as well, so text that writes the reference differently still matches
    assert {"2", "26", "bw"} <= set(tokens)


def test_stop_words_are_dropped():
    analyzer = DutchAnalyzer()
    assert analyzer.tokens("Wat moeten wij doen als het bestuur het niet weet?") == ["bestuur", "weet"]
    assert analyzer.tokens("de het een en wat hoe wij mogen") == []


def test_stop_words_are_folded_and_include_question_words():
    assert {"wat", "hoe", "welke", "wij", "een", "de", "het"} <= STOPWORDS
    assert all(w == fold(w) for w in STOPWORDS)
    assert "vereniging" not in STOPWORDS and "bestuur" not in STOPWORDS


def test_single_letters_are_dropped_but_single_digits_kept():
    assert DutchAnalyzer().tokens("a b 7") == ["7"]


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("verenigingen", "vereniging"),
        ("stichtingen", "stichting"),
        ("besturen", "bestuur"),
        ("coöperaties", "Cooperatie"),
        ("vrijwilligers", "vrijwilliger"),
        ("subsidies", "subsidie"),
    ],
)
def test_inflections_stem_to_the_same_token(plural, singular):
    analyzer = DutchAnalyzer()
    assert analyzer.tokens(plural) == analyzer.tokens(singular)
    assert len(analyzer.tokens(plural)) == 1


def test_compounds_split_against_the_corpus_vocabulary():
    analyzer = DutchAnalyzer(
        DutchAnalyzer.build_vocabulary(["Vrijwilligers krijgen een vergoeding.", "De leden houden een vergadering."])
    )
    assert analyzer.split_compound("vrijwilligersvergoeding") == ("vrijwilligers", "vergoeding")  # linking -s-
    assert analyzer.split_compound("ledenvergadering") == ("leden", "vergadering")
    assert analyzer.split_compound("vergaderingleden") == ("vergadering", "leden")


def test_compound_of_three_parts():
    analyzer = DutchAnalyzer(["leden", "vergadering", "besluit"])
    assert analyzer.split_compound("ledenvergaderingsbesluit") == ("leden", "vergadering", "besluit")


def test_no_split_when_a_part_is_unknown_short_a_stop_word_or_a_number():
    analyzer = DutchAnalyzer(["vergoeding", "over", "bestuur", "fiets", "straat", "bel"])
    assert analyzer.split_compound("reiskostenvergoeding") == ()  # 'reiskosten' is not a corpus word
    assert analyzer.split_compound("oververgoeding") == ()  # 'over' is a stop word, never a part
    assert analyzer.split_compound("fietsbelstraat") == ()  # 'bel' is shorter than MIN_PART
    assert analyzer.split_compound("bestuur") == ()  # too short to be two parts
    assert analyzer.split_compound("12345678") == ()
    assert analyzer.split_compound("vergoeding") == ()  # a known word is not split into itself


def test_tokens_keep_the_whole_compound_and_add_its_parts():
    analyzer = DutchAnalyzer(["vrijwilligers", "vergoeding"])
    compound = analyzer.tokens("vrijwilligersvergoeding")
    loose = analyzer.tokens("vergoeding voor vrijwilligers")
    assert len(compound) == 3  # the whole word, then both parts
    assert compound[0] not in loose  # the whole compound has its own token
    assert set(compound[1:]) == set(loose)  # so the compound matches text that uses the separate words


def test_vocabulary_keeps_all_corpus_words_but_splits_only_on_long_content_words():
    vocab = DutchAnalyzer.build_vocabulary(["De Wmo 2015 en het BW", "Coöperatie"])
    assert vocab == {"de", "wmo", "en", "het", "bw", "cooperatie"}  # folded, numbers left out
    analyzer = DutchAnalyzer(vocab)
    assert analyzer.known_words == frozenset(vocab)
    assert analyzer.vocabulary == {"cooperatie"}  # too short or stop words are no compound parts
