"""Locks between processes that install or first load the same model (``filelock``'s OS file locks).

The locks are released by the operating system when a process dies, so a killed install never leaves a
lock behind that blocks the next one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout


def install_lock_path(models_dir: Path, name: str) -> Path:
    """The lock file of installs of model ``name`` in ``models_dir`` (hidden, beside the model folder)."""
    return Path(models_dir) / f".{name}.lock"


@contextlib.contextmanager
def install_lock(models_dir: Path, name: str, report: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the exclusive install lock of model ``name``; wait (saying so) while another process holds it."""
    lock = FileLock(install_lock_path(models_dir, name))
    try:
        lock.acquire(blocking=False)
    except Timeout:
        if report is not None:
            report(f"[{name}] wordt al door een ander proces geïnstalleerd; wachten tot dat klaar is …")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def decision_lock(decision_file: Path) -> FileLock:
    """The lock around probing and caching a precision decision: one process probes, the others read."""
    return FileLock(f"{decision_file}.lock")
