"""Can the sources answer this question? Decided from evidence, not from words the sources lack.

Three outcomes (:class:`Verdict`): ``answer``; ``uncertain`` (answered, marked "Ik weet het niet zeker"); and
``refuse`` (the closest sources are offered as "Misschien nuttig"). The decision is a logistic model over
general evidence signals of the retrieved sources (:func:`evidence_features`):

* how similar the best source is (dense cosine) and how far it stands out from the fifth (margin);
* whether word matching (BM25) agrees with the embedding about which documents are relevant;
* how much of the question's content the top sources cover (stems, compound parts and glossary terms
  count), and the share of the question's content words the knowledge base knows at all;
* when the question asks for an amount, a date or term, a quantity or contact details: whether a sentence of the
  top sources about the question's subject holds one.

The coefficients and the two thresholds are fitted by ``bench/run_cv_bench.py --answers --write-model`` on
the dev questions (chosen by 5-fold cross-validation, README) and shipped as ``refusal_model.json``, one model
per embedding model (similarity scales differ); no rule names a word of a particular question.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from kb.retrieval.dutch_text import MONTHS, STOPWORDS, DutchAnalyzer, fold, words
from kb.retrieval.types import Hit
from kb.text import split_sentences

MODEL_PATH = Path(__file__).with_name("refusal_model.json")

Outcome = Literal["answer", "uncertain", "refuse"]

_MONEY_QUESTION = re.compile(
    r"\b(wat|hoeveel) (kost|kosten)\b|\bhoe duur\b|\bwat zijn de kosten\b|\bwelke? (bedrag|prijs|tarief)\b|"
    r"\bmaximumbedrag\b|\bhoeveel geld\b|\bwat betalen (we|wij|je|u)\b|\bhoeveel (euro|procent)\b|\bhoe hoog\b"
)
_MONEY_EVIDENCE = re.compile(r"€|\beuro\b|\bbedrag(en)? van\b|\bkosten van\b|\d[\d.,]*\s*(%|procent)")
_DATE_QUESTION = re.compile(
    r"\b(voor|op|tot) welke datum\b|\bwelke datum\b|\buiterste (in)?(dien)?datum\b|\bdeadline\b|"
    r"\bhoe lang\b|\bbinnen hoeveel\b|\bwelke termijn\b|\bhoeveel (dagen|weken|maanden|jaar)\b"
)
_MONTHS = "|".join(MONTHS)
_DATE_EVIDENCE = re.compile(
    rf"\b\d{{1,2}} ({_MONTHS})\b|\b(\d+|een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|twaalf|dertig|veertien)"
    rf" (dagen|weken|maanden|jaar|jaren)\b|\buiterlijk\b|\b(termijn|datum) van\b"
)
_CONTACT_QUESTION = re.compile(
    r"\bopeningstijden\b|\bopeningsuren\b|\btelefoonnummer\b|\be-?mailadres\b|\bbereikbaar\b"
)
_CONTACT_EVIDENCE = re.compile(r"\b\d{1,2}[:.]\d{2}\s*uur\b|\b0\d{2,3}[- ]?\d{6,7}\b|\b\S+@\S+\.\w+\b")
# any question for a quantity ("hoeveel …", "hoe hoog/lang/groot/veel …"): a number with a unit, an amount or a
# percentage answers it (a bare "1." or "2." numbers a lid of an article and answers nothing)
_QUANTITY_QUESTION = re.compile(r"\bhoeveel\b|\bhoe (hoog|lang|groot|veel)\b")
_NUMBER_WORDS = "een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|twaalf|dertig"
_QUANTITY_EVIDENCE = re.compile(
    r"€|\beuro\b|\d[\d.,]*\s*(%|procent)|\b\d[\d.,]*\s+(dagen|weken|maanden|jaar|jaren|leden|personen|euro)\b|"
    rf"\b({_NUMBER_WORDS})\s+(dagen|weken|maanden|jaar|jaren)\b"
)
_ASKED_TYPES = (
    (_MONEY_QUESTION, _MONEY_EVIDENCE),
    (_DATE_QUESTION, _DATE_EVIDENCE),
    (_CONTACT_QUESTION, _CONTACT_EVIDENCE),
    (_QUANTITY_QUESTION, _QUANTITY_EVIDENCE),
)
_STEMS = DutchAnalyzer()

FEATURES: tuple[str, ...] = (
    "top_dense",
    "margin",
    "agreement",
    "coverage",
    "known",
    "type_missing",
)


def asking_part(question: str) -> str:
    """The sentence(s) that ask: those ending in '?', else the last sentence."""
    sentences = [s for s in split_sentences(question, keep_lead_ins=True) if s]
    asking = [s for s in sentences if s.endswith("?")]
    return " ".join(asking or sentences[-1:])


def _content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()]


def _known(word: str, analyzer: DutchAnalyzer) -> bool:
    return word in analyzer.known_words or bool(analyzer.split_compound(word))


def asked_type_missing(question: str, hits: Sequence[Hit], top: int = 3) -> bool:
    """The question asks for an amount, a date or term, a quantity or contact details, and no sentence of the
    top sources holds one about the question's subject: the value must stand in a sentence that shares a
    content word with the question (besides the words that ask), so an amount elsewhere in an unrelated
    article does not count."""
    asking = asking_part(question)
    folded = fold(asking)
    question_stems = set(_STEMS.tokens(asking))
    sentences = [fold(s) for h in hits[:top] for s in split_sentences(h.chunk.text)]
    for asks, holds in _ASKED_TYPES:
        match = asks.search(folded)
        if not match:
            continue
        subject = question_stems - set(_STEMS.tokens(match.group(0)))
        if not any(holds.search(s) and (not subject or subject & set(_STEMS.tokens(s))) for s in sentences):
            return True
    return False


def evidence_features(
    question: str,
    hits: Sequence[Hit],
    analyzer: DutchAnalyzer,
    lexical_docs: Sequence[str] = (),
    expansions: Sequence[str] = (),
    top: int = 3,
) -> dict[str, float]:
    """The general evidence signals of one search (names in :data:`FEATURES`).

    ``lexical_docs``: the documents of the BM25 top results for the same question, best first;
    ``expansions``: the glossary's legal terms for lay words in the question (they count as covered words
    when the sources use them).
    """
    dense = [float(h.signals.get("dense", h.score)) for h in hits]
    top_dense = dense[0] if dense else 0.0
    fifth = dense[min(4, len(dense) - 1)] if dense else 0.0
    dense_docs = list(dict.fromkeys(h.chunk.doc_id for h in hits[:top]))
    agreement = (sum(1 for d in dense_docs if d in set(lexical_docs)) / len(dense_docs)) if dense_docs else 0.0
    content = _content_words(asking_part(question))
    source_stems = set(analyzer.tokens(" ".join(h.chunk.indexed_text for h in hits[:top])))
    expansion_stems = set(analyzer.tokens(" ".join(expansions))) & source_stems
    covered = 0
    for w in content:
        stems = set(analyzer.tokens(w))
        if stems & source_stems:
            covered += 1
    coverage = covered / len(content) if content else 1.0
    if expansion_stems and content:
        coverage = min(1.0, coverage + 0.5 / len(content) * len(expansion_stems))
    known = sum(1 for w in content if _known(w, analyzer)) / len(content) if content else 1.0
    return {
        "top_dense": top_dense,
        "margin": top_dense - fifth,
        "agreement": agreement,
        "coverage": coverage,
        "known": known,
        "type_missing": 1.0 if asked_type_missing(question, hits, top) else 0.0,
    }


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    probability: float  # estimated probability that the sources answer the question
    features: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # Dutch, for support staff (warnings), never shown twice to the volunteer

    @property
    def refused(self) -> bool:
        return self.outcome == "refuse"

    @property
    def uncertain(self) -> bool:
        return self.outcome == "uncertain"


@dataclass(frozen=True)
class RefusalModel:
    """Logistic model p(answerable) = σ(b + Σ wᵢ·(xᵢ − μᵢ)/σᵢ) with two thresholds."""

    weights: dict[str, float]
    bias: float
    mean: dict[str, float]
    scale: dict[str, float]
    refuse_below: float
    uncertain_below: float

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(
            w * (features.get(name, 0.0) - self.mean.get(name, 0.0)) / (self.scale.get(name, 1.0) or 1.0)
            for name, w in self.weights.items()
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def decide(self, features: dict[str, float]) -> Verdict:
        p = self.probability(features)
        if p < self.refuse_below:
            outcome: Outcome = "refuse"
        elif p < self.uncertain_below:
            outcome = "uncertain"
        else:
            outcome = "answer"
        reason = None
        if outcome != "answer":
            reason = f"bewijs zwak (kans {p:.2f}; " + ", ".join(f"{k} {v:.2f}" for k, v in features.items()) + ")"
        return Verdict(outcome, p, dict(features), reason)

    def to_dict(self) -> dict:
        return {
            "features": list(self.weights),
            "weights": self.weights,
            "bias": self.bias,
            "mean": self.mean,
            "scale": self.scale,
            "refuse_below": self.refuse_below,
            "uncertain_below": self.uncertain_below,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RefusalModel:
        return cls(
            weights={k: float(v) for k, v in data["weights"].items()},
            bias=float(data["bias"]),
            mean={k: float(v) for k, v in data["mean"].items()},
            scale={k: float(v) for k, v in data["scale"].items()},
            refuse_below=float(data["refuse_below"]),
            uncertain_below=float(data["uncertain_below"]),
        )

    def save(self, embed_model: str, path: Path = MODEL_PATH) -> None:
        """Store the model for ``embed_model`` (similarity scales differ per embedding model)."""
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        models = data.get("models", {})
        models[embed_model] = self.to_dict()
        path.write_text(json.dumps({"models": models}, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=8)
def load_model(embed_model: str = "embeddinggemma-300m", path: Path = MODEL_PATH) -> RefusalModel | None:
    """The fitted model for this embedding model, or None when none was fitted for it (then the evidence
    model does not refuse; only ``KB_REFUSAL_THRESHOLD`` does)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data.get("models", {}).get(embed_model)
    return RefusalModel.from_dict(entry) if entry else None


def fit_model(
    rows: Sequence[dict[str, float]],
    answerable: Sequence[bool],
    max_wrong_refusals: float = 0.03,
    max_uncertain: float = 0.15,
    l2: float = 1.0,
    features: Sequence[str] = FEATURES,
) -> RefusalModel:
    """Fit the logistic model (class-balanced, L2) and choose the thresholds on these rows only.

    ``refuse_below``: the highest threshold that refuses at most ``max_wrong_refusals`` of the answerable
    rows; ``uncertain_below``: the highest that marks at most ``max_uncertain`` of them uncertain or refused.
    """
    import numpy as np

    x = np.array([[r[f] for f in features] for r in rows], dtype=float)
    y = np.array(answerable, dtype=float)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    z = np.column_stack([(x - mu) / sd, np.ones(len(x))])
    pos = max(1.0, y.sum())
    neg = max(1.0, len(y) - y.sum())
    sample = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    w = np.zeros(z.shape[1])
    penalty = l2 * np.r_[np.ones(z.shape[1] - 1), 0.0]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (sample * (p - y)) + penalty * w
        hess = (z * (sample * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    probs = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
    pos_probs = np.sort(probs[y == 1])

    def threshold(share: float) -> float:
        # refuse p < t: at most floor(share·n) answerable rows fall below t
        k = math.floor(share * len(pos_probs))
        if len(pos_probs) == 0:
            return 0.5
        if k >= len(pos_probs):
            return float(pos_probs[-1])
        return float(pos_probs[k]) - 1e-9 if k > 0 else float(pos_probs[0]) - 1e-9

    model = RefusalModel(
        weights={f: float(v) for f, v in zip(features, w[:-1], strict=True)},
        bias=float(w[-1]),
        mean={f: float(v) for f, v in zip(features, mu, strict=True)},
        scale={f: float(v) for f, v in zip(features, sd, strict=True)},
        refuse_below=threshold(max_wrong_refusals),
        uncertain_below=max(threshold(max_uncertain), threshold(max_wrong_refusals)),
    )
    return model
