"""Log in, log out and who a login token belongs to (for the app)."""

from __future__ import annotations

from sqlalchemy import Engine

from kb.access import Principal, principal_for
from kb.db.accounts import (
    LoginError,
    authenticate,
    end_session,
    purge_expired_sessions,
    start_session,
    user_for_token,
)
from kb.db.engine import session_scope


class AuthService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
