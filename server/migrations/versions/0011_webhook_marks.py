"""Webhook events of transitions (issue 25, server.webhooks): what else each record last
looked like to the webhook worker, beside `deleted` and a deal's `stage`: a lead's owner
and escalation (`lead.assigned`, `lead.sla_breached`) and a payment's kind
(`payment.received`), as JSON in `marks` (NULL: nothing to keep, as for every other
entity).

Leads the worker already follows get their marks from their records now, so the first
change after the upgrade is compared with what the lead really was, not with nothing (an
assigned lead changed after the upgrade is not announced as assigned again). Payments were
not followed before (not an entity of the API for systems).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("webhook_state", sa.Column("marks", sa.Text, nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT s.record_id, r.fields FROM webhook_state s JOIN records r "
        "ON r.entity = s.entity AND r.record_id = s.record_id WHERE s.entity = 'lead'")).all()
    update = sa.text("UPDATE webhook_state SET marks = :m WHERE entity = 'lead' "
                     "AND record_id = :r")
    params = []
    for record_id, raw in rows:
        fields = json.loads(raw)
        marks = {k: fields.get(k, {}).get("value") for k in ("owner", "escalation")}
        marks = {k: v for k, v in marks.items() if v}
        if marks:
            params.append({"m": json.dumps(marks, sort_keys=True), "r": record_id})
    for i in range(0, len(params), BATCH):
        conn.execute(update, params[i:i + BATCH])


def downgrade() -> None:
    with op.batch_alter_table("webhook_state") as batch:
        batch.drop_column("marks")
