"""Normalising answer text before comparing it with ``answer_must_contain`` (``shared/bench/README.md``).

``normalize_text`` applies, in this order:

1. Unicode compatibility decomposition, accents removed, lower case (``coöperatie`` → ``cooperatie``,
   ``één`` → ``een``, no-break spaces → spaces, ``½`` → ``1/2``).
2. The euro sign is dropped: ``€ 75.000`` and ``75000`` are the same amount.
3. Thousands separators are removed: a group of 1-3 digits followed by groups of exactly three digits,
   all separated by the same dot or space (``75.000``, ``75 000``, ``1.234.567`` → ``1234567``). A decimal
   comma stays (``0,23``, ``1.234,50`` → ``1234,50``) and so does a colon (``2:26``). A group of two digits
   is no thousands group, so ``art. 6.32`` is untouched.
4. Dutch numbers written in words become digits:

   * a number word times ``honderd``/``duizend``/``miljoen``/``miljard`` written apart: ``vijf honderd`` →
     ``500``, ``75 duizend`` → ``75000``, ``1,5 miljoen`` → ``1500000``;
   * fractions: a number followed by a denominator (``derde(n)``, ``vierde(n)``/``kwart``, ``vijfde(n)`` …
     ``tiende(n)``, ``twintigste``, ``honderdste``, ``duizendste``): ``een tiende`` → ``1/10``,
     ``twee derden`` → ``2/3``, ``drie kwart`` → ``3/4``; ``een half``/``de helft`` → ``1/2``;
   * every remaining whole word that is a Dutch cardinal: ``zeven`` → ``7``, ``dertien`` → ``13``,
     ``eenentwintig``/``eenëntwintig`` → ``21``, ``tweehonderdvijftig`` → ``250``, ``vijftienhonderd`` →
     ``1500``, ``tienduizend`` → ``10000``.

   **Choice about the article "een":** every standalone ``een`` (and ``één``) becomes ``1``, also the
   indefinite article (``een vereniging`` → ``1 vereniging``). The two readings cannot be told apart
   reliably, and because the expected string and the answer are normalised the same way, the comparison
   stays fair: ``een vereniging`` still equals ``een vereniging``, and ``één week`` equals ``1 week``.
   The same holds for ``een derde`` (a third party) becoming ``1/3``.
5. Whitespace: runs become one space, a space before ``%`` goes, the ends are stripped.

Ordinals (``tweede lid``) and percentages written as words are left alone.

``contains_fact`` checks that the normalised fact occurs in the normalised answer. A fact that starts or
ends with a digit must not continue a longer number in the answer (``21`` is not found in ``2100``).
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

_UNITS = {
    "nul": 0,
    "een": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
}
_TEENS = {
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
    "dertien": 13,
    "veertien": 14,
    "vijftien": 15,
    "zestien": 16,
    "zeventien": 17,
    "achttien": 18,
    "negentien": 19,
}
_TENS = {
    "twintig": 20,
    "dertig": 30,
    "veertig": 40,
    "vijftig": 50,
    "zestig": 60,
    "zeventig": 70,
    "tachtig": 80,
    "negentig": 90,
}
_MULTIPLIERS = {"honderd": 100, "duizend": 1000, "miljoen": 1_000_000, "miljard": 1_000_000_000}
_DENOMINATORS = {
    "derde": 3,
    "derden": 3,
    "vierde": 4,
    "vierden": 4,
    "kwart": 4,
    "vijfde": 5,
    "vijfden": 5,
    "zesde": 6,
    "zesden": 6,
    "zevende": 7,
    "zevenden": 7,
    "achtste": 8,
    "achtsten": 8,
    "negende": 9,
    "negenden": 9,
    "tiende": 10,
    "tienden": 10,
    "twintigste": 20,
    "twintigsten": 20,
    "honderdste": 100,
    "honderdsten": 100,
    "duizendste": 1000,
    "duizendsten": 1000,
}

_COMPOUND_TENS = re.compile(
    r"(een|twee|drie|vier|vijf|zes|zeven|acht|negen)en(twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig)"
)
_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})((?P<sep>[. ])\d{3})((?P=sep)\d{3})*(?![\d])")
_NUMBER_OR_WORD = r"(\d+(?:,\d+)?|[a-z]+)"
_MULTIPLIER_PHRASE = re.compile(r"(?<![\w,])" + _NUMBER_OR_WORD + r" (honderd|duizend|miljoen|miljard)(?!\w)")
_FRACTION_PHRASE = re.compile(
    r"(?<![\w,])(\d+|[a-z]+) (" + "|".join(sorted(_DENOMINATORS, key=len, reverse=True)) + r")(?!\w)"
)
_HALF = re.compile(r"(?<!\w)(?:de helft|1 half|1 halve|een half|een halve)(?!\w)")
_WORD = re.compile(r"(?<!\w)[a-z]+(?!\w)")
_WHITESPACE = re.compile(r"\s+")


def _below_100(word: str) -> int | None:
    if word in _UNITS:
        return _UNITS[word]
    if word in _TEENS:
        return _TEENS[word]
    if word in _TENS:
        return _TENS[word]
    m = _COMPOUND_TENS.fullmatch(word)
    if m:
        return _UNITS[m.group(1)] + _TENS[m.group(2)]
    return None


def _below_1000(word: str) -> int | None:
    if "honderd" not in word:
        return _below_100(word)
    left, _, right = word.partition("honderd")
    high = 1 if left == "" else _below_100(left)
    if right.startswith("en") and _below_100(right[2:]) is not None:  # honderdeneen
        right = right[2:]
    low = 0 if right == "" else _below_100(right)
    if high is None or low is None or high == 0:
        return None
    return high * 100 + low


def dutch_number(word: str) -> int | None:
    """The value of one Dutch cardinal written as a single word (accents already removed), or None."""
    word = word.lower()
    for name, factor in (("miljard", 1_000_000_000), ("miljoen", 1_000_000), ("duizend", 1000)):
        if name in word:
            left, _, right = word.partition(name)
            high = 1 if left == "" else (dutch_number(left) if factor > 1000 else _below_1000(left))
            low = 0 if right == "" else dutch_number(right)
            if high is None or low is None or high == 0 or low >= factor:
                return None
            return high * factor + low
    return _below_1000(word)


def _value(token: str) -> Fraction | None:
    if token[0].isdigit():
        return Fraction(token.replace(",", "."))
    n = dutch_number(token)
    return None if n is None else Fraction(n)


def _format(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return format(float(value), "f").rstrip("0").rstrip(".").replace(".", ",")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept).replace("\u2044", "/")


def _remove_thousands(text: str) -> str:
    return _THOUSANDS.sub(lambda m: re.sub(r"[. ]", "", m.group(0)), text)


def _multiply(m: re.Match[str]) -> str:
    value = _value(m.group(1))
    if value is None:
        return m.group(0)
    return _format(value * _MULTIPLIERS[m.group(2)])


def _fraction(m: re.Match[str]) -> str:
    if m.group(1)[0].isdigit():
        numerator: int | None = int(m.group(1))
    else:
        numerator = dutch_number(m.group(1))
    if numerator is None:
        return m.group(0)
    return f"{numerator}/{_DENOMINATORS[m.group(2)]}"


def _word(m: re.Match[str]) -> str:
    n = dutch_number(m.group(0))
    return m.group(0) if n is None else str(n)


def normalize_text(text: str) -> str:
    """Lower case, no accents, no thousands separators, Dutch number words as digits, one space."""
    s = _strip_accents(text).lower()
    s = re.sub(r"€\s*", "", s)
    s = _WHITESPACE.sub(" ", s)
    s = _remove_thousands(s)
    for _ in range(4):  # "vijf honderd duizend": 500, then 500000
        changed = _MULTIPLIER_PHRASE.sub(_multiply, s)
        if changed == s:
            break
        s = changed
    s = _HALF.sub("1/2", s)
    s = _FRACTION_PHRASE.sub(_fraction, s)
    s = _WORD.sub(_word, s)
    s = re.sub(r"(?<=\d) %", "%", s)
    return _WHITESPACE.sub(" ", s).strip()


def contains_fact(answer: str, fact: str) -> bool:
    """Does ``answer`` contain ``fact`` once both are normalised?

    An empty fact is always contained. A fact starting (ending) with a digit must not be preceded
    (followed) by a digit in the answer.
    """
    needle = normalize_text(fact)
    if not needle:
        return True
    haystack = normalize_text(answer)
    before = r"(?<!\d)" if needle[0].isdigit() else ""
    after = r"(?!\d)" if needle[-1].isdigit() else ""
    return re.search(before + re.escape(needle) + after, haystack) is not None


def missing_facts(answer: str, facts: list[str] | tuple[str, ...]) -> list[str]:
    """The facts that ``answer`` does not contain, in their original form."""
    return [f for f in facts if not contains_fact(answer, f)]
