from kb.answering.citations import check_answer, clean_markers, markers_in


def test_markers_in_order_and_grouped():
    assert markers_in("A [2]. B [1, 3]. C [2].") == [2, 1, 3]


def test_invalid_markers_are_removed_and_reported():
    text, valid, removed = clean_markers("De vereniging mag geen winst verdelen [1] [7]. Ook niet [0].", 2)
    assert "[7]" not in text and "[0]" not in text and "[1]" in text
    assert valid == [1]
    assert removed == ["[7]", "[0]"]


def test_unsupported_sentence_is_marked():
    sources = ["Een vereniging mag geen winst verdelen onder haar leden."]
    checked = check_answer(
        "Een vereniging mag geen winst verdelen onder leden [1]. De maan is van kaas gemaakt [1].",
        sources,
        embedder=None,
        support_threshold=0.5,
        unsupported_marker=" (niet onderbouwd)",
    )
    assert checked.unsupported == ["De maan is van kaas gemaakt."]
    assert "kaas gemaakt [1]. (niet onderbouwd)" in checked.text
    assert "leden [1]." in checked.text and "leden [1]. (niet" not in checked.text
