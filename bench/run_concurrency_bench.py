"""Two ingests at once against the same two one after the other (each its own store and empty cache).

Splits the first ``--files`` files of the bench corpus into two halves and runs ``kb ingest`` on each half as
separate processes: first sequentially, then concurrently; with ``--no-lock`` also concurrently without the
machine-wide embedding lock (``KB_EMBED_LOCK=false``, the old behaviour: both processes share the cores).
Passage vectors are off to keep the run short. The two processes get a private ``TMPDIR``, so their embedding
lock is theirs alone (on a shared development machine other SamenWeten processes would hold it too). Prints the wall times, the CPU and the precision.

    flock /tmp/samenweten-cpu.lock .venv/bin/python bench/run_concurrency_bench.py [--files 6] [--no-lock]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.paths import SHARED  # noqa: E402
from ingest.pipeline import collect_files  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.models import precision_status  # noqa: E402
from kb.precision import detect_cpu  # noqa: E402


def ingest_cmd(files: list[Path]) -> list[str]:
    return [sys.executable, "-m", "kb.cli", "ingest", *map(str, files), "--json"]


def run(halves: list[list[Path]], concurrent: bool, extra_env: dict[str, str]) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory(prefix="conc-bench-") as tmp:
        envs = []
        for i in range(len(halves)):
            env = {
                **os.environ,
                # a private temp folder, so the embedding lock ($TMPDIR/samenweten-embed.lock) is shared by these
                # two processes only, not by other SamenWeten processes on a shared development machine
                "TMPDIR": tmp,
                "KB_DATA_DIR": f"{tmp}/d{i}",
                "KB_PASSAGE_VECTORS": "false",
                "PYTHONPATH": str(ROOT),
                **extra_env,
            }
            envs.append(env)
        t0 = time.perf_counter()
        each: list[float] = []
        if concurrent:
            starts = [time.perf_counter()]
            procs = [
                subprocess.Popen(ingest_cmd(h), env=e, cwd=ROOT, stdout=subprocess.DEVNULL)
                for h, e in zip(halves, envs, strict=True)
            ]
            for p in procs:
                p.wait()
                each.append(time.perf_counter() - starts[0])
                if p.returncode:
                    raise SystemExit(f"ingest mislukt (code {p.returncode})")
        else:
            for h, e in zip(halves, envs, strict=True):
                t = time.perf_counter()
                subprocess.run(ingest_cmd(h), env=e, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
                each.append(time.perf_counter() - t)
        return time.perf_counter() - t0, each


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--no-lock", action="store_true", help="also run concurrently with KB_EMBED_LOCK=false")
    args = ap.parse_args()
    files = collect_files([SHARED / "corpus"])[: args.files]
    halves = [files[0::2], files[1::2]]
    print(f"CPU: {detect_cpu().describe()}; KB_EMBED_DTYPE={os.environ.get('KB_EMBED_DTYPE', 'auto')}")
    s = Settings()
    decision = precision_status(s.embed_model, s.resolved_models_dir(), s.data_dir.expanduser().resolve())
    print(f"Precisie (auto, uit de opgeslagen beslissing): {decision.describe() if decision else 'nog niet bepaald'}")
    print(f"Twee ingests van elk {len(halves[0])} bestanden ({sum(p.stat().st_size for p in files) / 1e3:.0f} kB)")
    seq, seq_each = run(halves, False, {})
    print(f"| na elkaar | {seq:.1f} s | {' + '.join(f'{t:.1f}' for t in seq_each)} |")
    conc, conc_each = run(halves, True, {})
    print(f"| tegelijk, met embed-lock | {conc:.1f} s | klaar na {', '.join(f'{t:.1f}' for t in conc_each)} |")
    print(f"verhouding tegelijk / na elkaar: {conc / seq:.2f}")
    if args.no_lock:
        free, free_each = run(halves, True, {"KB_EMBED_LOCK": "false"})
        print(f"| tegelijk, zonder lock | {free:.1f} s | klaar na {', '.join(f'{t:.1f}' for t in free_each)} |")
        print(f"verhouding zonder lock / na elkaar: {free / seq:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
