"""Staff and partner accounts: argon2 password hashing, login with lockout, login sessions.

Usernames are stored in lower case (after stripping), so logging in is case-insensitive. All
functions take an open Session; they flush but leave the commit to the caller (``session_scope``),
except :func:`authenticate`, which commits itself so the failed-login counter survives its
``LoginError``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.db.models import ROLES, LoginSession, User, as_utc, utcnow
from kb.errors import KbError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
DEFAULT_SESSION_HOURS = 8

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
_GENERIC_LOGIN_ERROR = "Onjuiste gebruikersnaam of wachtwoord."

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified when the username does not exist, so a wrong username costs as much as a wrong password."""
    return _hasher.hash("samenweten-geen-gebruiker")


class AccountError(KbError, ValueError):
    """An account cannot be created or changed; the message (Dutch) says why."""


class LoginError(KbError):
    """Login refused. ``locked`` tells the app the account is temporarily locked."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salt and parameters included)."""
    return _hasher.hash(password)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Het wachtwoord is te kort: gebruik minstens {MIN_PASSWORD_LENGTH} tekens.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"Het wachtwoord is te lang: gebruik hoogstens {MAX_PASSWORD_LENGTH} tekens.")


def get_user(session: Session, username: str) -> User | None:
    """The account with this username (case-insensitive), or None."""
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def list_users(session: Session) -> list[User]:
    """All accounts, ordered by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(session: Session, username: str, password: str, role: str, partner_org: str | None = None) -> User:
    """Create a staff or partner account. Raises :class:`AccountError` (Dutch) when invalid.

    A partner account needs ``partner_org``: the organisation whose documents the partner manages.
    """
    name = normalize_username(username)
    if not _USERNAME_RE.fullmatch(name):
        raise AccountError(
            "Ongeldige gebruikersnaam: gebruik 3 tot 64 tekens, alleen letters, cijfers en . _ @ -, "
            "beginnend met een letter of cijfer."
        )
    if role not in ROLES:
        raise AccountError(f"Onbekende rol '{role}': kies 'staff' (medewerker) of 'partner'.")
    org = (partner_org or "").strip() or None
    if role == "partner" and org is None:
        raise AccountError("Een partneraccount heeft een organisatie nodig: geef de naam van de partnerorganisatie op.")
    _validate_password(password)
    if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
        raise AccountError(f"De gebruikersnaam '{name}' is al in gebruik: kies een andere naam.")
    user = User(username=name, password_hash=hash_password(password), role=role, partner_org=org)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created concurrently by someone else; the session is unusable
        session.rollback()
        raise AccountError(f"De gebruikersnaam '{name}' is al in gebruik: kies een andere naam.") from exc
    return user


def set_password(session: Session, user: User, new_password: str) -> None:
    """Give ``user`` a new password, clear a lockout, and end all of the user's login sessions."""
    _validate_password(new_password)
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.flush()


def _local_clock(moment: datetime, now: datetime) -> str:
    """``moment`` as a Dutch wall-clock time, e.g. ``21:05`` (with the date when it is not today)."""
    try:
        zone: tzinfo = ZoneInfo("Europe/Amsterdam")
    except Exception:  # no time zone data installed
        zone = UTC
    local = as_utc(moment).astimezone(zone)
    today = as_utc(now).astimezone(zone).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d-%m-%Y %H:%M")


def _lock_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (
        f"Te veel mislukte inlogpogingen: dit account is geblokkeerd tot {_local_clock(until, now)} "
        f"(nog {minutes} {'minuut' if minutes == 1 else 'minuten'}). Probeer het daarna opnieuw, "
        "of vraag een medewerker van SamenWeten om het account te ontgrendelen."
    )


def is_locked(user: User, now: datetime | None = None) -> bool:
    now = as_utc(now) if now is not None else utcnow()
    return user.locked_until is not None and as_utc(user.locked_until) > now


def locked_users(session: Session, now: datetime | None = None) -> list[User]:
    """Accounts that are locked right now (too many failed logins), by username."""
    return [u for u in list_users(session) if is_locked(u, now)]


def unlock_user(session: Session, username: str) -> User:
    """Lift a lockout and reset the failed-login counter. Raises :class:`AccountError` for an unknown name."""
    user = _existing(session, username)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def reset_password(session: Session, username: str, new_password: str) -> User:
    """A new password for an account (ends its login sessions, lifts a lockout)."""
    user = _existing(session, username)
    set_password(session, user, new_password)
    return user


def remove_user(session: Session, username: str) -> None:
    """Delete an account and its login sessions. Raises :class:`AccountError` for an unknown name."""
    user = _existing(session, username)
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.delete(user)
    session.flush()


def _existing(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise AccountError(f"Er is geen account met de gebruikersnaam '{normalize_username(username)}'.")
    return user


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """The account for these credentials, or :class:`LoginError` with a Dutch message.

    After ``MAX_FAILED_LOGINS`` wrong passwords in a row the account is locked for ``LOCKOUT``;
    while locked, even the right password is refused. Commits (see the module docstring).
    """
    now = as_utc(now) if now is not None else utcnow()
    user = get_user(session, username)
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        raise LoginError(_GENERIC_LOGIN_ERROR)

    if user.locked_until is not None:
        if user.locked_until > now:
            raise LoginError(_lock_message(user.locked_until, now), locked=True)
        user.locked_until = None  # the lock has expired: start counting afresh
        user.failed_logins = 0

    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            session.commit()
            raise LoginError(_lock_message(now + LOCKOUT, now), locked=True) from None
        session.commit()
        raise LoginError(_GENERIC_LOGIN_ERROR) from None

    user.failed_logins = 0
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.commit()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session, user: User, ttl_hours: float = DEFAULT_SESSION_HOURS, now: datetime | None = None
) -> str:
    """Start a login session for ``user`` and return its random token (only its sha256 is stored)."""
    now = as_utc(now) if now is not None else utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=ttl_hours),
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str | None, now: datetime | None = None) -> User | None:
    """The user of a live session token; None when unknown, ended or expired."""
    if not token:
        return None
    now = as_utc(now) if now is not None else utcnow()
    login = session.get(LoginSession, _token_hash(token))
    if login is None or login.expires_at <= now:
        return None
    return login.user


def end_session(session: Session, token: str | None) -> bool:
    """Log out: delete the session of ``token``. True when there was one."""
    if not token:
        return False
    result = session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    return bool(cast(CursorResult[Any], result).rowcount)  # a DML statement's result is a CursorResult


def purge_expired_sessions(session: Session, now: datetime | None = None) -> int:
    """Delete expired login sessions; returns how many."""
    now = as_utc(now) if now is not None else utcnow()
    result = session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    return int(cast(CursorResult[Any], result).rowcount or 0)
