"""Summary statistics used by ``kb eval`` and every benchmark, so a p95 means the same everywhere."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values``: linear interpolation between the closest ranks, as
    :func:`numpy.percentile` does by default (so the p50 is the median). Raises ValueError when empty."""
    if len(values) == 0:
        raise ValueError("percentiel van een lege reeks")
    if not 0 <= q <= 100:
        raise ValueError(f"percentiel {q} ligt niet tussen 0 en 100")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (the 50th :func:`percentile`)."""
    return percentile(values, 50)
