"""Citation markers [n]: find them, drop invalid ones, and check that cited sources support the claims."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from kb.answering.evidence import support_score
from kb.embeddings import Embedder
from kb.text import split_sentences

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


@dataclass
class CheckedAnswer:
    text: str
    cited: list[int]  # valid source numbers in order of first use
    removed: list[str] = field(default_factory=list)  # invalid markers that were removed
    unsupported: list[str] = field(default_factory=list)  # sentences whose sources did not support them


def markers_in(text: str) -> list[int]:
    found: list[int] = []
    for match in _MARKER.finditer(text):
        for part in match.group(1).split(","):
            n = int(part)
            if n not in found:
                found.append(n)
    return found


def clean_markers(text: str, n_sources: int) -> tuple[str, list[int], list[str]]:
    """Remove markers that point at no source; returns (text, valid numbers in order, removed markers)."""
    removed: list[str] = []

    def repl(match: re.Match[str]) -> str:
        numbers = [int(p) for p in match.group(1).split(",")]
        valid = [n for n in numbers if 1 <= n <= n_sources]
        if len(valid) != len(numbers):
            removed.append(match.group(0))
        return "".join(f"[{n}]" for n in valid)

    cleaned = _MARKER.sub(repl, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    if removed:
        log.warning("ongeldige bronverwijzingen verwijderd: %s", ", ".join(removed))
    return cleaned.strip(), markers_in(cleaned), removed


def verify_support(
    text: str,
    source_texts: list[str],
    embedder: Embedder | None,
    threshold: float,
    marker: str,
) -> tuple[str, list[str]]:
    """Mark each sentence whose cited sources do not support it; returns (text, unsupported sentences)."""
    unsupported: list[str] = []
    out_lines: list[str] = []
    for line in text.split("\n"):
        sentences = split_sentences(line) if line.strip() else [line]
        rebuilt: list[str] = []
        for sentence in sentences:
            numbers = markers_in(sentence)
            if numbers:
                claim = re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", sentence)).strip()
                best = max(support_score(embedder, claim, source_texts[n - 1]) for n in numbers)
                if best < threshold:
                    unsupported.append(claim)
                    sentence = sentence.rstrip() + marker
            rebuilt.append(sentence)
        out_lines.append(" ".join(rebuilt))
    return "\n".join(out_lines), unsupported


def check_answer(
    text: str,
    source_texts: list[str],
    embedder: Embedder | None,
    support_threshold: float = 0.45,
    unsupported_marker: str = " (⚠ niet gevonden in de genoemde bron)",
) -> CheckedAnswer:
    cleaned, cited, removed = clean_markers(text, len(source_texts))
    verified, unsupported = verify_support(cleaned, source_texts, embedder, support_threshold, unsupported_marker)
    return CheckedAnswer(verified, cited, removed, unsupported)
