"""Who may read which field (issue 24, server.visibility): the visibility rules; data
scopes by region (server.access): the region tree and each user's region.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visibility_rules",
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("field", sa.String(64), primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


    op.create_table(
        "regions",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("parent", sa.String(100), nullable=True),
    )
    op.create_table(
        "user_regions",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("region", sa.String(100), nullable=False),
    )
    op.create_index("ix_user_regions_region", "user_regions", ["region"])


def downgrade() -> None:
    op.drop_index("ix_user_regions_region", "user_regions")
    op.drop_table("user_regions")
    op.drop_table("regions")
    op.drop_table("visibility_rules")
