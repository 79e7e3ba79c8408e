"""Loading an embedding model safely: registry name, local folder or hub id, in the right precision.

A local folder is checked by :func:`kb.models.safety.check_no_remote_code` first and loaded with
``local_files_only``, so loading it never asks a hub (nothing in the process environment is changed
for that). With ``dtype="auto"`` on the CPU the precision is the one :mod:`kb.precision` measured for
this model on this machine, probed once and cached next to the model.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.models.installed import installed_spec, resolve_model_path
from kb.models.locking import decision_lock
from kb.models.registry import ModelSpec
from kb.models.safety import check_no_remote_code

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from kb.precision import PrecisionDecision

log = logging.getLogger(__name__)


def _set_precision(model: Any, decision: PrecisionDecision) -> None:
    """Keep the precision decision on the loaded model (read back as ``model.samenweten_precision``)."""
    model.samenweten_precision = decision


def _torch_dtype(spec: ModelSpec | None, device: str, dtype: str) -> Any:
    import torch

    if dtype == "auto":
        if not str(device).startswith("cpu"):
            return None  # the model's own dtype on accelerators
        dtype = spec.cpu_dtype if spec else "float32"
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
    except KeyError:
        raise ValueError(f"Onbekend dtype '{dtype}'; kies auto, float32 of bfloat16.") from None


def load_sentence_transformer(
    name_or_path: str,
    models_dir: Path,
    device: str = "cpu",
    dtype: str = "auto",
    decision_dir: Path | None = None,
    probe_lock: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
    query_kernel: str = "plain",
) -> SentenceTransformer:
    """Load an embedding model: registry name, local folder or hub id; never runs remote code.

    ``dtype``: ``auto`` (on the CPU: the precision :mod:`kb.precision` chose for this model on this
    machine, probed once and cached next to the model; float32 for hub ids), ``float32`` or
    ``bfloat16``. Local folders are checked with :func:`check_no_remote_code` and loaded with
    ``local_files_only``. Registry models (also when given as their installed folder) get the profile's
    suggested ``max_seq_length``. The decision is on ``model.samenweten_precision``.
    ``decision_dir``: where the decision goes when the model folder is read-only; ``probe_lock``: held
    while probing, so other processes' embedding does not disturb the timing. ``query_kernel``
    (auto|packed|plain, ``KB_EMBED_QUERY_KERNEL``): whether question-sized inputs go through pre-packed
    linear weights (:mod:`kb.models.query_kernel`; auto probes once per machine, model and dtype, on the
    CPU only); the decision is on ``model.samenweten_query_kernel``.
    """
    model = _load_in_precision(name_or_path, models_dir, device, dtype, decision_dir, probe_lock)
    if str(device).startswith("cpu"):
        _apply_query_kernel(model, name_or_path, models_dir, query_kernel, decision_dir, probe_lock)
    return model


def _load_in_precision(
    name_or_path: str,
    models_dir: Path,
    device: str,
    dtype: str,
    decision_dir: Path | None,
    probe_lock: Callable[[], contextlib.AbstractContextManager[Any]] | None,
) -> SentenceTransformer:
    path = resolve_model_path(name_or_path, models_dir)
    local = Path(path).is_dir()
    if local:
        check_no_remote_code(Path(path))
    spec = installed_spec(name_or_path, path)
    auto_cpu = dtype == "auto" and str(device).startswith("cpu")
    if auto_cpu and local:
        return _load_auto_precision(path, spec, device, decision_dir or Path(models_dir), probe_lock)
    if dtype == "auto" and auto_cpu:
        dtype = "float32"  # a hub id: no installed folder to keep a decision in
    model = _load_st(path, spec, device, _torch_dtype(spec, device, dtype), local)
    from kb.precision import PrecisionDecision

    chosen = str(model.dtype).replace("torch.", "")
    _set_precision(
        model,
        PrecisionDecision(
            chosen, "ingesteld (KB_EMBED_DTYPE)" if dtype != "auto" else "eigen dtype van het model", source="setting"
        ),
    )
    return model


def _load_st(path: str, spec: ModelSpec | None, device: str, torch_dtype: Any, local: bool) -> SentenceTransformer:
    """One SentenceTransformer, remote code refused; a local folder with ``local_files_only`` (no hub asked)."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bars on the user's terminal
    model_kwargs = {"dtype": torch_dtype} if torch_dtype is not None else None
    model = SentenceTransformer(
        path,
        device=device,
        trust_remote_code=False,
        local_files_only=local,
        model_kwargs=model_kwargs,
    )
    if torch_dtype is not None and model.dtype != torch_dtype:
        model = model.to(torch_dtype)
    if spec is not None:
        model.max_seq_length = spec.max_seq_length
        model.prompts.update(spec.prompts)  # the profile's prompts win over an older installed config
    return model


def _load_auto_precision(
    path: str,
    spec: ModelSpec | None,
    device: str,
    decision_dir: Path,
    probe_lock: Callable[[], contextlib.AbstractContextManager[Any]] | None,
) -> SentenceTransformer:
    """Load in the precision decided for this model on this CPU; decide (and cache) it the first time."""
    import torch

    from kb import precision

    folder = Path(path)
    cpu = precision.detect_cpu()
    weights = precision.weights_identity(folder)
    key = precision.decision_key(folder.name, weights, cpu, torch.__version__)
    target = precision.decision_path(folder, decision_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with decision_lock(target):  # two processes starting at once: one probes, the other reads
        cached = precision.read_decision(target, key)
        if cached is not None:
            cached.source = "cache"
            model = _load_st(path, spec, device, _torch_dtype(spec, device, cached.dtype), True)
            _set_precision(model, cached)
            log.info("Precisie %s: %s (uit %s)", folder.name, cached.describe(), target)
            return model
        model = _load_st(path, spec, device, torch.float32, True)
        state: dict[str, Any] = {"model": model}
        doc_prompt = spec.document_prompt_name if spec else None
        query_prompt = spec.query_prompt_name if spec else None
        prompts = getattr(model, "prompts", {}) or {}

        def probe(dtype: str) -> dict[str, float]:
            if dtype != "float32":
                state["model"] = state["model"].to(getattr(torch, dtype))
            m = state["model"]

            def docs(texts: Any) -> Any:
                return m.encode(
                    list(texts),
                    prompt_name=doc_prompt if doc_prompt in prompts else None,
                    batch_size=len(texts),
                    show_progress_bar=False,
                )

            def query(texts: Any) -> Any:
                return m.encode(
                    [precision.PROBE_QUERY],
                    prompt_name=query_prompt if query_prompt in prompts else None,
                    show_progress_bar=False,
                )

            with probe_lock() if probe_lock else contextlib.nullcontext():
                return {
                    "document": precision.time_encoder(docs, precision.PROBE_TEXTS),
                    "query": precision.time_encoder(query, precision.PROBE_TEXTS[:1]),
                }

        decision = precision.decide(folder.name, weights, cpu, probe, torch.__version__)
        model = state["model"]
        if str(model.dtype).replace("torch.", "") != decision.dtype:
            del state["model"], model
            model = _load_st(path, spec, device, getattr(torch, decision.dtype), True)  # never bf16 -> fp32
        try:
            precision.write_decision(target, decision)
        except OSError as exc:
            log.warning("Precisiekeuze niet bewaard in %s: %s", target, exc)
    _set_precision(model, decision)
    log.warning("Precisie van %s op deze CPU gekozen: %s", folder.name, decision.describe())
    return model


def _apply_query_kernel(
    model: Any,
    name_or_path: str,
    models_dir: Path,
    setting: str,
    decision_dir: Path | None,
    probe_lock: Callable[[], contextlib.AbstractContextManager[Any]] | None,
) -> None:
    """Decide (auto: cached per machine, model and dtype in the precision file) and apply the question kernel."""

    from kb.models.query_kernel import apply_query_kernel, kernel_key

    path = resolve_model_path(name_or_path, models_dir)
    spec = installed_spec(name_or_path, path)
    query_prompt = spec.query_prompt_name if spec else None
    prompt_name = query_prompt if query_prompt in (getattr(model, "prompts", {}) or {}) else None

    def encode(text: str) -> Any:
        return model.encode([text], prompt_name=prompt_name, show_progress_bar=False, convert_to_numpy=True)

    dtype = str(getattr(model, "dtype", "")).replace("torch.", "")
    if setting != "auto" or not Path(path).is_dir():
        decision = apply_query_kernel(model, "plain" if setting == "auto" else setting, encode)
    else:
        target, key = _decision_slot(Path(path), decision_dir or Path(models_dir))
        target.parent.mkdir(parents=True, exist_ok=True)
        with decision_lock(target):
            decision = apply_query_kernel(model, "auto", encode, (target, kernel_key(key, dtype)), probe_lock)
    model.samenweten_query_kernel = decision
    log.info("Vraag-kernel %s: %s [%s]", Path(path).name, decision.describe(), decision.source)


def _decision_slot(folder: Path, decision_dir: Path) -> tuple[Path, str]:
    """Where a model's decisions on this CPU are cached (its precision file) and their key there."""
    import torch

    from kb import precision

    key = precision.decision_key(
        folder.name, precision.weights_identity(folder), precision.detect_cpu(), torch.__version__
    )
    return precision.decision_path(folder, decision_dir), key


def precision_status(name: str, models_dir: Path, fallback_dir: Path) -> Any:
    """The cached precision decision of an installed model on this CPU (None before the first load)."""
    from kb import precision

    folder = Path(models_dir).expanduser() / name
    if not folder.is_dir():
        return None
    return precision.read_decision(*_decision_slot(folder, fallback_dir))


def query_kernel_status(name: str, models_dir: Path, fallback_dir: Path) -> Any:
    """The cached question-kernel decision (:mod:`kb.models.query_kernel`) of an installed model on this CPU,
    for the precision it was decided for (None before the first load with ``KB_EMBED_QUERY_KERNEL=auto``)."""
    from kb import precision
    from kb.models.query_kernel import kernel_key, read_kernel

    folder = Path(models_dir).expanduser() / name
    if not folder.is_dir():
        return None
    path, key = _decision_slot(folder, fallback_dir)
    decision = precision.read_decision(path, key)
    return read_kernel(path, kernel_key(key, decision.dtype)) if decision else None
