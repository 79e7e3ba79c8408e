"""Hubness correction: a chunk near many pool questions gets a larger penalty than one near few."""

import numpy as np
import pytest

from kb.retrieval.hubness import HubnessCorrection, hub_scores


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


POOL = np.vstack([unit(1, 0.1, 0), unit(1, -0.1, 0), unit(1, 0, 0.1), unit(0, 1, 0)])


def test_a_chunk_near_many_questions_scores_higher_than_one_near_few():
    hub = unit(1, 0, 0)  # close to three of the four pool questions
    specific = unit(0, 1, 0.2)  # close to one
    scores = hub_scores([hub[None, :], specific[None, :]], POOL, k=3)
    assert scores[0] > scores[1]
    expected = np.sort(POOL @ hub)[-3:].mean()
    assert scores[0] == pytest.approx(expected, abs=1e-6)


def test_a_chunk_counts_its_best_unit_per_question():
    units = np.vstack([unit(0, 0, 1), unit(1, 0, 0)])  # a passage far off, a passage on the hub
    alone = hub_scores([unit(1, 0, 0)[None, :]], POOL, k=2)[0]
    assert hub_scores([units], POOL, k=2)[0] == pytest.approx(alone, abs=1e-6)


def test_k_larger_than_the_pool_averages_all_of_it():
    c = unit(1, 1, 0)
    assert hub_scores([c[None, :]], POOL, k=50)[0] == pytest.approx(float((POOL @ c).mean()), abs=1e-6)


def test_empty_pool_gives_no_penalty():
    assert hub_scores([unit(1, 0, 0)[None, :]], np.zeros((0, 3), dtype=np.float32), k=3).tolist() == [0.0]


def test_correction_caches_per_chunk_and_scales_by_weight():
    corr = HubnessCorrection(POOL * 3.0, k=3, weight=0.5)  # the pool is normalised
    assert corr.missing(["a", "b", "a"]) == ["a", "b"]
    corr.add({"a": [unit(1, 0, 0)], "b": [unit(0, 1, 0)]})
    assert corr.missing(["a", "b", "c"]) == ["c"]
    expected = 0.5 * np.sort(POOL @ unit(1, 0, 0))[-3:].mean()
    assert corr.penalty("a") == pytest.approx(expected, abs=1e-6)
    assert corr.penalty("a") > corr.penalty("b")
    assert corr.penalty("never-seen") == 0.0
    assert len(corr) == 4


def test_pool_must_be_a_matrix():
    with pytest.raises(ValueError):
        HubnessCorrection(np.zeros(3), k=3, weight=1.0)
