"""Knowledge gaps on a partner's topics: the groups of refused questions for which the partner is one of the
organisations the matching would name (the same rule as the help on a refused answer).

Only the grouped question texts and how often they were asked are shown; never who asked or when.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from kb.db.directory import org_key
from kb.partners.matching import OrganisationProfile, PartnerMatcher

G = TypeVar("G")


def gaps_for(
    organisation: str, groups: Sequence[G], matcher: PartnerMatcher, profiles: Sequence[OrganisationProfile]
) -> list[G]:
    """The groups (each with an ``example`` question) whose question matches ``organisation``."""
    key = org_key(organisation)
    if not any(p.org_key == key for p in profiles):
        return []
    out = []
    for group in groups:
        example: Any = getattr(group, "example", "")
        if any(s.org_key == key for s in matcher.match(str(example), profiles)):
            out.append(group)
    return out
