"""Where the benchmarks find the shared material: ``../shared/bench`` next to the project, or one level further
up from a git worktree (/work/wt/NAME)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = next(
    (d / "shared" / "bench" for d in (ROOT.parent, ROOT.parent.parent) if (d / "shared" / "bench").exists()),
    ROOT.parent / "shared" / "bench",
)
