"""Fixed cross-validation folds over benchmark questions, and the mean ± spread of per-fold scores.

Folds are stratified by question type and deterministic: within each type the questions (in id order) are
shuffled with a seeded generator and dealt round-robin, the dealing continuing across types, so every fold
holds about the same share of each type and the folds differ in size by at most one.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from kb.evaluation.questions import EvalQuestion

Q = TypeVar("Q", bound=EvalQuestion)


def stratified_folds(questions: Sequence[Q], k: int = 5, seed: int = 0) -> list[list[int]]:
    """``k`` disjoint lists of indices into ``questions`` covering every question, stratified by type."""
    if k < 2:
        raise ValueError("k moet minstens 2 zijn")
    rng = random.Random(seed)
    by_type: dict[str, list[int]] = {}
    for index, question in sorted(enumerate(questions), key=lambda iq: iq[1].id):
        by_type.setdefault(question.type, []).append(index)
    folds: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for type_name in sorted(by_type):
        indices = by_type[type_name]
        rng.shuffle(indices)
        for index in indices:
            folds[turn % k].append(index)
            turn += 1
    return [sorted(f) for f in folds]


def train_test(folds: list[list[int]], held_out: int) -> tuple[list[int], list[int]]:
    """Indices of the training folds and of the held-out fold ``held_out``."""
    train = sorted(i for j, fold in enumerate(folds) if j != held_out for i in fold)
    return train, list(folds[held_out])


@dataclass(frozen=True)
class Spread:
    """Per-fold values of one score: mean, sample standard deviation, min and max."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) if self.values else float("nan")

    @property
    def sd(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.sd:.3f}" if self.values else "—"


def spread(values: Sequence[float | None]) -> Spread:
    """The spread of the per-fold values that are defined (a fold without such questions is left out)."""
    return Spread(tuple(float(v) for v in values if v is not None))
