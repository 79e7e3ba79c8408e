"""The starter partner directory: a YAML data file (``knowledge_base/partners.yaml`` by default,
``KB_STARTER_DIRECTORY``) loaded into the database on first run (``kb setup``) when the directory is empty.

The file is data, not a document: the ingest pipeline skips it when it walks the starter folder
(``ingest.pipeline.collect_files``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kb.db.directory import DirectoryError, EntryData

STARTER_DIRECTORY_NAME = "partners.yaml"


def read_starter(path: Path) -> list[EntryData]:
    """The entries of a starter file, validated; a clear Dutch :class:`DirectoryError` when it is wrong."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectoryError(f"Het bestand met de startpartnergids ontbreekt: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"Het bestand met de startpartnergids {path} kan niet worden gelezen: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DirectoryError(f"De startpartnergids {path} is geen geldige YAML: {exc}") from exc
    items = (loaded or {}).get("organisations") if isinstance(loaded, dict) else None
    if not isinstance(items, list):
        raise DirectoryError(f"De startpartnergids {path} heeft geen lijst 'organisations'.")
    entries: list[EntryData] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DirectoryError(f"Organisatie {i} in {path} is geen lijst van velden (naam: waarde).")
        try:
            entries.append(EntryData.from_mapping(item).cleaned())
        except DirectoryError as exc:
            raise DirectoryError(f"Organisatie {i} in {path}: {exc}") from exc
    return entries
