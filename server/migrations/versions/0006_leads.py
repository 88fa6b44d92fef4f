"""Leads (issue 17, server.leads): intake keys and replays, the round-robin's counts,
each lead's SLA state, claims per rep and day, and the contact details of masked pool
leads.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_api_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("per_minute", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "lead_intake",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("external_id", sa.String(200), primary_key=True),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_lead_intake_time", "lead_intake", ["source", "received_at"])
    op.create_table(
        "lead_rr",
        sa.Column("pool_key", sa.String(300), primary_key=True),
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("assigned", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "lead_state",
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("due_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_lead_state_owner", "lead_state", ["owner", "open"])
    op.create_index("ix_lead_state_due", "lead_state", ["due_at"])
    op.create_table(
        "lead_claim_days",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("claims", sa.Integer, nullable=False),
    )
    op.create_table(
        "lead_hidden",
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lead_hidden")
    op.drop_table("lead_claim_days")
    op.drop_index("ix_lead_state_due", "lead_state")
    op.drop_index("ix_lead_state_owner", "lead_state")
    op.drop_table("lead_state")
    op.drop_table("lead_rr")
    op.drop_index("ix_lead_intake_time", "lead_intake")
    op.drop_table("lead_intake")
    op.drop_table("lead_api_keys")
