"""Batch commands (ingest, reindex, setup) make OpenMP threads wait passively before torch loads; searches do not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = (
    "import os, sys\n"
    "import kb.cli\n"
    "seen = {}\n"
    "def fake(args):\n"
    "    seen['policy'] = os.environ.get('OMP_WAIT_POLICY', '')\n"
    "    seen['torch'] = 'torch' in sys.modules\n"
    "    return 0\n"
    "for name in ('cmd_ingest', 'cmd_search'):\n"
    "    setattr(kb.cli, name, lambda args: fake(args))  # one function each, as in the real parser\n"
    "kb.cli.main(sys.argv[1:])\n"
    "print(seen['policy'], seen['torch'])\n"
)


def _policy(args: list[str], env_extra: dict[str, str] | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update({"PYTHONPATH": str(ROOT), **(env_extra or {})})
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    return out.stdout.strip()


def test_ingest_makes_openmp_threads_wait_passively_before_torch_loads():
    assert _policy(["ingest", "nergens.md"]) == "PASSIVE False"


def test_search_keeps_the_default_wait_policy():
    assert _policy(["search", "vraag"]) == "False"  # no policy set, torch not loaded


def test_an_openmp_wait_policy_of_your_own_is_kept():
    assert _policy(["ingest", "nergens.md"], {"OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE False"
