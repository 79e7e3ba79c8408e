"""Who may manage which documents. A Principal is whoever uses the app: an anonymous volunteer, a
staff member, or a partner organisation's account. No database or Streamlit needed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kb.errors import KbError
from kb.naming import organisation_key

if TYPE_CHECKING:
    from kb.db.models import User

PrincipalRole = Literal["volunteer", "staff", "partner"]
_ROLES: tuple[str, ...] = ("volunteer", "staff", "partner")


class PermissionDeniedError(KbError, PermissionError):
    """The principal may not do this; the message (Dutch) says why and what to do."""


@dataclass(frozen=True)
class Principal:
    username: str | None
    role: PrincipalRole
    partner_org: str | None = None

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise ValueError(f"Onbekende rol '{self.role}'; kies uit {', '.join(_ROLES)}.")
        if self.role == "partner" and not (self.partner_org or "").strip():
            raise ValueError("Een partner hoort bij een organisatie: partner_org ontbreekt.")

    @classmethod
    def anonymous(cls) -> Principal:
        """A volunteer using the app without logging in."""
        return cls(username=None, role="volunteer", partner_org=None)

    @property
    def is_authenticated(self) -> bool:
        return self.role != "volunteer"


def can_manage_document(principal: Principal, doc_partner: str | None) -> bool:
    """Staff manage every document; a partner only their own organisation's; volunteers none."""
    if principal.role == "staff":
        return True
    if principal.role == "partner":
        own = organisation_key(principal.partner_org)  # organisations compare by key, never by spelling
        return bool(own) and own == organisation_key(doc_partner)
    return False


def require_manage(principal: Principal, doc_partner: str | None) -> None:
    """Raise :class:`PermissionDeniedError` unless ``principal`` may manage this document."""
    if can_manage_document(principal, doc_partner):
        return
    if principal.role == "partner":
        raise PermissionDeniedError(
            f"Je kunt alleen documenten van je eigen organisatie ({principal.partner_org}) beheren; "
            f"dit document is van {doc_partner or 'een onbekende partner'}. "
            "Vraag een medewerker van SamenWeten om het aan te passen."
        )
    raise PermissionDeniedError(
        "Alleen medewerkers en partners kunnen documenten toevoegen, vervangen of verwijderen. "
        "Log in met je account om verder te gaan."
    )


def principal_for(user: User | None) -> Principal:
    """The Principal of a logged-in account; no account (None) is an anonymous volunteer."""
    if user is None:
        return Principal.anonymous()
    if user.role == "partner":
        return Principal(username=user.username, role="partner", partner_org=user.partner_org)
    if user.role == "staff":
        return Principal(username=user.username, role="staff", partner_org=user.partner_org)
    raise ValueError(f"Account {user.username} heeft een onbekende rol '{user.role}'.")
