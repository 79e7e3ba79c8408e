"""Database tables (SQLAlchemy 2.x typed ORM): accounts, sessions, conversation history, feedback,
reviews and the document audit trail.

The schema is created by Alembic (``kb/db/migrations``); the hand-written migration must match these
models (``tests/db/test_migrations.py`` checks it). All timestamps are stored as UTC and come back as
timezone-aware UTC datetimes, also on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

Role = Literal["staff", "partner"]
ReviewStatus = Literal["checked", "incorrect"]
AuditAction = Literal["add", "replace", "remove"]

ROLES: tuple[str, ...] = ("staff", "partner")
REVIEW_STATUSES: tuple[str, ...] = ("checked", "incorrect")
AUDIT_ACTIONS: tuple[str, ...] = ("add", "replace", "remove")

# Explicit constraint names, so the hand-written migration and PostgreSQL agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as aware UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always stores UTC and returns aware UTC (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite has no zone support: store naive UTC so string comparisons stay correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class User(Base):
    """A staff member or partner account. Volunteers use the app without an account."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('staff', 'partner')", name="role"),
        CheckConstraint("role <> 'partner' OR partner_org IS NOT NULL", name="partner_has_org"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    partner_org: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None]

    sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r}, role={self.role!r})"


class LoginSession(Base):
    """A login: only the sha256 of the random token is stored, never the token itself."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="sessions")


class Conversation(Base):
    """One chat conversation (anonymous); ``topic_filter`` is the topic chosen in the app, if any."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    topic_filter: Mapped[str | None] = mapped_column(String(32))

    exchanges: Mapped[list[Exchange]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True
    )


class Exchange(Base):
    """One question and the answer given, with the sources shown and the citations used.

    ``sources``: list of ``{doc_id, chunk_id, title, section, score, rank}``;
    ``citations``: list of ``{n, doc_id, chunk_id, section, quote}``.
    """

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    question: Mapped[str] = mapped_column(Text)
    standalone_query: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    answerer: Mapped[str] = mapped_column(String(64))
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    conversation: Mapped[Conversation] = relationship(back_populates="exchanges")
    feedback: Mapped[Feedback | None] = relationship(
        back_populates="exchange", cascade="all, delete-orphan", passive_deletes=True
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="exchange",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Review.id",
    )


class Feedback(Base):
    """A volunteer's thumbs up (+1) or down (-1) on an exchange; at most one per exchange."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("score IN (-1, 1)", name="score"),)

    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exchange: Mapped[Exchange] = relationship(back_populates="feedback")


class Review(Base):
    """A staff member's verdict on an answer; the newest review of an exchange counts."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("status IN ('checked', 'incorrect')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exchange: Mapped[Exchange] = relationship(back_populates="reviews")


class AuditEvent(Base):
    """Who added, replaced or removed which document, and when."""

    __tablename__ = "audit_events"
    __table_args__ = (CheckConstraint("action IN ('add', 'replace', 'remove')", name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    doc_id: Mapped[str] = mapped_column(String(200), index=True)
    partner_org: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)


# --- documents: the register of what is in the knowledge base ------------------------------------------
VERSION_STATES: tuple[str, ...] = ("pending", "live", "superseded", "removed")


class Organisation(Base):
    """A partner organisation. ``key`` is stable (the slug of the name): comparing organisations never
    depends on spelling, case or spaces; the upload form picks from this list."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    """One document in the knowledge base: its metadata, full text and the version that is live.

    Chroma holds only the chunks and vectors, each tagged with its version; a chunk counts only when its
    version is the ``current_version`` of its document here.
    """

    __tablename__ = "documents"

    doc_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    source: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(500))
    topic: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[str | None] = mapped_column(String(10))
    url: Mapped[str | None] = mapped_column(Text)
    original: Mapped[str | None] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    full_text: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[str] = mapped_column(String(32))

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class DocumentVersion(Base):
    """One version of a document's chunks, from the moment its writing starts.

    ``pending``: being written by ``owner`` (host:pid); ``live``: the current version; ``superseded`` /
    ``removed``: committed away, its chunks and original still to be deleted. A row that is not ``live``
    is work a crash may have left: the start-up sweep finishes it. No document row refers to it by a
    foreign key, so a pending version can exist before its document does.
    """

    __tablename__ = "document_versions"
    __table_args__ = (CheckConstraint("state IN ('pending', 'live', 'superseded', 'removed')", name="state"),)

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(300), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    owner: Mapped[str] = mapped_column(String(200))
    collection: Mapped[str] = mapped_column(String(200))
    original: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoreState(Base):
    """Counters and pointers shared by every process: ``revision`` (bumped in the same transaction as every
    change, by an atomic ``UPDATE … SET value = value + 1``), the active chunk collection per model, and
    collections being built or retired by ``kb reindex``."""

    __tablename__ = "store_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
