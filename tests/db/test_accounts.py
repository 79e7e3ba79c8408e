"""Accounts: validation, argon2 hashing, login with lockout, login sessions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kb.db import (
    AccountError,
    LoginError,
    LoginSession,
    User,
    authenticate,
    create_user,
    end_session,
    get_user,
    purge_expired_sessions,
    session_scope,
    set_password,
    start_session,
    user_for_token,
)
from kb.db.accounts import locked_users, remove_user, reset_password, unlock_user

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct-paard-batterij"
GENERIC = "Onjuiste gebruikersnaam of wachtwoord."


def test_create_user_hashes_with_argon2_and_normalises_username(session: Session) -> None:
    user = create_user(session, "  Anna.deVries ", PASSWORD, "staff")
    assert user.id is not None
    assert user.username == "anna.devries"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, PASSWORD)
    assert user.failed_logins == 0 and user.locked_until is None
    assert get_user(session, "ANNA.DEVRIES") is user


def test_partner_account_keeps_its_organisation(session: Session) -> None:
    user = create_user(session, "wijkpartner", PASSWORD, "partner", partner_org="  Woonbond Noord ")
    assert (user.role, user.partner_org) == ("partner", "Woonbond Noord")


def test_duplicate_username_is_refused_case_insensitively(session: Session) -> None:
    create_user(session, "bram", PASSWORD, "staff")
    with pytest.raises(AccountError, match="al in gebruik"):
        create_user(session, "BRAM", PASSWORD + "x", "staff")


@pytest.mark.parametrize(
    ("username", "password", "role", "org", "message"),
    [
        ("bram", "kort12345", "staff", None, "minstens 10 tekens"),
        ("wijk", PASSWORD, "partner", None, "organisatie nodig"),
        ("wijk", PASSWORD, "partner", "   ", "organisatie nodig"),
        ("bram", PASSWORD, "admin", None, "Onbekende rol"),
        ("b", PASSWORD, "staff", None, "Ongeldige gebruikersnaam"),
        ("bram met spatie", PASSWORD, "staff", None, "Ongeldige gebruikersnaam"),
    ],
)
def test_invalid_accounts_get_a_dutch_reason(
    session: Session, username: str, password: str, role: str, org: str | None, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        create_user(session, username, password, role, partner_org=org)
    assert session.scalars(select(User)).all() == []


def test_ten_character_password_is_enough(session: Session) -> None:
    assert create_user(session, "bram", "a" * 10, "staff").id is not None


def test_authenticate_accepts_the_right_password_only(session: Session) -> None:
    user = create_user(session, "anna", PASSWORD, "staff")
    assert authenticate(session, "Anna", PASSWORD, now=T0) is user
    with pytest.raises(LoginError) as wrong:
        authenticate(session, "anna", "verkeerd-wachtwoord", now=T0)
    with pytest.raises(LoginError) as unknown:
        authenticate(session, "niemand", PASSWORD, now=T0)
    # Same message whether the user exists or not.
    assert str(wrong.value) == str(unknown.value) == GENERIC
    assert not wrong.value.locked


def test_five_failures_lock_the_account_for_15_minutes(session: Session) -> None:
    create_user(session, "anna", PASSWORD, "staff")
    session.commit()
    for attempt in range(4):
        with pytest.raises(LoginError, match="^Onjuiste gebruikersnaam of wachtwoord"):
            authenticate(session, "anna", f"fout-{attempt}-wachtwoord", now=T0 + timedelta(seconds=attempt))
    with pytest.raises(LoginError) as fifth:
        authenticate(session, "anna", "nog-een-fout-wachtwoord", now=T0 + timedelta(seconds=5))
    assert fifth.value.locked
    # the message says until when (Dutch local time: 09:15 UTC is 10:15 in Amsterdam in March)
    assert "geblokkeerd tot 10:15" in str(fifth.value) and "nog 15 minuten" in str(fifth.value)

    # Even the right password is refused while locked; the message counts down.
    with pytest.raises(LoginError) as locked:
        authenticate(session, "anna", PASSWORD, now=T0 + timedelta(minutes=10))
    assert locked.value.locked
    assert "nog 6 minuten" in str(locked.value)

    user = authenticate(session, "anna", PASSWORD, now=T0 + timedelta(minutes=15, seconds=6))
    assert user.failed_logins == 0 and user.locked_until is None


def test_failed_login_count_survives_a_rolled_back_session(engine: Engine) -> None:
    with session_scope(engine) as s:
        create_user(s, "anna", PASSWORD, "staff")
    for attempt in range(5):
        with pytest.raises(LoginError), session_scope(engine) as s:  # the scope rolls back on the error
            authenticate(s, "anna", f"fout-wachtwoord-{attempt}", now=T0)
    with session_scope(engine) as s:
        user = get_user(s, "anna")
        assert user is not None
        assert user.locked_until == T0 + timedelta(minutes=15)
        with pytest.raises(LoginError) as exc:
            authenticate(s, "anna", PASSWORD, now=T0 + timedelta(minutes=1))
        assert exc.value.locked


def test_success_resets_the_failure_count(session: Session) -> None:
    create_user(session, "anna", PASSWORD, "staff")
    for _ in range(3):
        with pytest.raises(LoginError):
            authenticate(session, "anna", "fout-wachtwoord", now=T0)
    assert authenticate(session, "anna", PASSWORD, now=T0).failed_logins == 0
    for _ in range(4):
        with pytest.raises(LoginError, match="^Onjuiste"):
            authenticate(session, "anna", "fout-wachtwoord", now=T0)
    assert authenticate(session, "anna", PASSWORD, now=T0).locked_until is None


@pytest.mark.production_hashing
def test_outdated_hash_is_rehashed_on_login(session: Session) -> None:
    user = create_user(session, "anna", PASSWORD, "staff")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user.password_hash = weak.hash(PASSWORD)
    session.commit()
    old_hash = user.password_hash
    assert PasswordHasher().check_needs_rehash(old_hash)

    authenticate(session, "anna", PASSWORD, now=T0)
    assert user.password_hash != old_hash
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert authenticate(session, "anna", PASSWORD, now=T0) is user


def test_login_session_stores_only_the_token_hash(session: Session) -> None:
    user = create_user(session, "anna", PASSWORD, "staff")
    token = start_session(session, user, now=T0)
    assert len(token) >= 40
    rows = session.scalars(select(LoginSession)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert rows[0].expires_at == T0 + timedelta(hours=8)
    assert start_session(session, user, now=T0) != token


def test_session_token_expires(session: Session) -> None:
    user = create_user(session, "anna", PASSWORD, "staff")
    token = start_session(session, user, ttl_hours=8, now=T0)
    assert user_for_token(session, token, now=T0 + timedelta(hours=7, minutes=59)) is user
    assert user_for_token(session, token, now=T0 + timedelta(hours=8)) is None
    assert user_for_token(session, "geen-echte-token", now=T0) is None
    assert user_for_token(session, None, now=T0) is None
    assert purge_expired_sessions(session, now=T0 + timedelta(hours=9)) == 1
    assert session.scalars(select(LoginSession)).all() == []


def test_end_session_logs_out(session: Session) -> None:
    user = create_user(session, "anna", PASSWORD, "staff")
    token = start_session(session, user, now=T0)
    other = start_session(session, user, now=T0)
    assert end_session(session, token) is True
    assert end_session(session, token) is False
    assert user_for_token(session, token, now=T0) is None
    assert user_for_token(session, other, now=T0) is user


def test_set_password_ends_sessions_and_clears_lock(session: Session) -> None:
    user = create_user(session, "anna", PASSWORD, "staff")
    token = start_session(session, user, now=T0)
    for _ in range(5):
        with pytest.raises(LoginError):
            authenticate(session, "anna", "fout-wachtwoord", now=T0)
    with pytest.raises(AccountError, match="minstens 10"):
        set_password(session, user, "kort")
    set_password(session, user, "een-nieuw-wachtwoord")
    assert user_for_token(session, token, now=T0) is None
    assert authenticate(session, "anna", "een-nieuw-wachtwoord", now=T0) is user
    with pytest.raises(LoginError):
        authenticate(session, "anna", PASSWORD, now=T0)


def test_token_survives_a_new_session(engine: Engine) -> None:
    with session_scope(engine) as s:
        token = start_session(s, create_user(s, "partner1", PASSWORD, "partner", "Woonbond"), now=T0)
    with session_scope(engine) as s:
        user = user_for_token(s, token, now=T0 + timedelta(hours=1))
        assert user is not None and (user.username, user.partner_org) == ("partner1", "Woonbond")
    # Loaded objects stay usable after the scope closed.
    assert user.role == "partner"


def test_staff_can_unlock_reset_and_remove_accounts(session: Session) -> None:
    create_user(session, "anna", PASSWORD, "staff")
    create_user(session, "bram", PASSWORD, "partner", "Dorpshuis West")
    session.commit()
    for attempt in range(5):
        with pytest.raises(LoginError):
            authenticate(session, "bram", f"fout-{attempt}-wachtwoord", now=T0)
    assert [u.username for u in locked_users(session, now=T0)] == ["bram"]
    unlock_user(session, "Bram")
    assert locked_users(session, now=T0) == []
    assert authenticate(session, "bram", PASSWORD, now=T0).username == "bram"

    token = start_session(session, get_user(session, "bram"))
    reset_password(session, "bram", "een-heel-nieuw-wachtwoord")
    assert user_for_token(session, token) is None  # the reset ends the old sessions
    assert authenticate(session, "bram", "een-heel-nieuw-wachtwoord").username == "bram"

    remove_user(session, "bram")
    assert get_user(session, "bram") is None
    for action in (
        lambda: unlock_user(session, "bram"),
        lambda: remove_user(session, "bram"),
        lambda: reset_password(session, "bram", "een-heel-nieuw-wachtwoord"),
    ):
        with pytest.raises(AccountError, match="geen account met de gebruikersnaam 'bram'"):
            action()
