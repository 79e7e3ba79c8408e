"""Which precision the embedding model runs in on *this* CPU, decided once per machine and model.

bfloat16 halves the memory traffic of the weights, but only CPUs with native bf16 instructions
(``avx512_bf16``, ``amx_bf16``) compute it fast; elsewhere torch emulates it and it is several times slower
than float32 (measured: 5.3x on an AVX2-only AMD EPYC). So ``KB_EMBED_DTYPE=auto``:

1. reads the CPU's capabilities (``/proc/cpuinfo`` flags, torch's CPU capability);
2. without native bf16: float32, no probe (a bf16 probe there would only cost time);
3. with native bf16: times a short probe (a few document texts and one question, float32 then bfloat16,
   median of a few rounds) and keeps bfloat16 only when it is clearly faster (:data:`BF16_MARGIN`);
4. caches the decision as JSON next to the installed model, keyed by model (and the sha256 of its weights),
   CPU model name, the flags that matter and the torch version, so the probe runs once per machine.

``KB_EMBED_DTYPE=float32|bfloat16`` skips all of this. The decision is logged and shown in
``kb models list``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DECISION_NAME = ".samenweten-precision.json"
DECISION_FORMAT = 1
# bfloat16 must be at least this much faster than float32 (time ratio) to be chosen: it also costs a little
# accuracy (cosine >= 0.996 to the float32 vectors), so a tie goes to float32.
BF16_MARGIN = 0.9
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
RELEVANT_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_vnni", "avx_vnni")

# Probe texts: Dutch prose of the length of real chunks (the embedding cost grows with the tokens).
_PROBE_PARAGRAPH = (
    "Een vereniging met volledige rechtsbevoegdheid wordt opgericht bij notariële akte. De statuten "
    "vermelden de naam, de gemeente waar de vereniging haar zetel heeft, het doel, de verplichtingen van de "
    "leden en de wijze van bijeenroepen van de algemene vergadering. Het bestuur schrijft de vereniging in "
    "bij het handelsregister van de Kamer van Koophandel. "
)
PROBE_TEXTS = tuple(f"{_PROBE_PARAGRAPH * 3}(voorbeeld {i})" for i in range(4))
PROBE_QUERY = "Hoe richten wij als bewonersgroep een vereniging op en wat moet in de statuten staan?"


@dataclass(frozen=True)
class CpuInfo:
    model_name: str
    flags: tuple[str, ...]  # the relevant flags that are present, sorted
    torch_capability: str
    cores: int

    @property
    def native_bf16(self) -> bool:
        return any(f in self.flags for f in NATIVE_BF16_FLAGS) or self.torch_capability.upper() in (
            "AVX512_BF16",
            "AMX",
        )

    def describe(self) -> str:
        return f"{self.model_name} ({self.cores} kernen; {', '.join(self.flags) or 'geen AVX2'}; torch {self.torch_capability})"


@dataclass
class PrecisionDecision:
    dtype: str  # "float32" or "bfloat16"
    reason: str
    cpu: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    model: str = ""
    probe: dict[str, Any] = field(default_factory=dict)  # seconds per text, per dtype (when probed)
    decided_at: str = ""
    source: str = "probe"  # probe | capabilities | setting | cache

    def to_json(self) -> dict[str, Any]:
        return {"format": DECISION_FORMAT, **asdict(self)}

    def describe(self) -> str:
        probe = ""
        docs = self.probe.get("document_s_per_text") or {}
        if docs:
            probe = "; proef: " + ", ".join(f"{k} {v * 1000:.0f} ms/tekst" for k, v in docs.items())
        return f"{self.dtype} ({self.reason}{probe})"


def cpu_model_name(cpuinfo: str | None = None) -> str:
    text = cpuinfo if cpuinfo is not None else _read_cpuinfo()
    for line in text.splitlines():
        if line.lower().startswith(("model name", "hardware", "cpu model")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "onbekende CPU"


def cpu_flags(cpuinfo: str | None = None) -> tuple[str, ...]:
    text = cpuinfo if cpuinfo is not None else _read_cpuinfo()
    for line in text.splitlines():
        if line.lower().startswith(("flags", "features")):
            present = set(line.split(":", 1)[1].split())
            return tuple(sorted(f for f in RELEVANT_FLAGS if f in present))
    return ()


def _read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and ``taskset`` restrict)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def torch_capability() -> str:
    try:
        import torch

        return str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # pragma: no cover - very old torch
        return "unknown"


def detect_cpu(cpuinfo: str | None = None, capability: str | None = None) -> CpuInfo:
    return CpuInfo(
        model_name=cpu_model_name(cpuinfo),
        flags=cpu_flags(cpuinfo),
        torch_capability=capability if capability is not None else torch_capability(),
        cores=available_cores(),
    )


def candidates(cpu: CpuInfo) -> list[str]:
    """The dtypes worth probing on this CPU: float32 always; bfloat16 only with native bf16 support."""
    return ["float32", "bfloat16"] if cpu.native_bf16 else ["float32"]


def choose(timings: dict[str, float], margin: float = BF16_MARGIN) -> tuple[str, str]:
    """The dtype from probe timings (seconds per text): bfloat16 only when clearly faster than float32."""
    fp32 = timings.get("float32")
    bf16 = timings.get("bfloat16")
    if bf16 is None or fp32 is None:
        return "float32", "alleen float32 gemeten"
    ratio = bf16 / fp32 if fp32 > 0 else float("inf")
    if ratio <= margin:
        return "bfloat16", f"bfloat16 {1 / ratio:.1f}x zo snel als float32 op deze CPU"
    return "float32", f"bfloat16 niet sneller op deze CPU (tijd {ratio:.2f}x die van float32)"


def decision_key(model: str, weights_id: str, cpu: CpuInfo, torch_version: str) -> str:
    raw = "|".join([model, weights_id, cpu.model_name, ",".join(cpu.flags), cpu.torch_capability, torch_version])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def decide(
    model: str,
    weights_id: str,
    cpu: CpuInfo,
    probe: Callable[[str], dict[str, float]] | None,
    torch_version: str,
) -> PrecisionDecision:
    """The decision for this model on this CPU. ``probe(dtype)`` returns seconds per document text (and per
    question under ``"query"``); it is called only for the candidates of a CPU with native bf16."""
    key = decision_key(model, weights_id, cpu, torch_version)
    common: dict[str, Any] = {
        "cpu": asdict(cpu),
        "key": key,
        "model": model,
        "decided_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    options = candidates(cpu)
    if len(options) == 1 or probe is None:
        reason = (
            "geen native bfloat16 op deze CPU (bf16 zou geëmuleerd en trager zijn)"
            if len(options) == 1
            else ("geen proef mogelijk")
        )
        return PrecisionDecision("float32", reason, source="capabilities", **common)
    docs: dict[str, float] = {}
    queries: dict[str, float] = {}
    for dtype in options:
        measured = probe(dtype)
        docs[dtype] = measured["document"]
        if "query" in measured:
            queries[dtype] = measured["query"]
    dtype, reason = choose(docs)
    return PrecisionDecision(
        dtype,
        reason,
        probe={"document_s_per_text": docs, "query_s": queries, "texts": len(PROBE_TEXTS)},
        source="probe",
        **common,
    )


def decision_path(model_folder: Path, fallback_dir: Path) -> Path:
    """Next to the installed model when its folder is writable, else in ``fallback_dir``."""
    if os.access(model_folder, os.W_OK):
        return model_folder / DECISION_NAME
    return fallback_dir / "precision" / f"{model_folder.name}.json"


def read_decision(path: Path, key: str) -> PrecisionDecision | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != DECISION_FORMAT:
        return None
    entry = (data.get("decisions") or {}).get(key)
    if not isinstance(entry, dict) or entry.get("dtype") not in ("float32", "bfloat16"):
        return None
    fields = {k: entry[k] for k in PrecisionDecision.__dataclass_fields__ if k in entry}
    decision = PrecisionDecision(**fields)
    return decision


def write_decision(path: Path, decision: PrecisionDecision) -> None:
    """Add the decision to the file (one file can hold decisions for several CPUs sharing the folder)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != DECISION_FORMAT:
            data = {}
    except (OSError, ValueError):
        data = {}
    data["format"] = DECISION_FORMAT
    data.setdefault("decisions", {})[decision.key] = asdict(decision)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def time_encoder(encode: Callable[[Sequence[str]], Any], texts: Sequence[str], rounds: int = 3) -> float:
    """Median seconds per text over ``rounds`` (after one warm-up call)."""
    encode(texts[:1])
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        encode(texts)
        samples.append((time.perf_counter() - t0) / max(1, len(texts)))
    return statistics.median(samples)


def weights_identity(model_folder: Path) -> str:
    """A fingerprint of the model's weights: the sha256s in the install marker, else of the weight files.

    The marker's sha256s were verified when the model was installed; a folder without a marker (a local
    model) is hashed directly (small models) or identified by file sizes and times (large ones).
    """
    from kb.models.installed import MARKER_NAME

    folder = Path(model_folder)
    try:
        marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
        files = marker.get("files") or {}
        if files:
            joined = ";".join(f"{k}={v.get('sha256')}" for k, v in sorted(files.items()))
            return "sha256:" + hashlib.sha256(joined.encode()).hexdigest()
    except (OSError, ValueError, AttributeError):
        pass
    h = hashlib.sha256()
    weight_files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in (".safetensors", ".bin", ".json", ".txt", ".model") and p.name != DECISION_NAME
    )
    total = sum(p.stat().st_size for p in weight_files)
    for p in weight_files:
        h.update(p.relative_to(folder).as_posix().encode())
        if total <= 200_000_000:
            h.update(hashlib.sha256(p.read_bytes()).digest())
        else:
            st = p.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return ("sha256:" if total <= 200_000_000 else "stat:") + h.hexdigest()
