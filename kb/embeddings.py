"""The embedding model behind the store: one loaded SentenceTransformer per process, used three ways.

* :class:`Embedder` implements LangChain's ``Embeddings`` interface and applies the model's own query and
  document prompts (E5's ``query: ``/``passage: ``, EmbeddingGemma's prompt names).
* :class:`ChromaEmbeddingFunction` adapts it to Chroma, so Chroma never falls back on its built-in
  default embedding function (which downloads a model).
* :func:`get_embedder` caches the loaded model per (model, device, dtype).

Document texts go through a content-addressed :class:`~kb.vector_cache.VectorCache` (a text is embedded
once per model), are encoded longest-first in small steps (little padding, progress after every step), and
each step holds a machine-wide file lock (:func:`embed_lock`), so several processes embedding at once queue
instead of oversubscribing the cores. Torch's thread count is set to the cores this process may use.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from kb.config import Settings
from kb.vector_cache import VectorCache

log = logging.getLogger(__name__)

_QUERY_CACHE_SIZE = 256
# the direct one-question path must give encode()'s vector (measured: 1.000000 in bfloat16 and float32)
DIRECT_MIN_COSINE = 0.99999
EMBED_LOCK_FILE = Path(tempfile.gettempdir()) / "samenweten-embed.lock"


@contextlib.contextmanager
def embed_lock(path: Path = EMBED_LOCK_FILE) -> Any:
    """Machine-wide lock around one step of document embedding (all SamenWeten processes share it)."""
    from filelock import FileLock

    with FileLock(str(path)):
        yield


class Embedder(Embeddings):
    """Normalized sentence embeddings with separate query and document prompts."""

    def __init__(
        self,
        model: Any,
        name: str,
        batch_size: int = 16,
        cache: VectorCache | None = None,
        lock: Callable[[], Any] | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.cache = cache
        self._process_lock = lock
        # what this embedder encoded (not served from the cache): count and seconds inside model.encode
        self.encoded_texts = 0
        self.encode_seconds = 0.0
        self.record: list[str] | None = None  # benchmarks set a list: every text encoded, as encoded
        self._lock = threading.Lock()  # torch inference from Streamlit threads, one at a time
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._direct: bool | None = None  # one question past encode(): None = not yet checked against encode
        prompts: dict[str, str] = dict(getattr(model, "prompts", {}) or {})
        self.query_prompt_name = _pick_prompt(prompts, ("query", "Retrieval-query", "search_query"))
        self.document_prompt_name = _pick_prompt(
            prompts, ("document", "passage", "Retrieval-document", "search_document")
        )

    @property
    def dimension(self) -> int:
        dim = self.model.get_sentence_embedding_dimension()
        return int(dim) if dim else len(self.embed_query("test"))

    @property
    def query_kernel(self) -> Any:
        """How questions are embedded (:class:`kb.models.query_kernel.QueryKernelDecision`), if decided."""
        return getattr(self.model, "samenweten_query_kernel", None)

    @property
    def precision(self) -> Any:
        """The precision decision the model was loaded with (:class:`kb.precision.PrecisionDecision`)."""
        return getattr(self.model, "samenweten_precision", None)

    def encode_documents(
        self,
        texts: list[str],
        progress: Callable[[int], None] | None = None,
        titles: list[str] | None = None,
    ) -> np.ndarray:
        """Embed document texts; ``progress`` gets the number done (cached ones first) after each step.

        ``titles`` (the context header of each text) go where the model expects them: into the prompt of
        models with a title slot (EmbeddingGemma's ``title: none | text: ``), else in front of the text.
        Texts are embedded exactly as the model sees them (prompt included), which is also their cache key.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prompt_name = self.document_prompt_name
        if titles is not None:
            texts, prompt_name = self._with_titles(texts, titles), None
        prompt = self._prompt(prompt_name) if prompt_name else ""
        full = [prompt + t for t in texts]  # exactly what the model embeds: the cache key
        out: list[np.ndarray | None] = self.cache.get_many(full) if self.cache else [None] * len(full)
        missing = [i for i, v in enumerate(out) if v is None]
        done = len(full) - len(missing)
        if progress and done:
            progress(done)
        # longest first over the whole call: batches of similar length (little padding), and the first
        # progress figure is a pessimistic estimate rather than an optimistic one
        missing.sort(key=lambda i: -len(full[i]))
        step = self.batch_size * 2
        for start in range(0, len(missing), step):
            part = missing[start : start + step]
            with self._process_lock() if self._process_lock else contextlib.nullcontext():
                vectors = self._encode([texts[i] for i in part], prompt_name)
            if self.cache:
                self.cache.put_many([full[i] for i in part], vectors)
            for i, vec in zip(part, vectors, strict=True):
                out[i] = vec
            done += len(part)
            if progress:
                progress(done)
        return np.vstack(out)  # type: ignore[arg-type]

    def cached_count(self, texts: list[str], titles: list[str] | None = None) -> int:
        """How many of these document texts the vector cache already holds (nothing is embedded)."""
        return sum(self.cached_mask(texts, titles))

    def cached_mask(self, texts: list[str], titles: list[str] | None = None) -> list[bool]:
        """Which of these document texts the vector cache already holds (nothing is embedded)."""
        if not self.cache or not texts:
            return [False] * len(texts)
        prompt_name = self.document_prompt_name
        if titles is not None:
            texts, prompt_name = self._with_titles(texts, titles), None
        prompt = self._prompt(prompt_name) if prompt_name else ""
        return [v is not None for v in self.cache.get_many([prompt + t for t in texts])]

    def _with_titles(self, texts: list[str], titles: list[str]) -> list[str]:
        prompt = (getattr(self.model, "prompts", {}) or {}).get(self.document_prompt_name or "", "")
        if "title: none" in prompt:
            return [
                prompt.replace("title: none", f"title: {t or 'none'}") + x for t, x in zip(titles, texts, strict=True)
            ]
        return [prompt + (f"{t}\n\n{x}" if t else x) for t, x in zip(titles, texts, strict=True)]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors; recent questions come from a small cache (search and answer embed the same one)."""
        if not texts:
            return self._encode(texts, self.query_prompt_name)
        with self._lock:
            known = {t: self._query_cache[t] for t in texts if t in self._query_cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            vectors = self._encode_one_query(missing[0]) if len(missing) == 1 else None
            if vectors is None:
                vectors = self._encode(missing, self.query_prompt_name)
            known.update(zip(missing, vectors, strict=True))
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

    def _encode_one_query(self, text: str) -> np.ndarray | None:
        """One question through the model's own steps without ``encode``'s per-call work around them.

        ``SentenceTransformer.encode`` resolves its arguments, sorts, batches and splits its output on every
        call; for one question that cost ~10 ms of the ~100 (bench/run_query_embed_bench.py). This runs the
        same three steps ``encode`` runs per batch (``preprocess`` with the prompt, ``batch_to_device``, the
        model's forward) under ``torch.inference_mode``. The first call checks it against ``encode``
        (cosine >= :data:`DIRECT_MIN_COSINE`) and falls back for good if it differs. None: not available.
        """
        if self._direct is False or not callable(getattr(self.model, "preprocess", None)):
            return None
        vector = self._forward_query(text)
        if vector is None:
            return None
        if self._direct is None:  # first question: the direct path must give encode's vector
            reference = self._encode([text], self.query_prompt_name)[0]
            cosine = float(vector @ reference)
            self._direct = cosine >= DIRECT_MIN_COSINE
            if not self._direct:
                log.warning("Directe vraag-embedding wijkt af van encode (cosinus %.6f); encode wordt gebruikt", cosine)
                return reference[None, :]
        return vector[None, :]

    def _forward_query(self, text: str) -> np.ndarray | None:
        import torch
        from sentence_transformers.util import batch_to_device

        prompt = self._prompt(self.query_prompt_name) if self.query_prompt_name else None
        try:
            with self._lock, torch.inference_mode():
                t0 = time.perf_counter()
                model = self.model
                if model.training:
                    model.eval()
                features = batch_to_device(model.preprocess([text], prompt=prompt or None), model.device)
                out = model(features)["sentence_embedding"][0].float().cpu().numpy()
                self.encode_seconds += time.perf_counter() - t0
                self.encoded_texts += 1
                if self.record is not None:
                    self.record.append((prompt or "") + text)
        except Exception as exc:  # an unusual model: encode() is the safe path
            log.warning("Directe vraag-embedding niet mogelijk (%s); encode wordt gebruikt", exc)
            self._direct = False
            return None
        vector = np.asarray(out, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / (norm or 1.0)

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        with self._lock:
            t0 = time.perf_counter()
            vectors = self.model.encode(
                texts,
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                normalize_embeddings=False,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self.encode_seconds += time.perf_counter() - t0
            self.encoded_texts += len(texts)
            if self.record is not None:
                self.record.extend(texts if prompt_name is None else [self._prompt(prompt_name) + t for t in texts])
        vectors = np.asarray(vectors, dtype=np.float32)  # normalize in float32 (bf16 models lose precision)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def _prompt(self, prompt_name: str) -> str:
        return str((getattr(self.model, "prompts", {}) or {}).get(prompt_name, ""))

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
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(str(config.get("model_name", "")))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]


def set_torch_threads(threads: int = 0) -> int:
    """Torch intra-op threads: ``threads``, or (0) the cores this process may run on; returns the number."""
    import torch

    from kb.precision import available_cores

    n = threads if threads > 0 else available_cores()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def model_identity(model: Any, folder: Path | None, name: str) -> str | None:
    """What a cached vector depends on: the model's weights (sha256) and its maximum sequence length."""
    if folder is None or not folder.is_dir():
        return None
    from kb.precision import weights_identity

    return f"{folder.name}|{weights_identity(folder)}|seq{getattr(model, 'max_seq_length', '')}"


def _load(settings: Settings) -> Embedder:
    from kb.models.installed import resolve_model_path
    from kb.models.loading import load_sentence_transformer
    from kb.vector_cache import cache_file

    threads = set_torch_threads(settings.embed_threads)
    lock = embed_lock if settings.embed_lock else None
    models_dir = settings.resolved_models_dir()
    st = load_sentence_transformer(
        settings.embed_model,
        models_dir,
        device=settings.embed_device,
        dtype=settings.embed_dtype,
        decision_dir=settings.data_dir.expanduser().resolve(),
        probe_lock=lock,
        query_kernel=settings.embed_query_kernel,
    )
    folder = Path(resolve_model_path(settings.embed_model, models_dir))
    identity = model_identity(st, folder, settings.embed_model)
    cache = None
    if settings.vector_cache and identity:
        seed = settings.starter_kb_dir / ".vectors" / f"{folder.name}.npz"
        cache = VectorCache(cache_file(settings.resolved_vector_cache_dir(), identity), identity, seeds=[seed])
    decision = getattr(st, "samenweten_precision", None)
    kernel = getattr(st, "samenweten_query_kernel", None)
    log.info(
        "Embedder %s: %s, vragen %s, %d threads, cache %s",
        settings.embed_model,
        decision.describe() if decision else "?",
        kernel.describe() if kernel else "?",
        threads,
        cache.path if cache else "uit",
    )
    return Embedder(st, name=settings.embed_model, batch_size=settings.embed_batch_size, cache=cache, lock=lock)


_LOADED: dict[tuple[Any, ...], Embedder] = {}
_LOAD_LOCK = threading.Lock()


def _cache_key(settings: Settings) -> tuple[Any, ...]:
    return (
        settings.embed_model,
        str(settings.resolved_models_dir()),
        settings.embed_device,
        settings.embed_dtype,
        settings.embed_query_kernel,
        settings.embed_batch_size,
        settings.embed_threads,
        settings.embed_lock,
        settings.vector_cache,
        str(settings.resolved_vector_cache_dir()),
        str(settings.starter_kb_dir),
    )


def get_embedder(settings: Settings) -> Embedder:
    """The process-wide embedder for these settings (loaded once, then cached)."""
    key = _cache_key(settings)
    with _LOAD_LOCK:
        if key not in _LOADED:
            if len(_LOADED) >= 4:
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[key] = _load(settings)
        return _LOADED[key]


def clear_embedders() -> None:
    """Forget the loaded models (tests)."""
    with _LOAD_LOCK:
        _LOADED.clear()
