"""Importing kb sets how OpenMP threads wait (before torch loads), unless the environment already says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _policy_after_import(env: dict[str, str]) -> str:
    code = "import os, kb; print(os.environ.get('OMP_WAIT_POLICY', ''))"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_importing_kb_makes_openmp_threads_wait_passively():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy_after_import(env) == "PASSIVE"


def test_an_openmp_wait_policy_of_your_own_is_kept():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy_after_import({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
