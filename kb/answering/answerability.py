"""Can the sources answer this question at all? Rules that catch near-domain questions a score cannot.

A similarity score cannot tell "the sources are about notaries and foundations" from "the sources say what a
notary costs". So before answering, three general checks look at the question itself (its last, asking
sentence) against the knowledge base:

* expected answer type: a question that asks for a price, a date or deadline, or opening hours and contact
  details is only answerable when the best sources contain an amount, a date or term, or such details;
* unknown names: a capitalised name or an acronym in the asking sentence that occurs nowhere in the knowledge
  base ("gemeente Utrecht", "BelastingTelefoon", "SDE++") is a subject the sources do not cover;
* unknown subject: when most content words of the asking sentence occur nowhere in the knowledge base
  (not even as part of a compound), the sources do not cover the subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.retrieval.dutch_text import MONTHS, STOPWORDS, DutchAnalyzer, fold, words
from kb.retrieval.types import Hit

_MONEY_QUESTION = re.compile(
    r"\b(wat|hoeveel) (kost|kosten)\b|\bhoe duur\b|\bwat zijn de kosten\b|\bwelke? (bedrag|prijs|tarief)\b|"
    r"\bmaximumbedrag\b|\bhoeveel geld\b|\bwat betalen (we|wij|je|u)\b"
)
_MONEY_EVIDENCE = re.compile(r"€|\beuro\b|\bbedrag(en)? van\b|\bkosten van\b|\d[\d.,]*\s*(%|procent)")
_DATE_QUESTION = re.compile(r"\b(voor|voor|op|tot) welke datum\b|\bwelke datum\b|\buiterste (in)?(dien)?datum\b|\bdeadline\b")
_MONTHS = "|".join(MONTHS)
_DATE_EVIDENCE = re.compile(
    rf"\b\d{{1,2}} ({_MONTHS})\b|\bbinnen \w+ (dagen|weken|maanden|jaar)\b|\buiterlijk\b|\b(termijn|datum) van\b"
)
_CONTACT_QUESTION = re.compile(r"\bopeningstijden\b|\bopeningsuren\b|\btelefoonnummer\b|\be-?mailadres\b|\bbereikbaar\b")
_CONTACT_EVIDENCE = re.compile(r"\b\d{1,2}[:.]\d{2}\s*uur\b|\b0\d{2,3}[- ]?\d{6,7}\b|\b\S+@\S+\.\w+\b")
_FILLERS = frozenset({
    "hoeveel", "ongeveer", "gewoon", "zomaar", "misschien", "eigenlijk", "echt", "echte", "erover", "lukt",
    "precies", "ergens", "iemand", "alles", "niets", "weten", "vragen", "vraag", "moeten", "kunnen", "mogen",
    "willen", "zouden", "hebben", "krijgen", "geven", "doen", "gaan", "komen", "staan", "zetten", "maken",
})
_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{1,5})(?![a-z])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b([A-Z][a-z]+(?:[A-Z][a-z]+)*)\b")


@dataclass(frozen=True)
class Answerability:
    answerable: bool
    reason: str | None = None


def asking_part(question: str) -> str:
    """The sentence(s) that ask: those ending in '?', else the last sentence."""
    sentences = [s.strip() for s in _SENTENCE.split(question.strip()) if s.strip()]
    asking = [s for s in sentences if s.endswith("?")]
    return " ".join(asking or sentences[-1:])


def _known(word: str, analyzer: DutchAnalyzer) -> bool:
    return word in analyzer.known_words or bool(analyzer.split_compound(word)) or word.isdigit()


def check_answerable(question: str, hits: list[Hit], analyzer: DutchAnalyzer, top: int = 3) -> Answerability:
    asking = asking_part(question)
    folded = fold(asking)
    evidence = fold(" ".join(h.chunk.text for h in hits[:top]))
    if _MONEY_QUESTION.search(folded) and not _MONEY_EVIDENCE.search(evidence):
        return Answerability(False, "de vraag gaat over een bedrag of prijs, en dat noemen de bronnen niet")
    if _DATE_QUESTION.search(folded) and not _DATE_EVIDENCE.search(evidence):
        return Answerability(False, "de vraag gaat over een datum of termijn, en die noemen de bronnen niet")
    if _CONTACT_QUESTION.search(folded) and not _CONTACT_EVIDENCE.search(evidence):
        return Answerability(False, "de vraag gaat over openingstijden of contactgegevens; die staan niet in de bronnen")
    if not analyzer.known_words:
        return Answerability(True)
    names = [fold(n) for n in _NAME.findall(asking) if len(n) >= 3 and not _known(fold(n), analyzer)]
    names += [a for a in _ACRONYM.findall(asking) if not _known(fold(a), analyzer)]  # "AED", "SDE++", "OZB"
    if names:
        return Answerability(False, f"de bronnen noemen {', '.join(dict.fromkeys(names))} nergens")
    content = [w for w in words(asking) if len(w) >= 4 and w not in STOPWORDS and w not in _FILLERS]
    unknown = [w for w in content if not _known(w, analyzer)]
    if len(unknown) >= 2 and len(unknown) * 2 >= len(content):
        return Answerability(False, f"de bronnen gaan niet over {', '.join(unknown[:3])}")
    return Answerability(True)
