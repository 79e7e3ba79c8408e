"""Sizes as Dutch users read them in error messages."""

from __future__ import annotations

MB = 1024 * 1024


def format_mb(size: int) -> str:
    """Bytes as megabytes with a decimal comma: ``25``, ``0,5``, ``< 0,01``."""
    value = size / MB
    if 0 < value < 0.01:
        return "< 0,01"
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
