"""Names derived from names: slugs, stable organisation keys, document ids. Shared by ``kb`` and ``ingest``."""

from __future__ import annotations

import re
import unicodedata


def slugify(value: str) -> str:
    normalized = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", normalized.lower()).strip("-") or "x"


def organisation_key(name: str | None) -> str:
    """The one key of an organisation name, for the document register, the partner directory, access checks
    and search filters: case (also "ß" = "ss"), accents, spaces and punctuation do not matter; "" for no name."""
    text = (name or "").strip()
    return slugify(text.casefold()) if text else ""


def make_doc_id(partner: str, source_name: str) -> str:
    """Stable id: the same partner ingesting the same file name replaces the same document."""
    return f"{slugify(partner)}--{slugify(source_name)}"
