"""Turn a follow-up ("En voor een stichting?") into a standalone question.

With an LLM configured, the LLM rewrites it (prompt ``condense_nl.txt``). Without one, a rule-based
carry-over: a follow-up that names another subject of the same kind (vereniging → stichting) gets the
previous question with that subject swapped; any other short follow-up is read together with the previous
question.
"""

from __future__ import annotations

import re
from typing import Callable

from kb.answering.types import Turn
from kb.retrieval.dutch_text import fold

# Subjects of the same kind that a follow-up may swap. General domain vocabulary, not question-specific.
SUBJECT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("vereniging", "stichting", "cooperatie", "onderlinge waarborgmaatschappij", "vof", "bv", "eenmanszaak",
     "informele vereniging"),
    ("anbi", "sbbi"),
    ("gewone gift", "periodieke gift"),
    ("schenking", "erfenis", "nalatenschap"),
    ("gemeente", "provincie", "fonds"),
    ("bestuurder", "bestuur", "lid", "leden", "vrijwilliger", "penningmeester", "voorzitter", "secretaris"),
    ("huurder", "verhuurder", "huurdersorganisatie", "bewonerscommissie"),
)
_FOLLOW_UP_START = re.compile(
    r"^(en|maar|ook|of|dus|en als|wat als|geldt dat|is dat|hoe zit het|hoe zit dat|en bij|en voor|en met|en wat)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(dat|dit|die|daar|daarvoor|daarbij|ervan|het|zij|hij|ze)\b", re.IGNORECASE)


def last_user_question(history: list[Turn]) -> str | None:
    for turn in reversed(history):
        if turn.role == "user" and turn.content.strip():
            return turn.content.strip()
    return None


def looks_like_follow_up(question: str) -> bool:
    words = question.split()
    return bool(_FOLLOW_UP_START.match(question.strip())) or (len(words) <= 6 and bool(_PRONOUN.search(question)))


def _subjects(text: str) -> list[tuple[int, str]]:
    folded = fold(text)
    found = []
    for g, group in enumerate(SUBJECT_GROUPS):
        for subject in sorted(group, key=len, reverse=True):
            if re.search(rf"\b{re.escape(subject)}\b", folded):
                found.append((g, subject))
                break
    return found


def rule_based_condense(question: str, history: list[Turn]) -> str:
    previous = last_user_question(history)
    if not previous or not looks_like_follow_up(question):
        return question
    new_subjects = dict(_subjects(question))
    swapped = previous
    changed = False
    for group, old in _subjects(previous):
        new = new_subjects.get(group)
        if new and new != old:
            swapped = re.sub(rf"\b{re.escape(old)}\b", new, fold(swapped))
            changed = True
    if changed:
        return swapped
    return f"{previous} {question}"


def condense(question: str, history: list[Turn], llm_rewrite: Callable[[str, list[Turn]], str] | None = None) -> str:
    """A standalone version of ``question`` given the conversation so far."""
    if not history:
        return question
    if llm_rewrite is not None:
        try:
            rewritten = llm_rewrite(question, history).strip().strip('"')
            if rewritten:
                return rewritten.splitlines()[0]
        except Exception:  # an unreachable LLM must not stop the answer: fall back to the rules
            pass
    return rule_based_condense(question, history)
