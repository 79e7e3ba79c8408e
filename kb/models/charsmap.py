"""A sentencepiece ``precompiled_charsmap`` writer: the normalization table of a Unigram tokenizer.

The ``tokenizers`` ``Precompiled`` normalizer reads the format sentencepiece writes: a darts-clone
double-array trie over the UTF-8 bytes of the keys, followed by their NUL-terminated replacements.
Nothing on PyPI writes that format from a Python mapping, so it is built here; the tests check it
against the ``tokenizers`` normalizer itself.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any


def build_precompiled_charsmap(mapping: Mapping[str, str]) -> bytes:
    """A sentencepiece ``precompiled_charsmap`` (darts-clone double array + strings) for ``mapping``.

    This is the blob the ``tokenizers`` ``Precompiled`` normalizer reads: a little-endian u32 trie size,
    the trie units, then the NUL-terminated replacement strings. Keys are matched by common-prefix search
    over their UTF-8 bytes.
    """
    blob = bytearray()
    offsets: dict[str, int] = {}
    for value in sorted(set(mapping.values())):
        offsets[value] = len(blob)
        blob += value.encode("utf-8") + b"\0"
    trie: dict[Any, Any] = {}
    for key, value in mapping.items():
        if not key:
            continue
        node = trie
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = offsets[value]

    units: list[int] = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    first_free = 1

    def grow(n: int) -> None:
        while len(units) <= n:
            units.extend([0] * len(units))
            used.extend(bytearray(len(used)))

    def place(node: dict[Any, Any], pos: int) -> int | None:
        nonlocal first_free
        labels = sorted(c for c in node if c is not None)
        need = ([0] if None in node else []) + labels
        if not need:
            return None
        base = first_free & ~0xFF
        while True:
            if base not in bases:
                grow(base | 0xFF)
                if all(not used[base ^ c] for c in need):
                    break
            base += 1
        bases.add(base)
        for c in need:
            used[base ^ c] = 1
        while first_free < len(used) and used[first_free]:
            first_free += 1
        if None in node:
            units[base] = (1 << 31) | node[None]  # leaf: value, with the bit that no label has
        for c in labels:
            child, cpos = node[c], base ^ c
            unit = c | ((1 << 8) if None in child else 0)
            child_base = place(child, cpos)
            if child_base is not None:
                offset = cpos ^ child_base
                if offset >= 1 << 21:
                    raise ValueError("normalisatietabel te groot voor de trie")
                unit |= offset << 10
            units[cpos] = unit
        return base

    root_base = place(trie, 0)
    units[0] = (root_base or 0) << 10
    last = max(i for i, u in enumerate(used) if u)
    packed = struct.pack(f"<{last + 1}I", *units[: last + 1])
    return struct.pack("<I", len(packed)) + packed + bytes(blob)
