"""Systems as API clients (issue 25, server.integrations): one credential per named
system with its scopes and rate limit (only sha256 hashes of its secrets kept; the
previous secret stays valid until `old_valid_until` after a rotation); each write's
idempotency key with the hash of its body and the first answer; records' ids in other
systems, unique per (system, entity, id); and an index for the change feed of one entity.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("old_secret_hash", sa.String(64), nullable=True),
        sa.Column("old_valid_until", sa.String(32), nullable=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("per_minute", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("rotated_at", sa.String(32), nullable=True),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "integration_writes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("idem_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("system", "idem_key", name="uq_integration_writes_key"),
    )
    op.create_table(
        "external_ids",
        sa.Column("system", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("external_id", sa.String(200), primary_key=True),
        sa.Column("record_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_external_ids_record", "external_ids", ["entity", "record_id"])
    op.create_index("ix_records_entity_version", "records", ["entity", "version"])


def downgrade() -> None:
    op.drop_index("ix_records_entity_version", "records")
    op.drop_index("ix_external_ids_record", "external_ids")
    op.drop_table("external_ids")
    op.drop_table("integration_writes")
    op.drop_table("integrations")
