"""One organisation key: the partner directory is keyed by ``kb.naming.organisation_key`` (the slug the
document register's ``organisations.key`` already uses) instead of its own case-folded name, and that slug
is now taken of the case-folded name ("Straße" and "STRASSE" are one organisation, as the directory had it).

Existing rows are re-keyed, and the directory's audit entries (``doc_id`` ``partnergids:<key>``) with them,
so an entry's history stays under its key. Two old entries whose names now give the same key are both
kept: the one added first gets the key, a later one ``<key>~2`` (``~3``, …); a slug never holds ``~``.
An ``organisations`` row whose new key another row already has keeps its old key (its documents stay
linked to it). Downgrade puts the directory's case-folded keys back (organisation keys stay).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from kb.naming import organisation_key

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_PREFIX = "partnergids:"
DUPLICATE_MARK = "~"

_directory = sa.table(
    "partner_directory",
    sa.column("org_key", sa.String),
    sa.column("name", sa.String),
    sa.column("created_at", sa.DateTime),
)
_organisations = sa.table(
    "organisations", sa.column("id", sa.Integer), sa.column("key", sa.String), sa.column("name", sa.String)
)
_audit = sa.table("audit_events", sa.column("id", sa.Integer), sa.column("doc_id", sa.String))


def _casefold_key(name: str | None) -> str:
    """The directory's key before this revision (for the downgrade only)."""
    return re.sub(r"\s+", " ", name or "").strip().casefold()


def _rekey(new_key: Callable[[str, str], str]) -> None:
    """Give every directory row the key ``new_key(old key, name)``; duplicates get ``~2``, ``~3``, …"""
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_directory.c.org_key, _directory.c.name).order_by(_directory.c.created_at, _directory.c.org_key)
    ).all()
    taken: set[str] = set()
    changes: dict[str, str] = {}
    for old, name in rows:
        base = new_key(old, name) or old
        key, n = base, 2
        while key in taken:
            key, n = f"{base}{DUPLICATE_MARK}{n}", n + 1
        taken.add(key)
        if key != old:
            changes[old] = key
    # Two steps through temporary keys, so a new key never meets an old key not yet renamed.
    temporary = {old: f"{DUPLICATE_MARK}tmp{DUPLICATE_MARK}{i}" for i, old in enumerate(changes)}
    for step in (temporary, {temporary[old]: new for old, new in changes.items()}):
        for before, after in step.items():
            conn.execute(sa.update(_directory).where(_directory.c.org_key == before).values(org_key=after))

    events = conn.execute(sa.select(_audit.c.id, _audit.c.doc_id).where(_audit.c.doc_id.like(AUDIT_PREFIX + "%")))
    for event_id, doc_id in events.all():
        old = doc_id[len(AUDIT_PREFIX) :]
        key = changes.get(old) or new_key(old, old) or old  # a removed entry: its key from the old key
        if key != old:
            conn.execute(sa.update(_audit).where(_audit.c.id == event_id).values(doc_id=AUDIT_PREFIX + key))


def _rekey_organisations() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_organisations.c.id, _organisations.c.key, _organisations.c.name)).all()
    taken = {key for _, key, _ in rows}
    for row_id, old, name in sorted(rows, key=lambda r: r[0]):
        key = organisation_key(name)
        if key and key != old and key not in taken:
            conn.execute(sa.update(_organisations).where(_organisations.c.id == row_id).values(key=key))
            taken.discard(old)
            taken.add(key)


def upgrade() -> None:
    _rekey_organisations()
    _rekey(lambda old, name: organisation_key(name))


def downgrade() -> None:
    _rekey(lambda old, name: _casefold_key(name))
