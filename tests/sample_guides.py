"""Small Markdown guides shared by the CLI and service tests (front matter as the starter guides have it)."""

from __future__ import annotations


def stichting_guide(partner: str) -> str:
    return f"""---
title: "Een stichting oprichten"
topic: rechtsvorm
partner: "{partner}"
---
# Een stichting oprichten

## Naar de notaris

Een stichting richt je op bij de notaris. De notaris legt de statuten vast in een akte.

## Geen leden

Een stichting heeft geen leden. Het bestuur neemt de besluiten.
"""


VERENIGING_GUIDE = """---
title: "De vereniging"
topic: rechtsvorm
partner: "Buurtvereniging Oost"
---
# De vereniging

## Winst verdelen

Een vereniging mag geen winst verdelen onder haar leden. Het geld gaat naar het doel van de vereniging.

## Algemene ledenvergadering

De algemene ledenvergadering kiest het bestuur van de vereniging.
"""
