"""kb.stats: the one percentile (numpy's linear one) used by kb eval and the benchmarks."""

from __future__ import annotations

import pytest

from kb.evaluation.metrics import Timing
from kb.stats import median, percentile


def test_percentile_interpolates_linearly_between_ranks():
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 0) == 1.0 and percentile([4, 1, 3, 2], 100) == 4.0
    # 20 timings 1..20: position 0.95 * 19 = 18.05, between 19 and 20. The nearest-rank formula the latency
    # benchmark used (values[round(0.95 * 19)]) gave 19, a different statistic.
    assert percentile(list(range(1, 21)), 95) == pytest.approx(19.05)
    assert percentile([1.0, 2.0, 4.0, 10.0], 95) == pytest.approx(9.1)


def test_median_is_the_50th_percentile():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5


def test_eval_timing_uses_the_same_percentile():
    seconds = [0.1, 0.4, 0.2, 0.9, 0.3, 0.25, 0.5]
    timing = Timing.of(seconds)
    assert timing.p95 == percentile(seconds, 95) and timing.median == median(seconds)


@pytest.mark.parametrize("q", [-1, 101])
def test_percentile_outside_0_100_is_refused(q):
    with pytest.raises(ValueError):
        percentile([1.0], q)


def test_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError):
        percentile([], 50)
