"""Tests of kb.models.locking: one install of a model at a time, across real processes.

A second process holds the install lock (through the same function the installer uses); the install in
this process waits, says so, and goes on when the other process releases it or is killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from models_support import fake_archive, fake_spec, register, write_wheels

from kb.models.install import install_model
from kb.models.installed import is_installed
from kb.models.locking import decision_lock, install_lock, install_lock_path

ROOT = Path(__file__).resolve().parents[2]
WAITING = "wordt al door een ander proces geïnstalleerd"
HOLDER = """
import sys
from pathlib import Path
from kb.models.locking import install_lock
with install_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _hold_lock(models_dir: Path, name: str) -> subprocess.Popen[str]:
    """Another process holding the install lock of ``name`` until its stdin is closed (or it is killed)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(models_dir), name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _install_in_thread(models_dir: Path, downloads: Path) -> tuple[threading.Thread, list[str], list[object]]:
    messages: list[str] = []
    result: list[object] = []

    def run() -> None:
        try:
            result.append(install_model("tiny-test", models_dir, download_dir=downloads, progress=messages.append))
        except Exception as exc:  # reported by the test
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, messages, result


@pytest.fixture
def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_pip) -> Path:
    archive = fake_archive()
    register(monkeypatch, fake_spec(archive))
    write_wheels(tmp_path / "wheels", archive)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    return models_dir


@pytest.mark.process  # another real process holds the install lock
def test_install_waits_while_another_process_installs(tiny_model: Path, tmp_path: Path) -> None:
    holder = _hold_lock(tiny_model, "tiny-test")
    try:
        thread, messages, result = _install_in_thread(tiny_model, tmp_path / "wheels")
        _wait_for(lambda: any(WAITING in m for m in messages))
        time.sleep(0.5)
        assert thread.is_alive() and not result  # still waiting: nothing built meanwhile
        assert not is_installed("tiny-test", tiny_model)
        assert not any("deel 1/3" in m for m in messages)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    thread.join(timeout=60)
    assert result == [(tiny_model / "tiny-test").resolve()], result
    assert any("deel 3/3" in m for m in messages) and is_installed("tiny-test", tiny_model)


@pytest.mark.process  # another real process holds the install lock
def test_install_uses_what_the_other_process_finished(tiny_model: Path, tmp_path: Path) -> None:
    built = install_model("tiny-test", tmp_path / "elsewhere", download_dir=tmp_path / "wheels")
    holder = _hold_lock(tiny_model, "tiny-test")
    try:
        thread, messages, result = _install_in_thread(tiny_model, tmp_path / "wheels")
        _wait_for(lambda: any(WAITING in m for m in messages))
        shutil.copytree(built, tiny_model / "tiny-test")  # the other process's install lands
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    thread.join(timeout=60)
    assert result == [(tiny_model / "tiny-test").resolve()], result
    assert not any("deel" in m for m in messages)  # nothing downloaded or built a second time


@pytest.mark.process  # another real process holds the install lock
def test_a_killed_holder_does_not_block_the_next_install(tiny_model: Path, tmp_path: Path) -> None:
    holder = _hold_lock(tiny_model, "tiny-test")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    messages: list[str] = []
    install_model("tiny-test", tiny_model, download_dir=tmp_path / "wheels", progress=messages.append)
    assert not any(WAITING in m for m in messages)
    assert is_installed("tiny-test", tiny_model)


@pytest.mark.process  # another real process holds the install lock
def test_locks_are_per_model(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path, "model-a")
    try:
        messages: list[str] = []
        with install_lock(tmp_path, "model-b", messages.append):
            pass
        assert messages == []
        assert install_lock_path(tmp_path, "model-a") != install_lock_path(tmp_path, "model-b")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_decision_lock_is_exclusive(tmp_path: Path) -> None:
    target = tmp_path / "precision" / "m.json"
    target.parent.mkdir()
    first, second = decision_lock(target), decision_lock(target)
    order: list[str] = []

    def other() -> None:
        with second:
            order.append("second")

    with first:
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        order.append("first")
    thread.join(timeout=30)
    assert order == ["first", "second"]
