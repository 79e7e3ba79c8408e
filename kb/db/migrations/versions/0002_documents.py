"""Documents in SQL: organisations, documents, document versions and the shared store state (revision
counter, active chunk collection). Chroma keeps only chunks and vectors.

An existing store's register (the former ``<prefix>_documents`` Chroma collection) is taken over by
:meth:`kb.store.KnowledgeStore` on its first start after this migration (the migration itself does not
know where the Chroma store is).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("key", name=op.f("uq_organisations_key")),
    )
    op.create_table(
        "documents",
        sa.Column("doc_id", sa.String(300), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.String(40), nullable=False),
        sa.Column("valid_from", sa.String(10), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("original", sa.Text(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("full_text", sa.Text(), nullable=False),
        sa.Column("current_version", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_documents_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_organisation_id"), "documents", ["organisation_id"])
    op.create_table(
        "document_versions",
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("doc_id", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("collection", sa.String(200), nullable=False),
        sa.Column("original", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint(
            "state IN ('pending', 'live', 'superseded', 'removed')", name=op.f("ck_document_versions_state")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_document_versions")),
    )
    op.create_index(op.f("ix_document_versions_doc_id"), "document_versions", ["doc_id"])
    op.create_index(op.f("ix_document_versions_state"), "document_versions", ["state"])
    op.create_table(
        "store_state",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_store_state")),
    )
    op.execute("INSERT INTO store_state (key, number, updated_at) VALUES ('revision', 0, CURRENT_TIMESTAMP)")


def downgrade() -> None:
    op.drop_table("store_state")
    op.drop_index(op.f("ix_document_versions_state"), table_name="document_versions")
    op.drop_index(op.f("ix_document_versions_doc_id"), table_name="document_versions")
    op.drop_table("document_versions")
    op.drop_index(op.f("ix_documents_organisation_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_table("organisations")
