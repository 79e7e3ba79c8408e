"""Audit trail of document changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from kb.db import list_events, log_event, session_scope

T0 = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)


def test_log_and_list_events(engine: Engine) -> None:
    with session_scope(engine) as s:
        log_event(s, username="anna", action="add", doc_id="gids-vve", partner_org="SamenWeten redactie", at=T0)
        log_event(
            s,
            username="wijk",
            action="replace",
            doc_id="huurgids",
            partner_org="Woonbond Noord",
            detail="versie 2",
            at=T0 + timedelta(hours=1),
        )
        log_event(
            s,
            username="wijk",
            action="remove",
            doc_id="huurgids",
            partner_org="Woonbond Noord",
            at=T0 + timedelta(hours=2),
        )
    with session_scope(engine) as s:
        events = list_events(s)
        assert [(e.action, e.doc_id) for e in events] == [
            ("remove", "huurgids"),
            ("replace", "huurgids"),
            ("add", "gids-vve"),
        ]
        assert events[1].detail == "versie 2" and events[1].at == T0 + timedelta(hours=1)
        assert [e.action for e in list_events(s, doc_id="huurgids", action="replace")] == ["replace"]
        assert [e.username for e in list_events(s, partner_org=" woonbond noord")] == ["wijk", "wijk"]
        assert [e.doc_id for e in list_events(s, until=T0 + timedelta(minutes=30))] == ["gids-vve"]
        assert len(list_events(s, since=T0 + timedelta(hours=1), limit=1)) == 1
        assert list_events(s, username="niemand") == []


def test_a_partner_sees_the_events_of_every_spelling_of_their_organisation(engine: Engine) -> None:
    with session_scope(engine) as s:
        for i, name in enumerate(("Coöperatie Noord", "cooperatie  noord", "Coöperatie Zuid")):
            log_event(s, username="wijk", action="add", doc_id=f"d{i}", partner_org=name, at=T0 + timedelta(hours=i))
    with session_scope(engine) as s:
        assert [e.doc_id for e in list_events(s, partner_org="COOPERATIE NOORD")] == ["d1", "d0"]
        assert list_events(s, partner_org="Noord") == []


def test_unknown_action_is_refused(engine: Engine) -> None:
    with session_scope(engine) as s, pytest.raises(ValueError, match="Onbekende actie"):
        log_event(s, username="anna", action="edit", doc_id="gids-vve")
