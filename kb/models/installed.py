"""What is installed: the marker written after an install was verified, status, and name -> folder.

A folder under ``KB_MODELS_DIR`` counts as an installed registry model only when it carries the marker
file :data:`MARKER_NAME`, written by :func:`kb.models.install.install_model` after every weight file was
checked against its sha256 pin, and the pins and file sizes in that marker still match.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb.models.errors import ModelNotInstalledError
from kb.models.files import write_json
from kb.models.registry import MODEL_SPECS, ModelSpec

MARKER_NAME = ".samenweten-model.json"
MARKER_FORMAT = 1


@dataclass(frozen=True)
class ModelStatus:
    name: str
    installed: bool
    path: Path
    size_bytes: int
    description: str
    is_default: bool


def model_size_bytes(path: Path) -> int:
    """Total size in bytes of the files under ``path`` (a file: its size; missing: 0)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            p = Path(root) / f
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The install marker in ``folder`` as a dict; None when absent or unreadable."""
    try:
        data = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(folder: Path, spec: ModelSpec, files: dict[str, dict[str, Any]]) -> None:
    """Mark ``folder`` as a verified install of ``spec``; ``files``: relative path -> sha256 and size."""
    write_json(
        folder / MARKER_NAME,
        {
            "format": MARKER_FORMAT,
            "name": spec.name,
            "source": spec.origin,
            "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
        },
    )


def marker_ok(spec: ModelSpec, folder: Path) -> bool:
    """The folder holds a verified install of ``spec``: marker present, same pins, files of the recorded size.

    The sha256s were checked when the marker was written; re-hashing a gigabyte on every start would be
    slow, so here the pins in the marker must equal the registry's and each file must have the size
    recorded then.
    """
    marker = read_marker(folder)
    if not marker or marker.get("name") != spec.name or marker.get("format") != MARKER_FORMAT:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or set(files) != set(spec.files_sha256):
        return False
    for rel, pinned in spec.files_sha256.items():
        entry = files.get(rel)
        if not isinstance(entry, dict) or entry.get("sha256") != pinned:
            return False
        try:
            if (folder / rel).stat().st_size != entry.get("size"):
                return False
        except OSError:
            return False
    return True


def is_installed(name: str, models_dir: Path) -> bool:
    """Whether registered model ``name`` is installed (and verified) under ``models_dir``."""
    spec = MODEL_SPECS.get(name)
    return spec is not None and marker_ok(spec, Path(models_dir).expanduser() / name)


def list_models(models_dir: Path) -> list[ModelStatus]:
    """Status of every registered model under ``models_dir``."""
    models_dir = Path(models_dir).expanduser()
    out = []
    for spec in MODEL_SPECS.values():
        path = models_dir / spec.name
        installed = marker_ok(spec, path)
        out.append(
            ModelStatus(
                name=spec.name,
                installed=installed,
                path=path,
                size_bytes=model_size_bytes(path) if installed else 0,
                description=spec.description,
                is_default=spec.is_default,
            )
        )
    return out


def resolve_model_path(name_or_path: str, models_dir: Path) -> str:
    """A registry name -> its installed folder; an existing folder -> itself; anything else unchanged.

    Raises :class:`ModelNotInstalledError` for a registry name that is not (completely) installed.
    The unchanged string is treated as a hub id by sentence-transformers (deployments with internet).
    """
    if name_or_path in MODEL_SPECS:
        folder = Path(models_dir).expanduser() / name_or_path
        if marker_ok(MODEL_SPECS[name_or_path], folder):
            return str(folder.resolve())
        state = "onvolledig of niet gecontroleerd" if folder.exists() else "niet geïnstalleerd"
        raise ModelNotInstalledError(
            f"Het embeddingmodel '{name_or_path}' is {state} (verwacht in {folder}). "
            f"Installeer het met: kb models install {name_or_path}"
        )
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return str(local.resolve())
    return name_or_path


def installed_spec(name_or_path: str, path: str) -> ModelSpec | None:
    """The profile of a registry name, or of a local folder installed by ``install_model``; else None."""
    if name_or_path in MODEL_SPECS:
        return MODEL_SPECS[name_or_path]
    marker = read_marker(Path(path)) if Path(path).is_dir() else None
    spec = MODEL_SPECS.get(str(marker.get("name"))) if marker else None
    return spec if spec is not None and marker_ok(spec, Path(path)) else None
