"""Prompt and answer templates, read from text files in ``prompts/`` (editable without code)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from kb.errors import KbError
from kb.retrieval.types import Hit


class PromptError(KbError):
    """A template is missing or has placeholders we do not fill."""


@lru_cache(maxsize=64)
def _read(folder: str, name: str, mtime: float) -> str:
    return (Path(folder) / name).read_text(encoding="utf-8")


class Prompts:
    """Access to the templates of one prompts folder; files are re-read when they change."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def text(self, name: str) -> str:
        path = self.folder / name
        if not path.exists():
            raise PromptError(f"sjabloon ontbreekt: {path}")
        try:
            return _read(str(self.folder), name, path.stat().st_mtime)
        except UnicodeDecodeError as exc:
            raise PromptError(f"sjabloon {path} is geen UTF-8-tekst; sla het op als UTF-8") from exc

    def line(self, name: str) -> str:
        return self.text(name).strip()

    def render(self, name: str, **values: str) -> str:
        try:
            return self.text(name).format(**values)
        except KeyError as exc:
            raise PromptError(f"sjabloon {name} gebruikt een onbekende plaatshouder {exc}") from exc
        except (ValueError, IndexError) as exc:
            raise PromptError(
                f"sjabloon {name} heeft een losse accolade of een lege plaatshouder {{}} ({exc}); "
                "schrijf letterlijke accolades als {{ en }}"
            ) from exc

    def sources_block(self, hits: list[Hit]) -> str:
        blocks = []
        for i, hit in enumerate(hits, start=1):
            c = hit.chunk
            blocks.append(
                self.render(
                    "source_block_nl.txt",
                    n=str(i),
                    title=_as_data(c.title),
                    section=_as_data(" > ".join(c.section)) or "-",
                    valid_from=c.valid_from or "onbekend",
                    text=_as_data(c.text),
                )
            )
        return "\n".join(blocks)


def _as_data(text: str) -> str:
    """Source text (and its title and headings) is data: neutralise anything that looks like our delimiters."""
    return re.sub(r"<(/?)bron", r"‹\1bron", text, flags=re.IGNORECASE)
