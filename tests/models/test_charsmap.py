"""Tests of kb.models.charsmap: the written trie drives the tokenizers ``Precompiled`` normalizer."""

from __future__ import annotations

from kb.models.charsmap import build_precompiled_charsmap


def test_precompiled_charsmap_drives_tokenizers_normalizer() -> None:
    from tokenizers import normalizers

    mapping = {"Ａ": "A", "ﬁ": "fi", "\x01": "", "\t": " ", "①": "1", "é": "é"}
    norm = normalizers.Precompiled(build_precompiled_charsmap(mapping))
    assert norm.normalize_str("Ａﬁ\x01x\t①café") == "Afix 1café"
    assert norm.normalize_str("gewone tekst zonder iets") == "gewone tekst zonder iets"


def test_precompiled_charsmap_with_shared_prefixes_and_many_keys() -> None:
    from tokenizers import normalizers

    # keys sharing UTF-8 lead bytes (the whole fullwidth block) and replacements shared by several keys
    mapping = {chr(0xFF01 + i): chr(0x21 + i) for i in range(94)}
    mapping.update({"ﬀ": "ff", "ﬃ": "ffi", "Å": "Å"})
    norm = normalizers.Precompiled(build_precompiled_charsmap(mapping))
    text = "".join(mapping)
    assert norm.normalize_str(text) == "".join(mapping.values())
    assert norm.normalize_str("ｓａｍｅｎ ＷＥＴＥＮ！") == "samen WETEN!"
