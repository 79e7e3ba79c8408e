import unicodedata

import pytest

from kb.evaluation.citations import (
    CitationError,
    chunk_matches_any,
    citation_matches,
    citation_problem,
    parse_citation,
)

OB = "ob_fondswerving_en_kantines_BWBR0034569.md"
VOG = "vog_vergoeding_vrijwilligers_BWBR0036372.md"
BW_PATH = ("Burgerlijk Wetboek Boek 2", "Boek 2 - Rechtspersonen > Titel 2 - Verenigingen")


def test_article_citation_matches_equal_heading_anywhere_in_path():
    assert citation_matches("art. 2:26 BW", "bw2.md", BW_PATH + ("art. 2:26 BW",))
    assert citation_matches("art. 2:26 BW", "bw2.md", ("art. 2:26 BW", "Lid 3"))


def test_article_citation_ignores_the_file():
    assert citation_matches("art. 2:26 BW", "wetten/bw2/anything_else.md", ("art. 2:26 BW",))


def test_article_prefix_of_a_longer_number_does_not_match():
    assert not citation_matches("art. 2:2 BW", "bw2.md", BW_PATH + ("art. 2:26 BW",))
    assert not citation_matches("art. 2:26 BW", "bw2.md", BW_PATH + ("art. 2:2 BW",))
    assert not citation_matches("art. 2:19 BW", "bw2.md", ("art. 2:19a BW",))
    assert not citation_matches("art. 6 Wet Vpb 1969", "vpb.md", ("art. 6a Wet Vpb 1969",))


def test_article_citation_matches_heading_with_title_after_a_space():
    path = ("Wet IB 2001", "Afdeling 6.9 - Giften", "art. 6.32 Wet IB 2001 – Aftrekbare giften")
    assert citation_matches("art. 6.32 Wet IB 2001", "ib.md", path)
    assert not citation_matches("art. 6.3 Wet IB 2001", "ib.md", path)


def test_article_citation_does_not_match_body_mentions_in_other_headings():
    assert not citation_matches("art. 2:26 BW", "bw2.md", ("Toelichting op art. 2:26 BW",))
    assert not citation_matches("art. 2:26 BW", "bw2.md", ())


def test_section_citation_number_and_title():
    path = ("Omzetbelasting, fondswerving en kantines", "2.1 Fondswerving")
    assert citation_matches(f"{OB} § 2.1", OB, path)
    assert citation_matches(f"{OB} § 2.1", OB, ("2.1",))


def test_section_citation_does_not_match_subsection():
    path = ("Omzetbelasting, fondswerving en kantines", "2.1.1 Kantineactiviteiten")
    assert not citation_matches(f"{OB} § 2.1", OB, path)
    assert citation_matches(f"{OB} § 2.1.1", OB, path)


def test_section_citation_matches_outer_heading_of_a_nested_chunk():
    path = ("Titel", "4 Kantineregeling", "4.1 Goedkeuring kantineregeling")
    assert citation_matches(f"{OB} § 4", OB, path)
    assert citation_matches(f"{OB} § 4.1", OB, path)
    assert not citation_matches(f"{OB} § 4.2", OB, path)


def test_section_citation_named_article():
    assert citation_matches(f"{VOG} § Artikel 1", VOG, ("Beleidsregels", "Artikel 1"))
    assert not citation_matches(f"{VOG} § Artikel 1", VOG, ("Beleidsregels", "Artikel 10"))
    assert not citation_matches(f"{VOG} § Artikel 1", VOG, ("Beleidsregels", "Artikel 2"))


def test_section_citation_compares_file_names_not_paths():
    path = ("Titel", "2.1 Fondswerving")
    assert citation_matches(f"{OB} § 2.1", f"/data/corpus/beleidsregels/{OB}", path)
    assert citation_matches(f"{OB} § 2.1", f"beleidsregels\\{OB}", path)
    assert citation_matches(f"beleidsregels/{OB} § 2.1", OB, path)


def test_same_heading_in_another_file_does_not_match():
    path = ("Titel", "2.1 Fondswerving")
    assert not citation_matches(f"{OB} § 2.1", "ib_giften_en_anbi_BWBR0036069.md", path)
    assert not citation_matches(f"{OB} § 2.1", "other_" + OB, path)


def test_file_citation_matches_any_chunk_of_that_file_only():
    assert citation_matches(OB, OB, ("Titel", "5 Ingetrokken regeling"))
    assert citation_matches(OB, f"corpus/beleidsregels/{OB}", ())
    assert not citation_matches(OB, VOG, ("Titel",))


@pytest.mark.parametrize(
    "citation",
    [f"{OB} §2.1", f"{OB}§ 2.1", f"{OB}  §  2.1 ", f"{OB}\u00a0§\u00a02.1", f"\t{OB} § 2.1\n"],
)
def test_section_sign_spacing_variants(citation):
    assert citation_matches(citation, OB, ("2.1 Fondswerving",))
    assert not citation_matches(citation, OB, ("2.1.1 Kantineactiviteiten",))


def test_unicode_forms_are_normalised():
    heading_nfd = unicodedata.normalize("NFD", "2.2 Beëindiging van periodieke giften")
    citation_nfc = unicodedata.normalize("NFC", "ib.md § 2.2 Beëindiging")
    assert citation_matches(citation_nfc, "ib.md", ("Titel", heading_nfd))
    assert citation_matches("art. 2:26\u00a0BW", "bw2.md", ("art.  2:26 BW",))


def test_heading_markers_and_padding_are_ignored():
    assert citation_matches("art. 2:26 BW", "bw2.md", ("### art. 2:26 BW ",))


def test_matching_is_exact_about_case():
    assert not citation_matches("art. 2:26 bw", "bw2.md", ("art. 2:26 BW",))


def test_chunk_matches_any():
    path = ("Titel", "art. 2:27 BW")
    assert chunk_matches_any(["art. 2:26 BW", "art. 2:27 BW"], "bw2.md", path)
    assert not chunk_matches_any(["art. 2:26 BW", f"{OB} § 2.1"], "bw2.md", path)
    assert not chunk_matches_any([], "bw2.md", path)


def test_parse_citation_kinds():
    assert parse_citation("art. 2:26 BW").kind == "article"
    sec = parse_citation(f"{OB} § 2.1")
    assert (sec.kind, sec.file, sec.heading) == ("section", OB, "2.1")
    whole = parse_citation(OB)
    assert (whole.kind, whole.file, whole.heading) == ("file", OB, None)


@pytest.mark.parametrize("bad", ["", "   ", "§ 2.1", f"{OB} §", f"{OB} §   "])
def test_parse_citation_rejects_incomplete(bad):
    with pytest.raises(CitationError):
        parse_citation(bad)
    assert not citation_matches(bad, OB, ("2.1 Fondswerving",))


def test_citation_problem():
    for good in ["art. 2:26 BW", "art. 6.32 Wet IB 2001", f"{OB} § 2.1", f"{VOG} § Artikel 1", OB]:
        assert citation_problem(good) is None, good
    for bad in ["art. 2:26", "art.  ", "artikel 2:26 BW zonder bestand", f"{OB} §", "", "map/"]:
        assert citation_problem(bad) is not None, bad
