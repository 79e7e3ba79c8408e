"""Display helpers shared by answers and pages: how SamenWeten writes things for people (Dutch)."""

from __future__ import annotations

import datetime as dt

from kb.retrieval.dutch_text import MONTHS


def dutch_date(iso: str) -> str:
    """'2026-10-01' → '1 oktober 2026' (the text itself when it is not a date)."""
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
