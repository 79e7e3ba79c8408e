"""Dutch text analysis for the lexical index: tokens, stop words, stemming, compounds, article references.

* Article references ("art. 2:26 BW", "artikel 5b", "4:21 Awb", "art. 6.32") become exact tokens such as
  ``§2:26`` and ``§5b``, so a question that names an article finds it.
* Compounds are split against the corpus vocabulary: "vrijwilligersvergoeding" also yields "vrijwilligers"
  and "vergoeding"; "ledenvergadering" yields "leden" and "vergadering". The whole word is kept too.
* Words are stemmed with the Snowball Dutch stemmer (PyStemmer) after stop-word removal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH

_EXTRA_STOPWORDS = {
    "we",
    "wij",
    "ons",
    "onze",
    "mag",
    "mogen",
    "moet",
    "moeten",
    "kan",
    "kunnen",
    "wordt",
    "worden",
    "hoe",
    "wat",
    "wanneer",
    "welke",
    "waar",
    "waarom",
    "wie",
    "zijn",
    "heeft",
    "hebben",
    "gaan",
    "gaat",
    "bij",
    "nog",
    "dus",
    "wel",
    "iets",
    "eigenlijk",
    "even",
    "graag",
    "willen",
    "wil",
    "zou",
    "zouden",
    "jullie",
    "je",
    "jij",
    "u",
    "uw",
    "hun",
    "hen",
    "daarvoor",
    "daarmee",
    "ervan",
    "erin",
    "erop",
}
STOPWORDS: frozenset[str] = frozenset(
    unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in STOPWORDS_DUTCH
) | frozenset(_EXTRA_STOPWORDS)

_ARTICLE_REF = re.compile(
    r"(?:\b(?:art(?:ikel|ikelen)?|artt)\.?\s*)(\d+[a-z]?(?:[:.]\d+[a-z]?)*)|\b(\d+:\d+[a-z]?)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")
_LINKERS = ("", "s", "en", "e")
MIN_PART = 4


MONTHS: tuple[str, ...] = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def fold(text: str) -> str:
    """Lower case without accents: 'Coöperatie' → 'cooperatie'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def article_tokens(text: str) -> list[str]:
    """Exact tokens for article references in ``text``."""
    tokens = []
    for match in _ARTICLE_REF.finditer(text):
        ref = (match.group(1) or match.group(2) or "").lower().rstrip(".")
        if ref:
            tokens.append(f"§{ref}")
    return tokens


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("dutch")


class DutchAnalyzer:
    """Turns text into index tokens; ``vocabulary`` (corpus words) drives compound splitting."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        vocabulary = frozenset(vocabulary)
        self.known_words = vocabulary  # every corpus word, also short ones ("wmo", "bw")
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= MIN_PART and w not in STOPWORDS)
        self._split_cache: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def build_vocabulary(texts: Iterable[str]) -> set[str]:
        vocab: set[str] = set()
        for text in texts:
            vocab.update(w for w in words(text) if not w.isdigit())
        return vocab

    def split_compound(self, word: str) -> tuple[str, ...]:
        """Known parts of a compound word (two or three parts), or () when it is not one."""
        if len(word) < 2 * MIN_PART or word.isdigit():
            return ()
        if word in self._split_cache:
            return self._split_cache[word]
        best: tuple[str, ...] = ()
        for i in range(len(word) - MIN_PART, MIN_PART - 1, -1):  # prefer the longest head
            head, tail = word[:i], word[i:]
            if head not in self.vocabulary:
                continue
            for linker in _LINKERS:
                if linker and not tail.startswith(linker):
                    continue
                rest = tail[len(linker) :]
                if len(rest) < MIN_PART:
                    continue
                if rest in self.vocabulary:
                    best = (head, rest)
                    break
                deeper = self.split_compound(rest)
                if deeper:
                    best = (head, *deeper)
                    break
            if best:
                break
        self._split_cache[word] = best
        return best

    def tokens(self, text: str) -> list[str]:
        out = article_tokens(text)
        for word in words(text):
            if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
                continue
            out.append(_stem(word))
            for part in self.split_compound(word):
                if part not in STOPWORDS:
                    out.append(_stem(part))
        return out
