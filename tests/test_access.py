"""Who may manage which documents."""

from __future__ import annotations

import pytest

from kb.access import PermissionDeniedError, Principal, can_manage_document, principal_for, require_manage
from kb.db.models import User

STAFF = Principal("anna", "staff")
PARTNER = Principal("wijk", "partner", "Woonbond Noord")


def test_anonymous_is_a_volunteer() -> None:
    anon = Principal.anonymous()
    assert (anon.username, anon.role, anon.partner_org) == (None, "volunteer", None)
    assert not anon.is_authenticated and STAFF.is_authenticated


def test_staff_manage_everything() -> None:
    assert can_manage_document(STAFF, "Woonbond Noord")
    assert can_manage_document(STAFF, "SamenWeten redactie")
    require_manage(STAFF, "Wie dan ook")


@pytest.mark.parametrize("doc_partner", ["Woonbond Noord", "  woonbond noord ", "WOONBOND NOORD"])
def test_partner_manages_own_organisation_case_insensitively(doc_partner: str) -> None:
    assert can_manage_document(PARTNER, doc_partner)
    require_manage(PARTNER, doc_partner)


@pytest.mark.parametrize("doc_partner", ["Woonbond Zuid", "SamenWeten redactie", "", None])
def test_partner_cannot_manage_other_documents(doc_partner: str | None) -> None:
    assert not can_manage_document(PARTNER, doc_partner)
    with pytest.raises(PermissionDeniedError, match="eigen organisatie \\(Woonbond Noord\\)"):
        require_manage(PARTNER, doc_partner)


def test_volunteer_never_manages() -> None:
    anon = Principal.anonymous()
    assert not can_manage_document(anon, "SamenWeten redactie")
    with pytest.raises(PermissionDeniedError, match="Log in"):
        require_manage(anon, "SamenWeten redactie")


def test_principal_validation() -> None:
    with pytest.raises(ValueError, match="organisatie"):
        Principal("x", "partner", "  ")
    with pytest.raises(ValueError, match="Onbekende rol"):
        Principal("x", "admin")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        STAFF.role = "partner"  # type: ignore[misc]


def test_principal_for_user() -> None:
    partner = principal_for(User(username="wijk", role="partner", partner_org="Woonbond Noord"))
    assert partner == PARTNER
    assert principal_for(User(username="anna", role="staff")) == STAFF
    assert principal_for(None) == Principal.anonymous()
