"""Turn a follow-up ("En voor een stichting?") into a standalone question.

With an LLM configured, the LLM rewrites it (prompt ``condense_nl.txt``). Without one, a rule-based
rewrite that *replaces* the subject instead of appending the follow-up:

1. Terms are grouped in classes of things of the same kind (legal forms, taxes, gift types, funders,
   roles, …): general domain vocabulary, see :data:`SUBJECT_GROUPS`. A word belongs to a class when it is
   one of its terms or a compound whose head is one (Dutch compounds end in their head: "buurtvereniging"
   and "zorgcoöperatie" are a vereniging and a coöperatie).
2. The follow-up's subjects are the classed words it names. For each, the previous question's subject of
   the same class (its compound included) is replaced by the new one, keeping the rest of that question
   and its spelling: "Moeten we naar de notaris om een buurtvereniging te beginnen?" + "En voor een
   stichting?" → "Moeten we naar de notaris om een stichting te beginnen?".
3. A follow-up without such a subject ("En hoe lang duurt dat?") is read together with the previous
   question, as before.

The previous question is itself made standalone first, turn by turn, so a chain of follow-ups
(vereniging → stichting → coöperatie) keeps the original question's body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kb.answering.types import Turn
from kb.retrieval.dutch_text import fold

# Classes of terms of the same kind that a follow-up may swap (folded: lower case, no accents). General
# domain vocabulary of resident collectives, not phrases of particular questions.
SUBJECT_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "vereniging",
        "stichting",
        "cooperatie",
        "onderlinge waarborgmaatschappij",
        "vof",
        "bv",
        "nv",
        "eenmanszaak",
        "informele vereniging",
        "maatschap",
        "commanditaire vennootschap",
        "vennootschap",
    ),
    (
        "btw",
        "omzetbelasting",
        "vennootschapsbelasting",
        "vpb",
        "inkomstenbelasting",
        "loonbelasting",
        "schenkbelasting",
        "erfbelasting",
        "overdrachtsbelasting",
        "energiebelasting",
        "ozb",
        "onroerendezaakbelasting",
        "dividendbelasting",
        "toeristenbelasting",
        "precariobelasting",
    ),
    ("anbi", "sbbi", "culturele anbi"),
    ("gewone gift", "periodieke gift"),
    ("schenking", "erfenis", "nalatenschap", "legaat"),
    ("gemeente", "provincie", "fonds", "rijk", "waterschap"),
    (
        "bestuurder",
        "bestuur",
        "lid",
        "leden",
        "vrijwilliger",
        "vrijwilligers",
        "penningmeester",
        "voorzitter",
        "secretaris",
        "kascommissie",
        "ledenvergadering",
        "werknemer",
        "zzp'er",
        "zzper",
    ),
    ("huurder", "verhuurder", "huurdersorganisatie", "bewonerscommissie", "woningcorporatie"),
    ("subsidie", "lening", "crowdfunding", "gift", "donatie", "sponsoring"),
)
_MIN_COMPOUND_HEAD = 5  # a head shorter than this ("bv", "lid") only counts as a whole word
_MIN_COMPOUND_MODIFIER = 3  # "buurt" + "vereniging"; not "e" + "vereniging"

_FOLLOW_UP_START = re.compile(
    r"^(en|maar|ook|of|dus|idem|en als|wat als|geldt dat|geldt dit|is dat|is dit|hoe zit het|hoe zit dat"
    r"|hoe werkt dat|en bij|en voor|en met|en wat|en hoe|en als|en in)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(dat|dit|die|daar|daarvoor|daarbij|ervan|het|zij|hij|ze)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w'’]+", re.UNICODE)
# "Een stichting dan?" names only a subject (with these little words around it): an elliptic follow-up.
_NOUN_PHRASE_FILLERS = frozenset(
    [
        "een",
        "de",
        "het",
        "onze",
        "ons",
        "mijn",
        "jullie",
        "dan",
        "ook",
        "eigenlijk",
        "nou",
        "voor",
        "bij",
        "met",
        "van",
        "als",
        "in",
        "zo'n",
        "zulke",
    ]
)


@dataclass(frozen=True)
class Subject:
    """A classed term in a text: where it is (character offsets), its class and the term it is."""

    start: int
    end: int
    group: int
    term: str
    text: str  # as written


def _word_class(folded_word: str) -> tuple[int, str] | None:
    """(class, term) of one word: a term itself, or a compound ending in a term of at least 5 letters."""
    best: tuple[int, str] | None = None
    for g, group in enumerate(SUBJECT_GROUPS):
        for term in group:
            if " " in term:
                continue
            if folded_word == term:
                return g, term
            if (
                len(term) >= _MIN_COMPOUND_HEAD
                and folded_word.endswith(term)
                and len(folded_word) - len(term) >= _MIN_COMPOUND_MODIFIER
                and (best is None or len(term) > len(best[1]))
            ):
                best = (g, term)
    return best


def find_subjects(text: str) -> list[Subject]:
    """The classed terms in ``text``, left to right; a multi-word term ("periodieke gift") counts once."""
    words = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(text)]
    subjects: list[Subject] = []
    i = 0
    while i < len(words):
        matched = None
        for g, group in enumerate(SUBJECT_GROUPS):
            for term in group:
                parts = term.split()
                if len(parts) < 2 or i + len(parts) > len(words):
                    continue
                window = [w[2] for w in words[i : i + len(parts)]]
                same_term = window[:-1] == parts[:-1] and (_word_class(window[-1]) or (None, ""))[1] == parts[-1]
                if same_term and (matched is None or len(parts) > matched[2]):
                    matched = (g, term, len(parts))
        if matched:
            g, term, size = matched
            start, end = words[i][0], words[i + size - 1][1]
            subjects.append(Subject(start, end, g, term, text[start:end]))
            i += size
            continue
        found = _word_class(words[i][2])
        if found:
            start, end = words[i][0], words[i][1]
            subjects.append(Subject(start, end, found[0], found[1], text[start:end]))
        i += 1
    return subjects


def last_user_question(history: list[Turn]) -> str | None:
    for turn in reversed(history):
        if turn.role == "user" and turn.content.strip():
            return turn.content.strip()
    return None


def looks_like_follow_up(question: str) -> bool:
    """An elliptic question: starts like a follow-up, or is short and leans on a pronoun or only names a subject."""
    text = question.strip()
    words = _WORD.findall(text)
    if _FOLLOW_UP_START.match(text):
        return True
    if len(words) <= 6 and _PRONOUN.search(text):
        return True
    return _only_names_subjects(text)


def _only_names_subjects(text: str) -> bool:
    subjects = find_subjects(text)
    if not subjects:
        return False
    rest = text
    for subject in reversed(subjects):
        rest = rest[: subject.start] + " " + rest[subject.end :]
    return all(fold(w) in _NOUN_PHRASE_FILLERS for w in _WORD.findall(rest))


def swap_subjects(previous: str, question: str) -> str | None:
    """``previous`` with each subject replaced by the follow-up's subject of the same class; None if none."""
    new_by_group: dict[int, Subject] = {}
    for subject in find_subjects(question):
        new_by_group.setdefault(subject.group, subject)
    if not new_by_group:
        return None
    replacements: list[tuple[int, int, str]] = []
    for old in find_subjects(previous):
        new = new_by_group.get(old.group)
        if new is not None and fold(new.text) != fold(old.text):
            replacements.append((old.start, old.end, new.text))
    if not replacements:
        return None
    swapped = previous
    for start, end, text in sorted(replacements, reverse=True):
        swapped = swapped[:start] + text + swapped[end:]
    return swapped


def _standalone(question: str, previous: str | None) -> str:
    if not previous or not looks_like_follow_up(question):
        return question
    swapped = swap_subjects(previous, question)
    if swapped is not None:
        return swapped
    return f"{previous} {question}"


def rule_based_condense(question: str, history: list[Turn]) -> str:
    """The standalone question, made from the conversation's user turns in order (see the module text)."""
    previous: str | None = None
    for turn in history:
        if turn.role == "user" and turn.content.strip():
            previous = _standalone(turn.content.strip(), previous)
    return _standalone(question, previous)


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
