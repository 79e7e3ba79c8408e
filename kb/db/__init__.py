"""SamenWeten persistence: accounts, login sessions, conversation history, feedback, reviews and the
document audit trail, in SQLite (default) or PostgreSQL (``KB_DATABASE_URL``), schema by Alembic.

Typical use::

    engine = init_db()                      # migrates, cached per URL
    with session_scope(engine) as session:  # commits at the end, rolls back on error
        user = authenticate(session, "anna", "geheim-wachtwoord")
"""

from kb.db.accounts import (
    AccountError,
    LoginError,
    authenticate,
    create_user,
    end_session,
    get_user,
    list_users,
    purge_expired_sessions,
    set_password,
    start_session,
    user_for_token,
)
from kb.db.audit import list_events, log_event
from kb.db.directory import DirectoryEntry, DirectoryError  # registers the partner_directory table
from kb.db.engine import DatabaseError, dispose_engines, init_db, session_scope
from kb.db.history import (
    ExchangeFilter,
    ExchangeRow,
    HistoryError,
    add_feedback,
    export_csv,
    group_similar,
    list_exchanges,
    record_exchange,
    review_exchange,
    start_conversation,
    unanswered_questions,
)
from kb.db.models import (
    AuditEvent,
    Conversation,
    Exchange,
    Feedback,
    LoginSession,
    Review,
    User,
)

__all__ = [
    "AccountError",
    "AuditEvent",
    "Conversation",
    "DatabaseError",
    "DirectoryEntry",
    "DirectoryError",
    "Exchange",
    "ExchangeFilter",
    "ExchangeRow",
    "Feedback",
    "HistoryError",
    "LoginError",
    "LoginSession",
    "Review",
    "User",
    "add_feedback",
    "authenticate",
    "create_user",
    "dispose_engines",
    "end_session",
    "export_csv",
    "get_user",
    "group_similar",
    "init_db",
    "list_events",
    "list_exchanges",
    "list_users",
    "log_event",
    "purge_expired_sessions",
    "record_exchange",
    "review_exchange",
    "session_scope",
    "set_password",
    "start_conversation",
    "start_session",
    "unanswered_questions",
    "user_for_token",
]
