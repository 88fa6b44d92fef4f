"""The tables and indexes of follow-up reminders, created by the store's migration
`m006_followup_tables` (desktop.store.migrations); desktop.followup reads and writes them.

`followup_reminder` is local to this device: never synced or journaled. The partial
indexes on activity/account/deal serve the reminder rules, so their WHERE clauses must
match the rules' queries exactly (desktop.followup.reminders uses `EVIDENCE_SQL`).
"""

from __future__ import annotations

REMINDER_TABLE = "followup_reminder"
# An activity that counts as follow-up (settings._counts in SQL): planned tasks do not.
EVIDENCE_SQL = "(done_at IS NOT NULL OR kind IN ('call', 'visit'))"

# IF NOT EXISTS throughout: stores made before m006 created these lazily when the
# follow-up rules first ran, and keep them (with their reminders) on upgrade.
FOLLOWUP_SCHEMA_SQL = (
    f"""CREATE TABLE IF NOT EXISTS {REMINDER_TABLE} (
      key TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      entity TEXT NOT NULL,
      record_id TEXT NOT NULL,
      fire_at TEXT NOT NULL,
      due_at TEXT,
      title TEXT NOT NULL DEFAULT '',
      urgent INTEGER NOT NULL DEFAULT 0,
      recipient TEXT NOT NULL DEFAULT '',
      state TEXT NOT NULL DEFAULT 'scheduled',
      scheduled_at TEXT NOT NULL,
      delivered_at TEXT,
      seen_at TEXT,
      acted_at TEXT,
      snoozed_until TEXT,
      group_id TEXT,
      via TEXT
    )""",
    f"CREATE INDEX IF NOT EXISTS {REMINDER_TABLE}_due "
    f"ON {REMINDER_TABLE}(state, recipient, fire_at)",
    f"CREATE INDEX IF NOT EXISTS {REMINDER_TABLE}_record ON {REMINDER_TABLE}(entity, record_id)",
    f"CREATE INDEX IF NOT EXISTS {REMINDER_TABLE}_kind ON {REMINDER_TABLE}(kind, fire_at)",
    # Indexes the rules need beyond the store's own (partial on live rows, like the store's).
    # (the two by created_at: dropped by step m019, the rule reads first_write_at's)
    'CREATE INDEX IF NOT EXISTS followup_account_created '
    'ON "account"(created_at) WHERE deleted = 0',
    'CREATE INDEX IF NOT EXISTS followup_deal_created ON "deal"(created_at) WHERE deleted = 0',
    # Evidence of follow-up only (planned tasks are not evidence): small and exact.
    'CREATE INDEX IF NOT EXISTS followup_evidence_account ON "activity"(account_id) '
    f"WHERE deleted = 0 AND account_id IS NOT NULL AND {EVIDENCE_SQL}",
    'CREATE INDEX IF NOT EXISTS followup_evidence_deal ON "activity"(deal_id) '
    f"WHERE deleted = 0 AND deal_id IS NOT NULL AND {EVIDENCE_SQL}",
    'CREATE INDEX IF NOT EXISTS followup_task_due ON "activity"(due_at) '
    "WHERE deleted = 0 AND kind = 'task' AND done_at IS NULL",
)


# A user's open activities in due order (the agenda, Today, home; store step m023).
OPEN_BY_OWNER_INDEX_SQL = (
    'CREATE INDEX followup_open_by_owner ON "activity"(owner, due_at) '
    "WHERE deleted = 0 AND done_at IS NULL AND due_at IS NOT NULL")


def evidence_index_sql(entity: str) -> str:
    """The evidence index of activities linked to an account or a deal, covering what the
    golden-72 report reads of each (store step m019; m006 made it on the link alone):
    at a million accounts and 2M activities, reading ~150k activity rows was half the
    report."""
    link = f"{entity}_id"
    return (f'CREATE INDEX followup_evidence_{entity} ON "activity"({link}, kind, done_at, '
            "created_at, duration_s, outcome, attachments, deleted) "
            f"WHERE deleted = 0 AND {link} IS NOT NULL AND {EVIDENCE_SQL}")
