"""Audit trail of document changes: who added, replaced or removed which document, and when.

Functions take an open Session and flush; the caller commits (``session_scope``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.db.models import AUDIT_ACTIONS, AuditEvent, as_utc, utcnow
from kb.naming import organisation_key


def log_event(
    session: Session,
    *,
    username: str | None,
    action: str,
    doc_id: str,
    partner_org: str | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Record one document change. ``action`` is ``add``, ``replace`` or ``remove``."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"Onbekende actie '{action}' voor het logboek: kies uit {', '.join(AUDIT_ACTIONS)}.")
    if not doc_id:
        raise ValueError("Een logboekregel heeft een document-id nodig.")
    event = AuditEvent(
        at=as_utc(at) if at is not None else utcnow(),
        username=username or None,
        action=action,
        doc_id=doc_id,
        partner_org=partner_org or None,
        detail=detail or None,
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session,
    *,
    doc_id: str | None = None,
    username: str | None = None,
    partner_org: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 500,
) -> list[AuditEvent]:
    """Audit events, newest first; every filter that is set must match.

    ``partner_org`` matches by :func:`kb.naming.organisation_key` (a partner sees the events of their
    organisation however its name was spelled).
    """
    stmt = select(AuditEvent)
    if doc_id is not None:
        stmt = stmt.where(AuditEvent.doc_id == doc_id)
    if username is not None:
        stmt = stmt.where(AuditEvent.username == username)
    if partner_org is not None:
        key = organisation_key(partner_org)
        spelled = session.scalars(select(AuditEvent.partner_org).where(AuditEvent.partner_org.is_not(None)).distinct())
        stmt = stmt.where(AuditEvent.partner_org.in_([name for name in spelled if organisation_key(name) == key]))
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= as_utc(since))
    if until is not None:
        stmt = stmt.where(AuditEvent.at <= as_utc(until))
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
