"""Whether a question is embedded through pre-packed linear weights (:mod:`kb.models.packing`), per machine.

The gain was measured on one CPU; another CPU (or another torch build) may gain nothing or lose. So with
``KB_EMBED_QUERY_KERNEL=auto`` the first load of a model on a machine times single questions both ways
(a block of questions each way, alternating, a few rounds, under the embedding lock) and checks the vectors are the same
(cosine ≥ :data:`MIN_COSINE`), keeps the packed path only when it is clearly faster (median time per question
≤ :data:`PACKED_MARGIN` of the plain path's),
and caches the decision in the model's precision file (``query_kernels``, keyed by the precision key and the
dtype), so later loads only read it. ``packed`` / ``plain`` skip the probe.

The default is ``plain``: in a loop of questions the packed path was 12–14% faster on the test machine, but
inside the latency benchmark's searches (Chroma and the lexical index between two questions) the question's
embedding took the same time either way (98 vs 99 ms p50), so the extra memory bought nothing there.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# packed must take at most this share of the plain time per question: a tie keeps the plain path, which
# needs no second copy of the weights
PACKED_MARGIN = 0.97
# the packed path must give the same vectors (bfloat16 measured: bit-identical; float32: ~1e-6 apart)
MIN_COSINE = 0.99999
# questions of the length volunteers write (median ~20 words); not from the benchmark's dev set
PROBE_QUESTIONS = (
    "We willen als bewonersgroep een vereniging oprichten. Wat moet er volgens de wet in de statuten staan?",
    "Moet onze energiecoöperatie btw afdragen over de contributie die de leden elk jaar betalen?",
    "Welke subsidie kunnen we aanvragen om het dak van ons dorpshuis te laten isoleren?",
    "Wie is er aansprakelijk als het bestuur van onze stichting een fout maakt bij een contract?",
    "Ons buurtfeest leverde geld op. Mogen we dat onder de vrijwilligers verdelen of moet het naar de kas?",
    "Hoe vaak moet de algemene ledenvergadering bij elkaar komen en wie mag haar bijeenroepen?",
    "Kan een zorgcoöperatie vrijwilligers een onkostenvergoeding geven zonder dat ze belasting betalen?",
    "Wat gebeurt er met het geld van de vereniging als we besluiten om haar op te heffen?",
)


@dataclass
class QueryKernelDecision:
    kernel: str  # "packed" or "plain"
    reason: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds per question, median
    min_cosine: float | None = None
    layers: int = 0  # linear layers packed (when packed)
    decided_at: str = ""
    source: str = "probe"  # probe | setting | cache | unsupported
    ratio: float | None = None  # median time per question packed / plain (when probed)

    def describe(self) -> str:
        times = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.timings.items())
        if self.ratio is not None:
            times += f" (verhouding {self.ratio:.2f})"
        return f"{self.kernel} ({self.reason}{'; proef: ' + times if times else ''})"


def choose_kernel(ratio: float, min_cosine: float, margin: float = PACKED_MARGIN) -> tuple[str, str]:
    """The kernel from the probe: ``ratio`` is the median time per question packed / plain,
    ``min_cosine`` the lowest cosine between the two paths' vectors of the same question."""
    if min_cosine < MIN_COSINE:
        return "plain", f"verpakte gewichten geven andere vectoren (cosinus {min_cosine:.6f})"
    if not ratio > 0:
        return "plain", "geen bruikbare meting"
    if ratio <= margin:
        return "packed", f"verpakte gewichten {1 / ratio:.2f}x zo snel per vraag op deze CPU"
    return "plain", f"verpakte gewichten niet sneller per vraag (tijd {ratio:.2f}x)"


def kernel_key(precision_key: str, dtype: str) -> str:
    return f"{precision_key}:{dtype}"


def read_kernel(path: Path, key: str) -> QueryKernelDecision | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = (data.get("query_kernels") or {}).get(key) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or entry.get("kernel") not in ("packed", "plain"):
        return None
    return QueryKernelDecision(**{k: entry[k] for k in QueryKernelDecision.__dataclass_fields__ if k in entry})


def write_kernel(path: Path, key: str, decision: QueryKernelDecision) -> None:
    """Add the decision to the precision file (its other entries are kept)."""
    from kb.precision import DECISION_FORMAT

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data.setdefault("format", DECISION_FORMAT)
    data.setdefault("query_kernels", {})[key] = asdict(decision)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def time_kernels(
    encode: Callable[[str], Any],
    switch: Callable[[bool], Any],
    questions: Sequence[str] = PROBE_QUESTIONS,
    rounds: int = 3,
) -> tuple[dict[str, float], float, float]:
    """Time the plain and the packed path in blocks (all questions one way, then all the other way; the order
    of the two alternates per round, after two warm-up blocks each way), as a search uses one path over and
    over.

    Returns the median seconds per question of each path, the ratio of those medians (packed / plain) and
    the lowest cosine between the two paths' vectors of the same question. (Alternating per question instead
    was measured to hide the gain: each switch evicts the other path's weights from the caches; timed right
    after the packing without the warm-up, the packed path was several times slower for a while.)"""
    import numpy as np

    samples: dict[str, list[float]] = {"plain": [], "packed": []}
    vectors: dict[str, list[Any]] = {"plain": [], "packed": []}
    for packed in (False, True, False, True):  # warm-up: every question once each way, twice
        switch(packed)
        for q in questions:
            encode(q)
    for r in range(rounds):
        for name in ("plain", "packed") if r % 2 == 0 else ("packed", "plain"):
            switch(name == "packed")
            for q in questions:
                t0 = time.perf_counter()
                v = np.asarray(encode(q), dtype=np.float64).ravel()
                samples[name].append(time.perf_counter() - t0)
                if r == 0:
                    vectors[name].append(v / (np.linalg.norm(v) or 1.0))
    lowest = min(float(a @ b) for a, b in zip(vectors["plain"], vectors["packed"], strict=True))
    timings = {k: statistics.median(v) for k, v in samples.items()}
    return timings, timings["packed"] / max(timings["plain"], 1e-9), lowest


def apply_query_kernel(
    model: Any,
    setting: str,
    encode: Callable[[str], Any],
    cache: tuple[Path, str] | None = None,
    probe_lock: Callable[[], Any] | None = None,
) -> QueryKernelDecision:
    """Pack ``model``'s linear weights for questions when ``setting`` (auto|packed|plain) and, for auto, the
    cached or freshly probed decision say so; ``cache`` is (precision file, key). Returns the decision."""
    import contextlib

    from kb.models import packing

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    dtype = getattr(model, "dtype", None)
    if setting == "plain":
        packing.unpack(model)
        return QueryKernelDecision("plain", "ingesteld (KB_EMBED_QUERY_KERNEL)", decided_at=now, source="setting")
    if dtype is None or not packing.packing_supported(dtype):
        packing.unpack(model)
        return QueryKernelDecision(
            "plain", f"verpakken niet mogelijk voor {dtype} op deze CPU", decided_at=now, source="unsupported"
        )
    cached = read_kernel(*cache) if setting == "auto" and cache is not None else None
    if cached is not None and cached.kernel != "packed":  # decided before: plain, so nothing to pack
        packing.unpack(model)
        cached.source = "cache"
        return cached
    try:
        layers = packing.pack_linears(model)
    except RuntimeError as exc:  # a oneDNN that refuses this weight layout: the plain path always works
        packing.unpack(model)
        return QueryKernelDecision("plain", f"verpakken mislukt ({exc})", decided_at=now, source="unsupported")
    if setting == "packed":
        return QueryKernelDecision(
            "packed", "ingesteld (KB_EMBED_QUERY_KERNEL)", layers=layers, decided_at=now, source="setting"
        )
    if cached is not None:
        cached.source = "cache"
        cached.layers = layers
        return cached
    with probe_lock() if probe_lock else contextlib.nullcontext():
        timings, ratio, lowest = time_kernels(encode, lambda on: packing.set_packed(model, on))
    kernel, reason = choose_kernel(ratio, lowest)
    if kernel == "packed":
        packing.set_packed(model, True)
    else:
        packing.unpack(model)
        layers = 0
    decision = QueryKernelDecision(kernel, reason, timings, round(lowest, 7), layers, now, "probe", round(ratio, 3))
    if cache is not None:
        try:
            write_kernel(cache[0], cache[1], decision)
        except OSError as exc:
            log.warning("Keuze vraag-kernel niet bewaard in %s: %s", cache[0], exc)
    log.warning("Vraag-embedding op deze CPU: %s", decision.describe())
    return decision
