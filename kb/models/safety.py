"""Refusing model folders that would run code: Python files, ``auto_map``, ``trust_remote_code``.

sentence-transformers and transformers run code from a model folder only when asked to; these checks
make sure no file in an installed or user-given folder asks, before anything is loaded from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kb.models.errors import UnsafeModelError
from kb.models.installed import MARKER_NAME

_CODE_SUFFIXES = (".py", ".pyc", ".pyw")
# JSON files that hold data only (vocabularies; tens of MB), never loader options
_DATA_JSON = frozenset({MARKER_NAME, "tokenizer.json", "vocab.json", "added_tokens.json"})


def read_model_json(path: Path) -> Any:
    """The JSON in a model file; None when the file is absent; :class:`UnsafeModelError` when invalid."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UnsafeModelError(f"Het modelbestand {path} is geen geldige JSON: {exc}") from exc


def _asks_remote_code(obj: Any) -> bool:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "trust_remote_code" and value not in (False, None):
                return True
            if _asks_remote_code(value):
                return True
    elif isinstance(obj, list):
        return any(_asks_remote_code(v) for v in obj)
    return False


def check_no_remote_code(folder: Path) -> None:
    """Refuse (``UnsafeModelError``) a model folder that would make transformers run code from it.

    Refused: Python files anywhere in the folder, ``auto_map`` in ``config.json`` or
    ``tokenizer_config.json`` (custom model/tokenizer classes), ``trust_remote_code`` set in any of the
    configuration files (every ``*.json`` except vocabularies such as ``tokenizer.json``), and
    ``modules.json`` entries outside the ``sentence_transformers`` package.
    """
    folder = Path(folder)
    hint = "Gebruik een model zonder eigen code of een model uit `kb models list`."
    code = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix in _CODE_SUFFIXES)
    if code:
        raise UnsafeModelError(f"Model in {folder} geweigerd: het bevat Python-code ({', '.join(code[:5])}). {hint}")
    for name in ("config.json", "tokenizer_config.json"):
        data = read_model_json(folder / name)
        if isinstance(data, dict) and "auto_map" in data:
            raise UnsafeModelError(
                f"Model in {folder} geweigerd: {name} bevat 'auto_map' (eigen modelcode, trust_remote_code). {hint}"
            )
    for path in sorted(folder.rglob("*.json")):
        if path.name in _DATA_JSON:
            continue
        if _asks_remote_code(read_model_json(path)):
            raise UnsafeModelError(
                f"Model in {folder} geweigerd: {path.relative_to(folder).as_posix()} vraagt om "
                f"trust_remote_code. {hint}"
            )
    modules = read_model_json(folder / "modules.json")
    if isinstance(modules, list):
        for module in modules:
            kind = module.get("type", "") if isinstance(module, dict) else ""
            if not str(kind).startswith("sentence_transformers."):
                raise UnsafeModelError(
                    f"Model in {folder} geweigerd: modules.json verwijst naar eigen code ({kind!r}). {hint}"
                )
