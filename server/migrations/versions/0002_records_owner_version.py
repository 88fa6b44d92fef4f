"""Pull by (owner, version): an incremental pull seeks each visible owner's new versions
instead of reading every record of theirs and sorting (propagation time grew with the
size of the account book).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_records_owner_version", "records", ["owner", "version"])
    op.drop_index("ix_records_owner", table_name="records")


def downgrade() -> None:
    op.create_index("ix_records_owner", "records", ["owner"])
    op.drop_index("ix_records_owner_version", table_name="records")
