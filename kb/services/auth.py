"""Log in, log out and who a login token belongs to (for the app)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from kb.access import PermissionDeniedError, Principal, principal_for
from kb.db.accounts import (
    DEFAULT_SESSION_HOURS,
    LoginError,
    authenticate,
    end_session,
    locked_users,
    purge_expired_sessions,
    start_session,
    unlock_user,
    user_for_token,
)
from kb.db.engine import session_scope


class AuthService:
    session_hours: float = DEFAULT_SESSION_HOURS  # how long a login lasts (also in a browser, after a reload)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def locked_accounts(self, principal: Principal) -> list[tuple[str, dt.datetime | None]]:
        """Staff: the accounts locked after too many failed logins, with the time each lock ends."""
        self._require_staff(principal)
        with session_scope(self.engine) as session:
            return [(u.username, u.locked_until) for u in locked_users(session)]

    def unlock(self, principal: Principal, username: str) -> None:
        """Staff: lift the lock of ``username`` (an AccountError with a Dutch reason when it is unknown)."""
        self._require_staff(principal)
        with session_scope(self.engine) as session:
            unlock_user(session, username)

    @staticmethod
    def _require_staff(principal: Principal) -> None:
        if principal.role != "staff":
            raise PermissionDeniedError("Alleen medewerkers kunnen geblokkeerde accounts zien en ontgrendelen.")

    def principal_for_token(self, token: str | None) -> Principal | None:
        """The principal of a valid login token; None when it expired or was ended."""
        if not token:
            return None
        with session_scope(self.engine) as session:
            user = user_for_token(session, token)
            return principal_for(user) if user is not None else None

    def log_in(self, username: str, password: str) -> tuple[Principal, str]:
        """Check the credentials and start a session: (principal, token). :class:`LoginError` (Dutch)."""
        if not username.strip() or not password:
            raise LoginError("Vul je gebruikersnaam en wachtwoord in.")
        with session_scope(self.engine) as session:
            user = authenticate(session, username, password)
            purge_expired_sessions(session)
            token = start_session(session, user)
            return principal_for(user), token

    def log_out(self, token: str | None) -> None:
        if not token:
            return
        with session_scope(self.engine) as session:
            end_session(session, token)
