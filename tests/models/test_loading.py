"""Tests of kb.models.loading: safe loading, the precision profile, no network, and the real models.

Loading a local folder must never reach a hub. That rests on ``local_files_only`` alone (no offline
switch in the process environment): the test below turns every offline switch off, blocks every socket,
and loads a real (tiny) BERT folder through the same code path as the installed models.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
from models_support import DUTCH_QUERY, IRRELEVANT, RELEVANT, installed_model, safe_folder, tiny_bert_folder

from kb.models.errors import UnsafeModelError
from kb.models.loading import _torch_dtype, load_sentence_transformer
from kb.models.registry import DEFAULT_MODEL, MODEL_SPECS


def test_load_refuses_unsafe_folder_before_loading(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "m")
    (folder / "modeling_x.py").write_text("raise SystemExit\n")
    with pytest.raises(UnsafeModelError):
        load_sentence_transformer(str(folder), tmp_path / "models")


def test_auto_dtype_follows_profile() -> None:
    import torch

    gemma = MODEL_SPECS["embeddinggemma-300m"]
    expected = {"float32": torch.float32, "bfloat16": torch.bfloat16}[gemma.cpu_dtype]
    assert _torch_dtype(gemma, "cpu", "auto") == expected
    assert _torch_dtype(gemma, "cuda", "auto") is None  # accelerators: the model's own dtype
    assert _torch_dtype(None, "cpu", "auto") == torch.float32
    assert _torch_dtype(None, "cpu", "bfloat16") == torch.bfloat16
    with pytest.raises(ValueError, match="dtype"):
        _torch_dtype(None, "cpu", "float8")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert_folder(tmp_path_factory.mktemp("tiny-bert") / "tiny-bert")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Every offline switch off (env and huggingface_hub's constant), every connection refused and recorded."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    attempts: list[tuple[object, ...]] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("geen netwerk in deze test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize("dtype", ["float32", "auto"])
def test_local_folder_loads_without_network_or_offline_switch(
    tiny_bert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: list, dtype: str
) -> None:
    import huggingface_hub.constants
    import sentence_transformers

    seen: list[tuple[str | None, bool]] = []
    real = sentence_transformers.SentenceTransformer

    def watching(*args, **kwargs):  # what the environment looks like while the model is being loaded
        seen.append((os.environ.get("HF_HUB_OFFLINE"), huggingface_hub.constants.HF_HUB_OFFLINE))
        assert kwargs.get("local_files_only") is True and kwargs.get("trust_remote_code") is False
        return real(*args, **kwargs)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", watching)
    environ_before = dict(os.environ)

    model = load_sentence_transformer(str(tiny_bert), tmp_path / "models", dtype=dtype)

    vectors = model.encode(["wie beslist in een stichting", "bestuur vereniging"])
    assert vectors.shape == (2, 16) and np.isfinite(vectors).all()
    assert seen and all(state == (None, False) for state in seen)  # no offline switch was flipped to load
    assert no_network == []  # and still nothing tried to connect
    assert dict(os.environ) == environ_before
    assert model.samenweten_precision.dtype == "float32" or dtype == "auto"


def test_the_network_guard_sees_a_hub_call(no_network: list) -> None:
    """The guard above is not blind: asking the hub for something is caught as a connection attempt."""
    from huggingface_hub import HfApi

    with pytest.raises(Exception):  # noqa: B017 - whatever the hub client wraps the refused connection in
        HfApi().model_info("intfloat/multilingual-e5-small", timeout=5)
    assert no_network


# ------------------------------------------------------------------------------------------------
# the real models (installed by `kb models install`; CI installs both first)


@pytest.mark.model
@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_real_model_embeds_dutch(name: str) -> None:
    spec = MODEL_SPECS[name]
    model = installed_model(name)
    q = model.encode_query([DUTCH_QUERY])
    d = model.encode_document([RELEVANT, IRRELEVANT])
    assert q.shape == (1, spec.dimension) and d.shape == (2, spec.dimension)
    # normalized by the model's Normalize module; in bfloat16 that is exact to ~3 significant digits
    atol = 1e-2 if "bfloat16" in str(model.dtype) else 1e-4
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=atol)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=atol)
    decision = model.samenweten_precision  # dtype="auto": decided for this CPU (kb.precision)
    assert decision.dtype in ("float32", "bfloat16") and str(model.dtype).endswith(decision.dtype)
    sims = (d @ q.T).ravel()
    assert sims[0] > sims[1] + 0.05, sims
    # the prompts from the installed folder are applied: a query embeds differently from a document
    plain = model.encode_document([DUTCH_QUERY])
    assert float((plain @ q.T).item()) < 0.999
    assert model.prompts[spec.query_prompt_name] == spec.query_prompt
    assert model.prompts[spec.document_prompt_name] == spec.document_prompt
    assert model.max_seq_length == spec.max_seq_length


@pytest.mark.model
def test_default_model_bfloat16_matches_float32() -> None:
    import torch

    texts = [RELEVANT, IRRELEVANT]
    auto = installed_model(DEFAULT_MODEL)
    other = "bfloat16" if auto.samenweten_precision.dtype == "float32" else "float32"
    ref = auto.encode_document(texts)
    model = installed_model(DEFAULT_MODEL, other)
    assert model.dtype == {"bfloat16": torch.bfloat16, "float32": torch.float32}[other]
    alt = model.encode_document(texts)
    assert np.all((ref * alt).sum(axis=1) > 0.98)
