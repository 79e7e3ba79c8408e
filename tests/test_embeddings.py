"""The embedding layer: query and document prompts, the title slot, float32 normalisation, batching, the
LangChain interface, the Chroma adapter (name and config survive a store reopen) and the per-process cache.

A recording model stands in for SentenceTransformer: it returns fixed vectors and records every call, so
the tests see exactly which texts and prompt names reach the model.
"""

from __future__ import annotations

import hashlib

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import known_embedding_functions

import kb.embeddings as embeddings
from kb.embeddings import ChromaEmbeddingFunction, Embedder, get_embedder

GEMMA_PROMPTS = {
    "query": "task: search result | query: ",
    "document": "title: none | text: ",
    "Retrieval-query": "task: search result | query: ",
}
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class RecordingModel:
    """The slice of the SentenceTransformer API that Embedder uses, recording each encode call."""

    def __init__(self, prompts=None, dim: int = 8, dtype=np.float32, scale: float = 3.0, reported_dim=True):
        self.prompts = dict(prompts or {})
        self.dim = dim
        self.dtype = dtype
        self.scale = scale
        self.reported_dim = reported_dim
        self.calls: list[tuple[list[str], str | None]] = []

    def get_sentence_embedding_dimension(self):
        return self.dim if self.reported_dim else None

    def vector(self, text: str) -> np.ndarray:
        digest = hashlib.sha256(text.encode()).digest()
        return np.array([b - 127.5 for b in digest[: self.dim]], dtype=np.float64) / 127.5 * self.scale

    def encode(
        self,
        texts,
        prompt_name=None,
        batch_size=16,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    ):
        self.calls.append((list(texts), prompt_name))
        # like sentence-transformers: the model applies the named prompt itself
        prefix = self.prompts.get(prompt_name, "") if prompt_name else ""
        return np.vstack([self.vector(prefix + t) for t in texts]).astype(self.dtype)


# ------------------------------------------------------------------------------------------ prompts
@pytest.mark.parametrize(
    "prompts,query,document",
    [
        (GEMMA_PROMPTS, "query", "document"),
        (E5_PROMPTS, "query", "passage"),
        ({"Retrieval-query": "q", "Retrieval-document": "d"}, "Retrieval-query", "Retrieval-document"),
        ({"search_query": "search_query: ", "search_document": "search_document: "}, "search_query", "search_document"),
        ({}, None, None),
    ],
)
def test_query_and_document_prompt_names_are_picked(prompts, query, document):
    e = Embedder(RecordingModel(prompts), name="m")
    assert (e.query_prompt_name, e.document_prompt_name) == (query, document)


def test_queries_and_documents_use_their_own_prompt():
    model = RecordingModel(E5_PROMPTS)
    e = Embedder(model, name="e5")
    q = e.encode_queries(["Heeft een stichting leden?"])
    d = e.encode_documents(["Heeft een stichting leden?"])
    assert model.calls == [(["Heeft een stichting leden?"], "query"), (["Heeft een stichting leden?"], "passage")]
    assert not np.allclose(q, d)  # the same text embeds differently as a question and as a passage


def test_model_without_prompts_gets_the_plain_text():
    model = RecordingModel({})
    Embedder(model, name="m").encode_queries(["Wat is een vereniging?"])
    assert model.calls == [(["Wat is een vereniging?"], None)]


# ------------------------------------------------------------------------------------------ titles
def test_title_fills_the_embeddinggemma_title_slot():
    model = RecordingModel(GEMMA_PROMPTS)
    Embedder(model, name="gemma").encode_documents(
        ["In de statuten staat het doel.", "Een stichting heeft geen leden."],
        titles=["Vereniging > Statuten", ""],
    )
    assert model.calls == [
        (
            [
                "title: Vereniging > Statuten | text: In de statuten staat het doel.",
                "title: none | text: Een stichting heeft geen leden.",  # no title: the slot keeps 'none'
            ],
            None,  # the prompt is already in the text: the model must not add it again
        )
    ]


@pytest.mark.parametrize(
    "prompts,expected",
    [
        (E5_PROMPTS, ["passage: Vereniging > Statuten\n\nHet doel staat erin.", "passage: Zonder titel."]),
        ({}, ["Vereniging > Statuten\n\nHet doel staat erin.", "Zonder titel."]),
    ],
)
def test_title_goes_in_front_for_models_without_a_title_slot(prompts, expected):
    model = RecordingModel(prompts)
    Embedder(model, name="m").encode_documents(
        ["Het doel staat erin.", "Zonder titel."], titles=["Vereniging > Statuten", ""]
    )
    assert model.calls == [(expected, None)]


def test_title_changes_the_vector():
    e = Embedder(RecordingModel(GEMMA_PROMPTS), name="gemma")
    plain = e.encode_documents(["Het bestuur beslist."])
    titled = e.encode_documents(["Het bestuur beslist."], titles=["Stichting > Bestuur"])
    untitled = e.encode_documents(["Het bestuur beslist."], titles=[""])
    assert not np.allclose(plain, titled)
    np.testing.assert_allclose(plain, untitled)  # "title: none" is the model's own default prompt


# ------------------------------------------------------------------------------------------ vectors
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_vectors_are_float32_and_unit_length(dtype):
    e = Embedder(RecordingModel(dtype=dtype), name="m")
    for vectors in (e.encode_queries(["a", "b"]), e.encode_documents(["c", "d", "e"])):
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_normalisation_happens_in_float32():
    # |v|² of this half-precision vector overflows float16 (max 65504): normalising in float16 gives inf/0
    model = RecordingModel(dtype=np.float16, scale=300.0)
    raw = model.encode(["Een vereniging heeft leden."])
    with np.errstate(over="ignore"):
        assert np.isinf(np.linalg.norm(raw))
    vector = Embedder(RecordingModel(dtype=np.float16, scale=300.0), name="m").encode_queries(
        ["Een vereniging heeft leden."]
    )[0]
    assert np.all(np.isfinite(vector)) and np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(vector, raw[0].astype(np.float32) / np.linalg.norm(raw[0].astype(np.float32)), rtol=1e-6)


def test_zero_vector_stays_zero_without_nan():
    class Zero(RecordingModel):
        def encode(self, texts, **kw):
            return np.zeros((len(texts), self.dim), dtype=np.float32)

    vectors = Embedder(Zero(), name="m").encode_documents(["", "leeg"])
    assert not np.isnan(vectors).any() and not vectors.any()


def test_documents_are_embedded_in_batches_in_order_with_progress():
    model = RecordingModel({"document": ""})
    e = Embedder(model, name="m", batch_size=8)  # 2 batches per step: 16 texts
    texts = [f"Tekst nummer {i}." for i in range(40)]
    done: list[int] = []
    vectors = e.encode_documents(texts, progress=done.append)
    assert [len(t) for t, _ in model.calls] == [16, 16, 8]
    assert done == [16, 32, 40]
    lengths = [len(t) for call, _ in model.calls for t in call]
    assert lengths == sorted(lengths, reverse=True)  # longest first: batches of similar length
    single = Embedder(RecordingModel({"document": ""}), name="m").encode_documents([texts[25]])
    np.testing.assert_allclose(vectors[25], single[0], rtol=1e-6)


def test_no_documents_give_an_empty_matrix_without_calling_the_model():
    model = RecordingModel(dim=8)
    out = Embedder(model, name="m").encode_documents([])
    assert out.shape == (0, 8) and out.dtype == np.float32
    assert model.calls == []


def test_dimension_is_reported_or_measured():
    assert Embedder(RecordingModel(dim=8), name="m").dimension == 8
    assert Embedder(RecordingModel(dim=6, reported_dim=False), name="m").dimension == 6


def test_langchain_interface_matches_the_numpy_methods():
    e = Embedder(RecordingModel(E5_PROMPTS), name="e5")
    query = e.embed_query("Heeft een stichting leden?")
    docs = e.embed_documents(["Een stichting heeft geen leden.", "Een vereniging heeft leden."])
    assert isinstance(query, list) and all(isinstance(x, float) for x in query)
    assert isinstance(docs, list) and len(docs) == 2 and isinstance(docs[0], list)
    np.testing.assert_allclose(query, e.encode_queries(["Heeft een stichting leden?"])[0], rtol=1e-6)
    np.testing.assert_allclose(
        docs, e.encode_documents(["Een stichting heeft geen leden.", "Een vereniging heeft leden."]), rtol=1e-6
    )


# ------------------------------------------------------------------------------------------ Chroma adapter
def test_chroma_function_name_and_config_round_trip():
    f = ChromaEmbeddingFunction("multilingual-e5-small")
    assert ChromaEmbeddingFunction.name() == "samenweten_sentence_transformer"
    assert known_embedding_functions[f.name()] is ChromaEmbeddingFunction  # registered with Chroma
    rebuilt = ChromaEmbeddingFunction.build_from_config(f.get_config())
    assert isinstance(rebuilt, ChromaEmbeddingFunction) and rebuilt.get_config() == f.get_config()
    assert rebuilt.model_name == "multilingual-e5-small"
    assert f.default_space() == "cosine" and f.supported_spaces() == ["cosine"]


def test_chroma_function_embeds_documents_and_queries_with_our_prompts():
    model = RecordingModel(E5_PROMPTS)
    e = Embedder(model, name="e5")
    f = ChromaEmbeddingFunction("e5", loader=lambda: e)
    docs = f(["Een stichting heeft geen leden."])
    query = f.embed_query(["Heeft een stichting leden?"])
    assert [p for _, p in model.calls] == ["passage", "query"]
    np.testing.assert_allclose(docs[0], e.encode_documents(["Een stichting heeft geen leden."])[0], rtol=1e-6)
    np.testing.assert_allclose(query[0], e.encode_queries(["Heeft een stichting leden?"])[0], rtol=1e-6)


def test_reopened_collection_embeds_with_the_same_model_not_chromas_default(
    tmp_path, monkeypatch, settings, hashing_embedder
):
    loaded: list[str] = []

    def fake_get_embedder(s):
        loaded.append(s.embed_model)
        return hashing_embedder

    monkeypatch.setattr(embeddings, "get_embedder", fake_get_embedder)
    monkeypatch.setattr("kb.config.get_settings", lambda: settings)
    chroma = ChromaSettings(anonymized_telemetry=False)
    first = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=chroma)
    col = first.get_or_create_collection(
        "samenweten_test",
        embedding_function=ChromaEmbeddingFunction("hashing-test", loader=lambda: hashing_embedder),
        configuration={"hnsw": {"space": "cosine"}},
    )
    texts = ["Een stichting heeft geen leden.", "De kantine is op zaterdag open."]
    col.add(ids=["a", "b"], documents=texts, embeddings=hashing_embedder.encode_documents(texts))
    # later, another process opens the collection without passing an embedding function
    second = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=chroma)
    reopened = second.get_collection("samenweten_test")
    function = reopened.configuration["embedding_function"]
    assert isinstance(function, ChromaEmbeddingFunction) and function.model_name == "hashing-test"
    found = reopened.query(query_texts=["Heeft een stichting leden?"], n_results=1)
    assert found["ids"] == [["a"]]
    assert loaded and set(loaded) == {"hashing-test"}  # our adapter with the stored model name did the embedding


# ------------------------------------------------------------------------------------------ cache
def test_get_embedder_loads_each_model_once(monkeypatch, settings):
    loads: list[tuple] = []

    def fake_load(s):
        loads.append((s.embed_model, s.resolved_models_dir(), s.embed_device, s.embed_dtype, s.embed_batch_size))
        return Embedder(RecordingModel(), name=s.embed_model, batch_size=s.embed_batch_size)

    monkeypatch.setattr(embeddings, "_load", fake_load)
    embeddings.clear_embedders()
    try:
        a = get_embedder(settings)
        assert get_embedder(settings.model_copy()) is a
        other = get_embedder(settings.model_copy(update={"embed_model": "ander-model", "embed_batch_size": 4}))
        assert other is not a and other.name == "ander-model" and other.batch_size == 4
        assert loads == [
            ("hashing-test", settings.resolved_models_dir(), "cpu", "auto", 16),
            ("ander-model", settings.resolved_models_dir(), "cpu", "auto", 4),
        ]
    finally:
        embeddings.clear_embedders()


# ------------------------------------------------------------------------------------------ vector cache
def test_cached_vectors_are_not_embedded_again_and_equal_fresh_ones(tmp_path):
    from kb.vector_cache import VectorCache

    cache = VectorCache(tmp_path / "v.sqlite", "m|sha256:abc|seq512")
    model = RecordingModel(E5_PROMPTS)
    e = Embedder(model, name="e5", cache=cache)
    first = e.encode_documents(["Een stichting heeft geen leden.", "De kantine."])
    model.calls.clear()
    done: list[int] = []
    again = Embedder(model, name="e5", cache=VectorCache(tmp_path / "v.sqlite", "m|sha256:abc|seq512"))
    second = again.encode_documents(
        ["De kantine.", "Nieuw stuk.", "Een stichting heeft geen leden."], progress=done.append
    )
    assert model.calls == [(["Nieuw stuk."], "passage")]  # only the new text reaches the model
    np.testing.assert_allclose(second[0], first[1], rtol=1e-6)
    np.testing.assert_allclose(second[2], first[0], rtol=1e-6)
    assert done == [2, 3] and again.encoded_texts == 1


def test_cache_key_is_the_embedded_text_with_its_prompt_and_title(tmp_path):
    from kb.vector_cache import VectorCache

    model = RecordingModel(GEMMA_PROMPTS)
    e = Embedder(model, name="g", cache=VectorCache(tmp_path / "v.sqlite", "g|x"))
    e.encode_documents(["Het doel staat erin."], titles=["Statuten"])
    e.encode_documents(["Het doel staat erin."], titles=["Bestuur"])  # another title: another text
    e.encode_documents(["Het doel staat erin."])
    assert len(model.calls) == 3


def test_another_model_identity_never_sees_the_cached_vectors(tmp_path):
    from kb.vector_cache import VectorCache

    model = RecordingModel(E5_PROMPTS)
    Embedder(model, name="e5", cache=VectorCache(tmp_path / "v.sqlite", "e5|sha256:one")).encode_documents(["a b c"])
    Embedder(model, name="e5", cache=VectorCache(tmp_path / "v.sqlite", "e5|sha256:two")).encode_documents(["a b c"])
    assert len(model.calls) == 2


def test_a_seed_is_used_only_for_the_identity_it_was_made_with(tmp_path):
    from kb.vector_cache import VectorCache, write_seed

    texts = ["passage: Een stichting heeft geen leden."]
    vec = RecordingModel(E5_PROMPTS).vector(texts[0])
    seed = tmp_path / ".vectors" / "e5.npz"
    write_seed(seed, "e5|sha256:good", texts, np.array([vec / np.linalg.norm(vec)]))
    model = RecordingModel(E5_PROMPTS)
    good = Embedder(model, name="e5", cache=VectorCache(None, "e5|sha256:good", seeds=[seed]))
    out = good.encode_documents(["Een stichting heeft geen leden."])
    assert model.calls == []
    np.testing.assert_allclose(out[0], vec / np.linalg.norm(vec), atol=2e-3)  # float16 in the seed
    other = Embedder(model, name="e5", cache=VectorCache(None, "e5|sha256:changed", seeds=[seed]))
    other.encode_documents(["Een stichting heeft geen leden."])
    assert len(model.calls) == 1  # weights changed: the seed is ignored


def test_every_document_step_holds_the_process_lock_but_queries_do_not():
    held: list[str] = []
    import contextlib

    @contextlib.contextmanager
    def lock():
        held.append("in")
        yield
        held.append("out")

    model = RecordingModel({"document": "", "query": ""})
    e = Embedder(model, name="m", batch_size=2, lock=lock)
    e.encode_documents([f"tekst {i}" for i in range(9)])
    assert held == ["in", "out"] * 3  # steps of 4 texts
    e.encode_queries(["vraag?"])
    assert len(held) == 6


def test_torch_threads_follow_the_cores_available(monkeypatch):
    import torch

    from kb import precision

    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(precision, "available_cores", lambda: 1)
        assert embeddings.set_torch_threads(0) == 1 and torch.get_num_threads() == 1
        assert embeddings.set_torch_threads(2) == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


class _CountingModel:
    """Counts the texts it embeds; vectors depend on the text only."""

    prompts = {"query": "q: ", "document": "d: "}

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts, prompt_name=None, **kwargs):
        self.embedded.extend(texts)
        return np.array([[len(t), t.count("a") + 1, 1.0, 2.0] for t in texts], dtype=np.float32)


def test_a_question_is_embedded_once_for_search_and_answer():
    model = _CountingModel()
    embedder = Embedder(model, name="teller")
    first = embedder.encode_queries(["Mag een vereniging winst maken?"])
    again = embedder.encode_queries(["Mag een vereniging winst maken?", "Wat is een ANBI?"])
    assert model.embedded == ["Mag een vereniging winst maken?", "Wat is een ANBI?"]
    np.testing.assert_array_equal(first[0], again[0])
    embedder.forget_queries()
    embedder.encode_queries(["Mag een vereniging winst maken?"])
    assert model.embedded.count("Mag een vereniging winst maken?") == 2


def test_query_cache_keeps_only_recent_questions():
    model = _CountingModel()
    embedder = Embedder(model, name="teller")
    for i in range(embeddings._QUERY_CACHE_SIZE + 1):
        embedder.encode_queries([f"vraag {i}"])
    embedder.encode_queries(["vraag 0"])  # the oldest was dropped
    assert model.embedded.count("vraag 0") == 2
    assert len(embedder._query_cache) == embeddings._QUERY_CACHE_SIZE
