"""Markdown: optional YAML front matter, ATX (and one-line setext) headings, paragraphs as written."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from ingest.document import Block, ParsedDocument
from ingest.errors import CorruptFileError
from ingest.loaders.text import decode_text

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_SETEXT_TEXT = re.compile(r"^ {0,3}(?:[-*+>|]|\d+[.)])(?:\s|$)")
_FRONT_MATTER_END = ("---", "...")
_MAX_METADATA_NODES = 10_000  # guards against YAML alias bombs once the metadata is serialised


def load(path: Path, data: bytes) -> ParsedDocument:
    """A Markdown file as heading and paragraph blocks, with its front matter as ``metadata``."""
    lines = decode_text(path, data).split("\n")
    metadata, body_lines = _split_front_matter(path, lines)
    blocks = _parse_blocks(body_lines)
    return ParsedDocument(kind="markdown", blocks=blocks, title=_title(metadata, blocks), metadata=metadata)


def _split_front_matter(path: Path, lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Front matter is a ``---`` line at the very top, closed by a ``---`` (or ``...``) line."""
    if not lines or lines[0].rstrip() != "---":
        return {}, lines
    for end in range(1, len(lines)):
        if lines[end].rstrip() in _FRONT_MATTER_END:
            break
    else:
        return {}, lines  # never closed: an ordinary thematic break, not front matter
    yaml_text = "\n".join(lines[1:end])
    try:
        loaded = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        raise CorruptFileError(path, _yaml_error_reason(exc)) from exc
    if loaded is None:
        return {}, lines[end + 1 :]
    if not isinstance(loaded, dict):
        raise CorruptFileError(
            path,
            "de YAML-kop (front matter) bovenaan moet bestaan uit regels 'sleutel: waarde' "
            f"(bijvoorbeeld 'title: Mijn titel'), maar bevat een {_yaml_type_nl(loaded)}.",
        )
    budget = [_MAX_METADATA_NODES]
    try:
        metadata = {str(key): _plain(value, budget) for key, value in loaded.items()}
    except _TooComplex:
        raise CorruptFileError(
            path, "de YAML-kop (front matter) is te groot of te complex; houd hem kort en eenvoudig."
        ) from None
    return metadata, lines[end + 1 :]


def _yaml_error_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" op regel {mark.line + 2}" if mark is not None else ""  # +1 for 0-based, +1 for '---'
    return (
        f"de YAML-kop (front matter) is ongeldig{where}: {problem}. Controleer de regels tussen de "
        "twee '---'-regels bovenaan (let op dubbele punten en aanhalingstekens)."
    )


def _yaml_type_nl(value: object) -> str:
    if isinstance(value, list):
        return "lijst"
    return "losse waarde"


class _TooComplex(Exception):
    pass


def _plain(value: Any, budget: list[int]) -> Any:
    """A JSON-friendly copy: dates become ISO strings, keys strings; aliases count against a budget."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooComplex
    if isinstance(value, dict):
        return {str(k): _plain(v, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v, budget) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # e.g. bytes from !!binary


def _parse_blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    fence: str | None = None

    def flush() -> None:
        text = "\n".join(paragraph).strip("\n")
        if text.strip():
            blocks.append(Block(text))
        paragraph.clear()

    for raw in lines:
        line = raw.rstrip()
        if fence is not None:
            paragraph.append(line)
            if _closes_fence(line, fence):
                fence = None
                flush()
            continue
        opening = _FENCE_OPEN.match(line)
        if opening and not (opening.group(1)[0] == "`" and "`" in line[opening.end() :]):
            flush()  # a fenced code block is a block of its own; '#' lines in it are not headings
            fence = opening.group(1)
            paragraph.append(line)
            continue
        if not line.strip():
            flush()
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            text = _ATX_CLOSING.sub("", heading.group(2) or "").strip()
            if text:
                blocks.append(Block(text, heading_level=len(heading.group(1))))
            continue
        underline = _SETEXT_UNDERLINE.match(line)
        if underline and len(paragraph) == 1 and not _NOT_SETEXT_TEXT.match(paragraph[0]):
            level = 1 if underline.group(1)[0] == "=" else 2
            blocks.append(Block(paragraph[0].strip(), heading_level=level))
            paragraph.clear()
            continue
        paragraph.append(line)
    flush()
    return blocks


def _closes_fence(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence) and set(stripped) == {fence[0]}


def _title(metadata: dict[str, Any], blocks: list[Block]) -> str | None:
    declared = metadata.get("title")
    if declared is not None and str(declared).strip():
        return str(declared).strip()
    return next((b.text for b in blocks if b.heading_level == 1), None)
