"""The embedding model behind the store: one loaded SentenceTransformer per process, used three ways.

* :class:`Embedder` implements LangChain's ``Embeddings`` interface and applies the model's own query and
  document prompts (E5's ``query: ``/``passage: ``, EmbeddingGemma's prompt names).
* :class:`ChromaEmbeddingFunction` adapts it to Chroma, so Chroma never falls back on its built-in
  default embedding function (which downloads a model).
* :func:`get_embedder` caches the loaded model per (model, device, dtype).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from kb.config import Settings


_QUERY_CACHE_SIZE = 256


class Embedder(Embeddings):
    """Normalized sentence embeddings with separate query and document prompts."""

    def __init__(self, model: Any, name: str, batch_size: int = 16) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self._lock = threading.Lock()  # torch inference from Streamlit threads, one at a time
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        prompts: dict[str, str] = dict(getattr(model, "prompts", {}) or {})
        self.query_prompt_name = _pick_prompt(prompts, ("query", "Retrieval-query", "search_query"))
        self.document_prompt_name = _pick_prompt(
            prompts, ("document", "passage", "Retrieval-document", "search_document")
        )

    @property
    def dimension(self) -> int:
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim) if dim else len(self.embed_query("test"))

    def encode_documents(
        self,
        texts: list[str],
        progress: Callable[[int], None] | None = None,
        titles: list[str] | None = None,
    ) -> np.ndarray:
        """Embed document texts in batches; ``progress`` gets the number done after each batch.

        ``titles`` (the context header of each text) go where the model expects them: into the prompt of
        models with a title slot (EmbeddingGemma's ``title: none | text: ``), else in front of the text.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prompt_name = self.document_prompt_name
        if titles is not None:
            texts, prompt_name = self._with_titles(texts, titles), None
        out: list[np.ndarray] = []
        step = self.batch_size * 8  # sentence-transformers sorts by length within a call: less padding
        for start in range(0, len(texts), step):
            out.append(self._encode(texts[start : start + step], prompt_name))
            if progress:
                progress(min(start + step, len(texts)))
        return np.vstack(out)

    def _with_titles(self, texts: list[str], titles: list[str]) -> list[str]:
        prompt = (getattr(self.model, "prompts", {}) or {}).get(self.document_prompt_name or "", "")
        if "title: none" in prompt:
            return [prompt.replace("title: none", f"title: {t or 'none'}") + x for t, x in zip(titles, texts)]
        return [prompt + (f"{t}\n\n{x}" if t else x) for t, x in zip(titles, texts)]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors; recent questions come from a small cache (search and answer embed the same one)."""
        if not texts:
            return self._encode(texts, self.query_prompt_name)
        with self._lock:
            known = {t: self._query_cache[t] for t in texts if t in self._query_cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self._encode(missing, self.query_prompt_name)))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._query_cache[text] = known[text]
                self._query_cache.move_to_end(text)
            while len(self._query_cache) > _QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return np.vstack([known[t] for t in texts])

    def forget_queries(self) -> None:
        """Empty the query cache (benchmarks time a question's embedding, not the cache)."""
        with self._lock:
            self._query_cache.clear()

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode(
                texts,
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                normalize_embeddings=False,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)  # normalize in float32 (bf16 models lose precision)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    # LangChain Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


def _pick_prompt(prompts: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in prompts:
            return name
    return None


@register_embedding_function
class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma adapter around our :class:`Embedder`; the model is loaded only when Chroma needs it."""

    def __init__(self, model_name: str, loader: Callable[[], Embedder] | None = None) -> None:
        self.model_name = model_name
        self._loader = loader

    def _embedder(self) -> Embedder:
        if self._loader is None:
            from kb.config import get_settings

            settings = get_settings()
            return get_embedder(settings.model_copy(update={"embed_model": self.model_name}))
        return self._loader()

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self._embedder().encode_documents(list(input)))

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        return list(self._embedder().encode_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "samenweten_sentence_transformer"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "ChromaEmbeddingFunction":
        return ChromaEmbeddingFunction(str(config.get("model_name", "")))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]


def _load(model: str, models_dir: Path, device: str, dtype: str, batch_size: int) -> Embedder:
    from kb.models import load_sentence_transformer

    st = load_sentence_transformer(model, models_dir, device=device, dtype=dtype)
    return Embedder(st, name=model, batch_size=batch_size)


@lru_cache(maxsize=4)
def _cached(model: str, models_dir: str, device: str, dtype: str, batch_size: int) -> Embedder:
    return _load(model, Path(models_dir), device, dtype, batch_size)


def get_embedder(settings: Settings) -> Embedder:
    """The process-wide embedder for these settings (loaded once, then cached)."""
    return _cached(
        settings.embed_model,
        str(settings.resolved_models_dir()),
        settings.embed_device,
        settings.embed_dtype,
        settings.embed_batch_size,
    )
