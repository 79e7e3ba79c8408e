"""The one-question path of :class:`kb.embeddings.Embedder` (past ``encode``) gives ``encode``'s vector, and
falls back to ``encode`` for good when it does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from models_support import tiny_bert_folder

from kb.embeddings import Embedder


@pytest.fixture(scope="module")
def tiny_st(tmp_path_factory: pytest.TempPathFactory):
    from kb.models.loading import load_sentence_transformer

    folder = tiny_bert_folder(tmp_path_factory.mktemp("tiny-bert-direct") / "tiny-bert")
    model = load_sentence_transformer(str(folder), Path(folder).parent, dtype="float32")
    model.prompts = {"query": "wie ", "document": ""}
    return model


def test_direct_path_equals_encode_with_the_prompt(tiny_st) -> None:
    embedder = Embedder(tiny_st, name="tiny")
    embedder.record = []
    first = embedder.encode_queries(["beslist er een stichting"])[0]
    assert embedder._direct is True  # checked against encode on the first question
    embedder.forget_queries()
    again = embedder.encode_queries(["bestuur vereniging"])[0]
    raw = tiny_st.encode(["bestuur vereniging"], prompt_name="query", convert_to_numpy=True)[0]
    assert float(again @ (raw / np.linalg.norm(raw))) > 0.99999
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-5
    assert embedder.record[-1] == "wie bestuur vereniging"  # recorded as embedded, prompt included


def test_several_questions_at_once_still_go_through_encode(tiny_st, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = Embedder(tiny_st, name="tiny")
    monkeypatch.setattr(embedder, "_forward_query", lambda text: pytest.fail("one question at a time only"))
    assert embedder.encode_queries(["wie beslist", "bestuur"]).shape == (2, 16)


def test_a_direct_path_that_differs_is_dropped(tiny_st, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = Embedder(tiny_st, name="tiny")
    wrong = np.zeros(16, dtype=np.float32)
    wrong[0] = 1.0
    monkeypatch.setattr(embedder, "_forward_query", lambda text: wrong)
    got = embedder.encode_queries(["beslist er een stichting"])[0]
    assert embedder._direct is False
    raw = tiny_st.encode(["beslist er een stichting"], prompt_name="query", convert_to_numpy=True)[0]
    assert float(got @ (raw / np.linalg.norm(raw))) > 0.99999  # encode's vector, not the wrong one


def test_models_without_preprocess_use_encode(hashing_embedder: Embedder) -> None:
    assert hashing_embedder.encode_queries(["wie beslist"]).shape == (1, 256)
    assert hashing_embedder._direct is None  # never tried: the hashing model has no preprocess
