"""The partner directory as a service for the app and the CLI: list, show, add, change and remove entries,
with access control, the audit trail, and what a partner's own entry shows (their documents).

Staff edit every entry; a partner sees their own organisation's entry with its documents; volunteers see
the public part (name, description, topics, contact routes) through the answers. Whether an organisation is a
knowledge partner follows from the store's document list, never from stored state. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from kb.access import PermissionDeniedError, Principal
from kb.db.directory import (
    DirectoryEntry,
    DirectoryError,
    EntryData,
    add_entry,
    get_entry,
    knowledge_partner_keys,
    list_entries,
    load_starter,
    remove_entry,
    update_entry,
)
from kb.db.engine import session_scope
from kb.naming import organisation_key

if TYPE_CHECKING:
    from kb.store import DocumentRecord, KnowledgeStore


@dataclass(frozen=True)
class EntryView:
    """One directory entry as shown on a page or printed by the CLI (plain data)."""

    org_key: str
    name: str
    description: str
    topics: tuple[str, ...]
    kinds: tuple[str, ...]
    contact: dict[str, str]
    is_knowledge_partner: bool
    documents: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "org_key": self.org_key,
            "name": self.name,
            "description": self.description,
            "topics": list(self.topics),
            "kinds": list(self.kinds),
            "contact": dict(self.contact),
            "is_knowledge_partner": self.is_knowledge_partner,
            "documents": self.documents,
        }

    def as_data(self) -> EntryData:
        """The editable fields, e.g. to pre-fill a form."""
        return EntryData(
            name=self.name,
            description=self.description,
            topics=list(self.topics),
            kinds=list(self.kinds),
            **self.contact,
        )


def _require_staff(principal: Principal) -> None:
    if principal.role != "staff":
        raise PermissionDeniedError(
            "Alleen medewerkers van SamenWeten kunnen de partnergids aanpassen. "
            "Zie je een fout in de vermelding van je organisatie? Geef het door aan een medewerker."
        )


class DirectoryService:
    """Directory reads and changes; each change is one transaction with its audit entry."""

    def __init__(self, engine: Engine, store: KnowledgeStore | None = None) -> None:
        self.engine = engine
        self.store = store

    # ------------------------------------------------------------------------------- reading
    def _documents(self) -> list[DocumentRecord]:
        return self.store.list_documents() if self.store is not None else []

    def _view(self, entry: DirectoryEntry, doc_counts: dict[str, int]) -> EntryView:
        count = doc_counts.get(entry.org_key, 0)
        return EntryView(
            entry.org_key,
            entry.name,
            entry.description,
            tuple(entry.topics),
            tuple(entry.kinds),
            entry.contact(),
            count > 0,
            count,
        )

    def _doc_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self._documents():
            key = organisation_key(record.partner)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def entries(self) -> list[EntryView]:
        """Every entry, by name, with whether it is a knowledge partner (has documents in the store)."""
        counts = self._doc_counts()
        with session_scope(self.engine) as session:
            return [self._view(e, counts) for e in list_entries(session)]

    def entry(self, name: str) -> EntryView | None:
        """The entry of this organisation (any case or spacing), or None."""
        counts = self._doc_counts()
        with session_scope(self.engine) as session:
            found = get_entry(session, name)
            return self._view(found, counts) if found is not None else None

    def raw_entries(self) -> list[DirectoryEntry]:
        """The database rows (detached), for matching."""
        with session_scope(self.engine) as session:
            return list_entries(session)

    def knowledge_partners(self) -> set[str]:
        """Keys of the organisations with documents in the store."""
        return knowledge_partner_keys(r.partner for r in self._documents())

    def documents_of(self, name: str) -> list[DocumentRecord]:
        """The documents of this organisation in the store, by title."""
        key = organisation_key(name)
        return sorted(
            (r for r in self._documents() if organisation_key(r.partner) == key), key=lambda r: r.title.casefold()
        )

    def own_entry(self, principal: Principal) -> EntryView | None:
        """A partner's own organisation's entry (None when it is not in the directory yet)."""
        if principal.role != "partner":
            raise PermissionDeniedError("Alleen een partneraccount heeft een eigen vermelding in de partnergids.")
        return self.entry(principal.partner_org or "")

    # ------------------------------------------------------------------------------- changes
    def add(self, principal: Principal, data: EntryData) -> EntryView:
        _require_staff(principal)
        with session_scope(self.engine) as session:
            entry = add_entry(session, data, principal.username)
        return self._view(entry, self._doc_counts())

    def update(self, principal: Principal, name: str, data: EntryData) -> list[str]:
        """Change an entry; returns the Dutch names of the changed fields (empty: nothing changed)."""
        _require_staff(principal)
        with session_scope(self.engine) as session:
            return update_entry(session, name, data, principal.username)

    def remove(self, principal: Principal, name: str) -> str:
        """Remove an entry; returns its name."""
        _require_staff(principal)
        with session_scope(self.engine) as session:
            return remove_entry(session, name, principal.username).name

    def load_starter(self, entries: list[EntryData], username: str | None = None) -> int:
        """Fill an empty directory with the starter entries (first run); returns how many were added."""
        with session_scope(self.engine) as session:
            return load_starter(session, entries, username)


__all__ = ["DirectoryError", "DirectoryService", "EntryView"]
