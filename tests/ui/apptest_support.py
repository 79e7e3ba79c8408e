"""Helpers shared by the app tests and the browser test (imported by their conftest files).

* :func:`build_tiny_model` writes a real, tiny sentence-transformers model folder (a static word-embedding
  model with a word-level tokenizer, no download): the app loads it through the normal
  ``KB_EMBED_MODEL=<folder>`` path, so the tests run the product's own model loading, store, retrieval and
  answering. Word vectors are random but weighted by inverse document frequency, so texts that share
  rare words are close.
* :data:`STARTER_DOCS`: a small starter set of Markdown documents of two partner organisations.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

PARTNER_A = "Buurtkracht Oost"
PARTNER_B = "Dorpshuis West"
PASSWORD = "correct-paard-batterij"

STARTER_DOCS: dict[str, str] = {
    "stichting.md": f"""---
title: "De stichting"
topic: rechtsvorm
partner: "{PARTNER_A}"
url: https://example.org/stichting
---
# De stichting

## Wie beslist

Een stichting heeft geen leden. Het bestuur van de stichting beslist over bijna alles.
De statuten van de stichting bepalen hoe het bestuur wordt benoemd.

## Oprichten

Een stichting richt je op bij de notaris met een notariële akte.
""",
    "vereniging.md": f"""---
title: "De vereniging"
topic: rechtsvorm
partner: "{PARTNER_B}"
---
# De vereniging

## Leden

Een vereniging heeft leden. De algemene ledenvergadering van de vereniging kiest het bestuur.

## Winst

Een vereniging mag geen winst verdelen onder haar leden.
""",
    "giften.md": f"""---
title: "Giften aftrekken"
topic: belasting
partner: "{PARTNER_A}"
---
# Giften aftrekken

## Gewone giften

Donateurs kunnen een gift aan een ANBI aftrekken van de inkomstenbelasting als de giften samen boven
de drempel komen.
""",
    "kwetsbaar.md": f"""---
title: "Kascommissie <script>alert('titel')</script>"
topic: overig
partner: "{PARTNER_B}"
---
# Kascommissie

## Controle

De kascommissie controleert de kas <script>alert('xss')</script> en de boekhouding van de penningmeester.
Zie ook <img src=x onerror="alert('img')"> en [klik hier](javascript:alert('link')) en :red[rood] en $x^2$.
""",
}

EXTRA_VOCABULARY = """
wie beslist er in een stichting vereniging en hoe zit dat bij een wat doet de kascommissie
kunnen donateurs hun gift aftrekken zonnepanelen subsidie kleurcode buurtbatterij welke
statiegeld oranje regeling geldt voor onze wat is het verschil tussen krijgt anbi-status
wanneer bestuurder persoonlijk aansprakelijk aan onze vragen antwoorden bestaat niet
"""


def fold(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text)
    return "".join(c for c in normalized if not unicodedata.combining(c)).lower()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


def build_tiny_model(folder: Path, texts: Iterable[str], dim: int = 192, seed: int = 7) -> Path:
    """Write a tiny static-embedding sentence-transformers model that knows the words of ``texts``."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    documents = [set(_words(t)) for t in texts]
    frequency: Counter[str] = Counter(w for doc in documents for w in doc)
    vocab = {"[UNK]": 0, "[PAD]": 1}
    for word in sorted(frequency):
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()

    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((len(vocab), dim)).astype(np.float32)
    weights /= np.linalg.norm(weights, axis=1, keepdims=True)
    n_docs = max(1, len(documents))
    for word, index in vocab.items():
        idf = math.log((1 + n_docs) / (1 + frequency.get(word, 0))) + 0.05
        weights[index] *= idf if word not in ("[UNK]", "[PAD]") else 0.0
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)])
    folder.mkdir(parents=True, exist_ok=True)
    model.save(str(folder))
    return folder


def model_texts(project_root: Path) -> list[str]:
    """Everything the tiny model should know: starter docs, the project's guides, test questions."""
    texts = list(STARTER_DOCS.values()) + [EXTRA_VOCABULARY]
    starter = project_root / "knowledge_base"
    if starter.exists():
        texts += [p.read_text(encoding="utf-8") for p in sorted(starter.rglob("*.md"))]
    return texts


def write_docs(folder: Path, docs: dict[str, str] = STARTER_DOCS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def docx_bytes(title: str, paragraphs: list[str]) -> bytes:
    """A real .docx with a title heading and paragraphs (python-docx)."""
    from docx import Document

    document = Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def plain(markdown: str) -> str:
    """Escaped Markdown back to the text a reader sees (backslash escapes and hard breaks removed)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("  \n", "\n")).replace("\u200b", "")
