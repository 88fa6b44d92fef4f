"""Probable duplicates found by the server (issue 15, server.duplicates): blocking keys of
every account and contact, the pairs found, and the version up to which records have
been checked.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedupe_keys",
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
    )
    op.create_index("ix_dedupe_keys_record", "dedupe_keys", ["entity", "record_id"])
    op.create_table(
        "dedupe_pairs",
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("a", sa.String(64), primary_key=True),
        sa.Column("b", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("dismissed", sa.Boolean, nullable=False),
        sa.Column("found_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_dedupe_pairs_b", "dedupe_pairs", ["entity", "b"])
    # Seeded here so concurrent checkers never race to create it.
    op.execute("INSERT INTO settings (key, value) VALUES ('dedupe_cursor', '0')")


def downgrade() -> None:
    op.drop_index("ix_dedupe_pairs_b", "dedupe_pairs")
    op.drop_table("dedupe_pairs")
    op.drop_index("ix_dedupe_keys_record", "dedupe_keys")
    op.drop_table("dedupe_keys")
    op.execute("DELETE FROM settings WHERE key = 'dedupe_cursor'")
