"""Merged-away records (issue 15): which account or contact each was merged into, so a
push that writes to one (an offline edit arriving after the merge) or refers to one is
redirected to the survivor without reading every record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merged_records",
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("merged_into", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("merged_records")
