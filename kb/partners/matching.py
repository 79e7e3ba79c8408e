"""Which organisations of the partner directory help with a question: ranked with the store's own embedding
model (no second model).

Each organisation's profile (name, description, topics, kinds of collective; see
:meth:`kb.db.directory.DirectoryEntry.profile_text`) is embedded as a document, and so is each of its topic and
kind labels. A question's score for an organisation is the cosine similarity between the question vector and
the profile vector, optionally plus ``topic_weight`` times the share of the retrieved sources whose topic is one
of the organisation's topics. At most ``limit`` organisations at or above ``floor``, and within ``margin`` of the
best score, are returned, best first;
"why" names the organisation's labels closest to the question. Vectors are cached per directory revision (a
digest of all profiles), so a question costs one matrix product once the directory is embedded.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kb.embeddings import Embedder

WHY_LABELS = 2


@dataclass(frozen=True)
class OrganisationProfile:
    """What matching needs of one directory entry (plain data, no database session)."""

    org_key: str
    name: str
    profile: str
    labels: tuple[str, ...]  # topics and kinds of collective
    topics: tuple[str, ...]
    contact: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entry(cls, entry: Any) -> OrganisationProfile:
        """From a :class:`kb.db.directory.DirectoryEntry`."""
        labels = tuple(dict.fromkeys([*entry.topics, *entry.kinds]))
        return cls(entry.org_key, entry.name, entry.profile_text(), labels, tuple(entry.topics), entry.contact())


@dataclass(frozen=True)
class HelpSuggestion:
    """An organisation that helps with a question, why, and how to reach it."""

    organisation: str
    org_key: str
    why: str
    contact: dict[str, str]
    score: float

    def to_dict(self) -> dict[str, Any]:
        """The ``help`` item of ``kb ask --json``: organisation, why, contact."""
        return {"organisation": self.organisation, "why": self.why, "contact": dict(self.contact)}


def directory_revision(profiles: Sequence[OrganisationProfile]) -> str:
    """A digest of everything matching embeds: changes whenever an entry's profile or labels change."""
    digest = hashlib.sha256()
    for p in sorted(profiles, key=lambda p: p.org_key):
        digest.update("\x1f".join([p.org_key, p.profile, *p.labels]).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def why_text(labels: Sequence[str]) -> str:
    """Short Dutch reason: "Helpt bij zorgcoöperatie en zorg"."""
    if not labels:
        return "Past bij het onderwerp van je vraag"
    return "Helpt bij " + " en ".join(labels)


class PartnerMatcher:
    """Ranks directory organisations for a question; thread-safe, caches vectors per directory revision."""

    def __init__(
        self,
        embedder: Callable[[], Embedder],
        floor: float,
        limit: int = 2,
        topic_weight: float = 0.0,
        margin: float = 1.0,
    ) -> None:
        self._embedder = embedder
        self.floor = floor
        self.margin = margin
        self.limit = limit
        self.topic_weight = topic_weight
        self._lock = threading.Lock()
        self._cache: tuple[str, np.ndarray, dict[str, np.ndarray]] | None = None

    def _vectors(self, profiles: Sequence[OrganisationProfile]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        embedder = self._embedder()
        revision = embedder.name + ":" + directory_revision(profiles)
        with self._lock:
            if self._cache is not None and self._cache[0] == revision:
                return self._cache[1], self._cache[2]
        matrix = embedder.encode_documents([p.profile for p in profiles])
        labels = sorted({label for p in profiles for label in p.labels})
        label_vectors = dict(zip(labels, embedder.encode_documents(labels), strict=True)) if labels else {}
        with self._lock:
            self._cache = (revision, matrix, label_vectors)
        return matrix, label_vectors

    def scores(
        self, question: str, profiles: Sequence[OrganisationProfile], source_topics: Sequence[str] = ()
    ) -> list[tuple[OrganisationProfile, float]]:
        """Every organisation with its score for ``question``, best first (no floor, no limit)."""
        if not profiles or not question.strip():
            return []
        matrix, _ = self._vectors(profiles)
        query = self._embedder().encode_queries([question])[0]
        similarity = matrix @ query
        topics = [t for t in source_topics if t]
        ranked = []
        for profile, sim in zip(profiles, similarity, strict=True):
            bonus = 0.0
            if self.topic_weight and topics:
                bonus = self.topic_weight * sum(t in profile.topics for t in topics) / len(topics)
            ranked.append((profile, float(sim) + bonus))
        ranked.sort(key=lambda pair: (-pair[1], pair[0].name.casefold()))
        return ranked

    def match(
        self, question: str, profiles: Sequence[OrganisationProfile], source_topics: Sequence[str] = ()
    ) -> list[HelpSuggestion]:
        """At most ``limit`` organisations scoring at least ``floor`` and within ``margin`` of the best one,
        with why and contact."""
        chosen = [(p, s) for p, s in self.scores(question, profiles, source_topics) if s >= self.floor]
        chosen = [(p, s) for p, s in chosen if s >= chosen[0][1] - self.margin][: self.limit] if chosen else []
        if not chosen:
            return []
        _, label_vectors = self._vectors(profiles)
        query = self._embedder().encode_queries([question])[0]
        out = []
        for profile, score in chosen:
            closest = sorted(profile.labels, key=lambda label: -float(label_vectors[label] @ query))
            out.append(
                HelpSuggestion(
                    profile.name,
                    profile.org_key,
                    why_text(closest[:WHY_LABELS]),
                    dict(profile.contact),
                    round(score, 4),
                )
            )
        return out
