"""The partner directory (partnergids): organisations that help resident collectives, with their topics, the
kinds of collective they help and their public contact routes.

One row per organisation, keyed by :func:`kb.naming.organisation_key` (the key the document register uses
too: case, accents, spaces and punctuation do not matter), so "Nederland Zorgt Voor Elkaar" and "nederland
zorgt voor  elkaar" are the same entry, and a document's ``partner`` field finds its entry the same way.
Whether an organisation is a *knowledge partner* is not stored: it follows from the documents in the store
(:func:`knowledge_partner_keys`).

Every change writes an audit entry (``kb.db.audit``) in the same transaction: ``doc_id`` is
``partnergids:<key>``, ``partner_org`` the organisation's name. Functions take an open Session and flush; the
caller commits (``session_scope``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kb.db.audit import log_event
from kb.db.models import Base, utcnow
from kb.errors import KbError
from kb.naming import organisation_key
from kb.text import web_address

AUDIT_PREFIX = "partnergids:"
# Migration 0004 re-keyed the directory by organisation_key; two old entries that now share a key keep
# both, the later one as "<key>~2" (a slug never holds "~").
DUPLICATE_MARK = "~"
MAX_NAME = 120
MAX_DESCRIPTION = 800
MAX_LABELS = 12
MAX_LABEL = 40

# The labels the starter directory and the staff page offer; other labels are allowed too.
SUGGESTED_TOPICS: tuple[str, ...] = (
    "rechtsvorm",
    "belasting",
    "financiering",
    "zorg",
    "welzijn",
    "wonen",
    "energie",
    "kleine kernen",
    "vrijwilligers",
    "leefbaarheid",
    "buurtrechten",
)
SUGGESTED_KINDS: tuple[str, ...] = (
    "bewonersinitiatief",
    "buurtcoöperatie",
    "energiecoöperatie",
    "zorgcoöperatie",
    "wooncoöperatie",
    "dorpshuis",
    "dorpsraad",
    "huurdersorganisatie",
    "vrijwilligersorganisatie",
    "stichting",
    "vereniging",
)

FIELD_NL = {
    "name": "naam",
    "description": "beschrijving",
    "topics": "onderwerpen",
    "kinds": "soorten collectieven",
    "website": "website",
    "email": "e-mail",
    "phone": "telefoon",
    "opening_hours": "bereikbaar",
}

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-./]{2,28}[0-9]$")
_SPACE = re.compile(r"\s+")


class DirectoryError(KbError, ValueError):
    """A directory entry cannot be stored or found; the message (Dutch) says why and what to do."""


class DirectoryEntry(Base):
    """One organisation in the partner directory."""

    __tablename__ = "partner_directory"

    org_key: Mapped[str] = mapped_column(String(MAX_NAME), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    description: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    opening_hours: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def contact(self) -> dict[str, str]:
        """The public contact routes that are filled in (website, email, phone, opening_hours)."""
        routes = {
            "website": self.website,
            "email": self.email,
            "phone": self.phone,
            "opening_hours": self.opening_hours,
        }
        return {k: v for k, v in routes.items() if v}

    def profile_text(self) -> str:
        """What the matching embeds for this organisation: name, description, topics and kinds."""
        parts = [self.name + "."]
        if self.description:
            parts.append(self.description.strip())
        if self.topics:
            parts.append("Onderwerpen: " + ", ".join(self.topics) + ".")
        if self.kinds:
            parts.append("Helpt: " + ", ".join(self.kinds) + ".")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"DirectoryEntry(org_key={self.org_key!r})"


@dataclass
class EntryData:
    """The editable fields of an entry (as typed in the staff page, the CLI or the starter file)."""

    name: str
    description: str = ""
    topics: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    opening_hours: str | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> EntryData:
        """From a dict (starter file, JSON); unknown keys are a Dutch error, so typos do not vanish."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DirectoryError(
                f"Onbekend veld {', '.join(unknown)} in de partnergids; gebruik {', '.join(sorted(known))}."
            )
        return cls(**{k: data[k] for k in data})

    def cleaned(self) -> EntryData:
        """Validated and normalised copy; raises :class:`DirectoryError` (Dutch) on bad input."""
        name = _SPACE.sub(" ", str(self.name or "")).strip()
        if not name:
            raise DirectoryError("Een organisatie in de partnergids heeft een naam nodig.")
        if len(name) > MAX_NAME:
            raise DirectoryError(f"De naam is te lang: gebruik hoogstens {MAX_NAME} tekens.")
        description = str(self.description or "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise DirectoryError(f"De beschrijving is te lang: gebruik hoogstens {MAX_DESCRIPTION} tekens.")
        return EntryData(
            name=name,
            description=description,
            topics=_labels(self.topics, "onderwerpen"),
            kinds=_labels(self.kinds, "soorten collectieven"),
            website=_website(self.website),
            email=_email(self.email),
            phone=_phone(self.phone),
            opening_hours=_short(self.opening_hours, 200, "bereikbaarheid"),
        )


def _labels(values: Iterable[str] | str | None, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    out: list[str] = []
    for value in values:
        label = _SPACE.sub(" ", str(value)).strip().lower()
        if not label:
            continue
        if len(label) > MAX_LABEL:
            raise DirectoryError(f"'{label[:50]}' is te lang voor een van de {what} (hoogstens {MAX_LABEL} tekens).")
        if label not in out:
            out.append(label)
    if len(out) > MAX_LABELS:
        raise DirectoryError(f"Te veel {what}: geef er hoogstens {MAX_LABELS}.")
    return out


def _short(value: str | None, limit: int, what: str) -> str | None:
    text = _SPACE.sub(" ", str(value or "")).strip()
    if len(text) > limit:
        raise DirectoryError(f"De {what} is te lang: gebruik hoogstens {limit} tekens.")
    return text or None


def _website(value: str | None) -> str | None:
    text = _short(value, 300, "website")
    if text is None:
        return None
    if "://" not in text:
        text = "https://" + text
    if web_address(text) is None:
        raise DirectoryError(f"'{value}' is geen geldig webadres: gebruik bijvoorbeeld https://www.voorbeeld.nl.")
    return text


def _email(value: str | None) -> str | None:
    text = _short(value, 254, "e-mail")
    if text is None:
        return None
    if not _EMAIL.fullmatch(text):
        raise DirectoryError(f"'{value}' is geen geldig e-mailadres: gebruik bijvoorbeeld info@voorbeeld.nl.")
    return text.lower()


def _phone(value: str | None) -> str | None:
    text = _short(value, 40, "telefoonnummer")
    if text is None:
        return None
    if not _PHONE.fullmatch(text):
        raise DirectoryError(
            f"'{value}' is geen geldig telefoonnummer: gebruik cijfers, spaties en - (bijv. 0800-8010)."
        )
    return text


# ------------------------------------------------------------------------------------ reading
def list_entries(session: Session) -> list[DirectoryEntry]:
    """Every entry, ordered by name."""
    return sorted(session.scalars(select(DirectoryEntry)), key=lambda e: e.name.casefold())


def get_entry(session: Session, name_or_key: str) -> DirectoryEntry | None:
    """The entry with this key, or for this organisation name (any case, accents or spacing), or None."""
    if not (name_or_key or "").strip():
        return None
    return session.get(DirectoryEntry, name_or_key) or session.get(DirectoryEntry, organisation_key(name_or_key))


def knowledge_partner_keys(partners: Iterable[str | None]) -> set[str]:
    """The keys of the organisations behind these documents' ``partner`` fields (has documents ⇒ knowledge
    partner): pass ``[r.partner for r in store.list_documents()]``."""
    return {organisation_key(p) for p in partners if organisation_key(p)}


# ------------------------------------------------------------------------------------ changes
def _audit(session: Session, entry_key: str, name: str, action: str, detail: str, username: str | None) -> None:
    log_event(
        session,
        username=username,
        action=action,
        doc_id=AUDIT_PREFIX + entry_key,
        partner_org=name,
        detail="Partnergids: " + detail,
    )


def add_entry(session: Session, data: EntryData, username: str | None = None) -> DirectoryEntry:
    """Add an organisation; a second entry for the same name (any case or spacing) is refused."""
    clean = data.cleaned()
    key = organisation_key(clean.name)
    existing = session.get(DirectoryEntry, key)
    if existing is not None:
        raise DirectoryError(
            f"'{existing.name}' staat al in de partnergids; "
            "pas die vermelding aan in plaats van een tweede toe te voegen."
        )
    now = utcnow()
    entry = DirectoryEntry(org_key=key, created_at=now, updated_at=now, **vars(clean))
    session.add(entry)
    session.flush()
    filled = [FIELD_NL[f] for f in FIELD_NL if f != "name" and getattr(clean, f)]
    _audit(session, key, clean.name, "add", "toegevoegd" + (f" ({', '.join(filled)})" if filled else ""), username)
    return entry


def update_entry(session: Session, name_or_key: str, data: EntryData, username: str | None = None) -> list[str]:
    """Replace the fields of an entry with ``data``; returns the Dutch names of the fields that changed.

    The name may change in case and spacing only (the key stays); a new organisation is a new entry.
    Nothing changed: no write and no audit entry.
    """
    entry = get_entry(session, name_or_key)
    if entry is None:
        raise DirectoryError(f"'{name_or_key}' staat niet in de partnergids.")
    clean = data.cleaned()
    if organisation_key(clean.name) != entry.org_key.split(DUPLICATE_MARK)[0]:
        raise DirectoryError(
            f"De naam '{clean.name}' hoort bij een andere organisatie dan '{entry.name}': "
            "voeg die als nieuwe organisatie toe, of verwijder deze vermelding."
        )
    changed = [f for f in FIELD_NL if getattr(entry, f) != getattr(clean, f)]
    if not changed:
        return []
    for name in changed:
        setattr(entry, name, getattr(clean, name))
    entry.updated_at = utcnow()
    session.flush()
    labels = [FIELD_NL[f] for f in changed]
    _audit(session, entry.org_key, entry.name, "replace", "gewijzigd: " + ", ".join(labels), username)
    return labels


def remove_entry(session: Session, name_or_key: str, username: str | None = None) -> DirectoryEntry:
    """Remove an entry (the organisation's documents are not touched)."""
    entry = get_entry(session, name_or_key)
    if entry is None:
        raise DirectoryError(f"'{name_or_key}' staat niet in de partnergids.")
    session.delete(entry)
    session.flush()
    _audit(session, entry.org_key, entry.name, "remove", "verwijderd", username)
    return entry


def load_starter(session: Session, entries: Sequence[EntryData], username: str | None = None) -> int:
    """Fill an *empty* directory with ``entries`` (first run); returns how many were added (0 when not empty)."""
    if session.scalar(select(DirectoryEntry.org_key).limit(1)) is not None:
        return 0
    for data in entries:
        add_entry(session, data, username)
    return len(entries)
