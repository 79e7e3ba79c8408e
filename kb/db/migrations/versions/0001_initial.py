"""Initial schema: users, login sessions, conversations, exchanges, feedback, reviews, audit events.

Written by hand to match ``kb/db/models.py`` (checked by ``tests/db/test_migrations.py``).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("partner_org", sa.String(200), nullable=True),
        _ts("created_at"),
        sa.Column("failed_logins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _ts("locked_until", nullable=True),
        sa.CheckConstraint("role IN ('staff', 'partner')", name=op.f("ck_users_role")),
        sa.CheckConstraint(
            "role <> 'partner' OR partner_org IS NOT NULL", name=op.f("ck_users_partner_has_org")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )

    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"])

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), nullable=False),
        _ts("created_at"),
        sa.Column("topic_filter", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )

    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        _ts("created_at"),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("standalone_query", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("answerer", sa.String(64), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_exchanges_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
    )
    op.create_index(op.f("ix_exchanges_conversation_id"), "exchanges", ["conversation_id"])
    op.create_index(op.f("ix_exchanges_created_at"), "exchanges", ["created_at"])

    op.create_table(
        "feedback",
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("score IN (-1, 1)", name=op.f("ck_feedback_score")),
        sa.ForeignKeyConstraint(
            ["exchange_id"], ["exchanges.id"], name=op.f("fk_feedback_exchange_id_exchanges"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("exchange_id", name=op.f("pk_feedback")),
    )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("status IN ('checked', 'incorrect')", name=op.f("ck_reviews_status")),
        sa.ForeignKeyConstraint(
            ["exchange_id"], ["exchanges.id"], name=op.f("fk_reviews_exchange_id_exchanges"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_exchange_id"), "reviews", ["exchange_id"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("partner_org", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('add', 'replace', 'remove')", name=op.f("ck_audit_events_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_doc_id"), "audit_events", ["doc_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_events_doc_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_reviews_exchange_id"), table_name="reviews")
    op.drop_table("reviews")
    op.drop_table("feedback")
    op.drop_index(op.f("ix_exchanges_created_at"), table_name="exchanges")
    op.drop_index(op.f("ix_exchanges_conversation_id"), table_name="exchanges")
    op.drop_table("exchanges")
    op.drop_table("conversations")
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")
    op.drop_table("login_sessions")
    op.drop_table("users")
