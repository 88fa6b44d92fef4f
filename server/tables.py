"""SQLAlchemy Core tables of the sync server (queries use these; migrations are frozen
copies in `server/migrations/versions`, never generated from this module at run time).

Times are UTC ISO-8601 text; JSON is stored as text so SQLite and PostgreSQL behave alike.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

teams = sa.Table(
    "teams", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("created_at", sa.String(32), nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

team_members = sa.Table(
    "team_members", metadata,
    sa.Column("team", sa.String(100), sa.ForeignKey("teams.name"), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    # Bumped whenever every token of this device must die (logout, refresh-token reuse).
    sa.Column("gen", sa.Integer, nullable=False, default=1),
    sa.Column("logged_out", sa.Boolean, nullable=False, default=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("last_seen_at", sa.String(32), nullable=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False, index=True),
    sa.Column("gen", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("used_at", sa.String(32), nullable=True),
)

# One row per record: the current winning value and HLC stamp of every field, as the
# wire format {"field": {"value": v, "hlc": "..."}} so a pull streams it untouched.
records = sa.Table(
    "records", metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, index=True),
    sa.Column("origin_device", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.String(32), nullable=False),
    # pull: each visible owner's versions after the cursor (see server.pull)
    sa.Index("ix_records_owner_version", "owner", "version"),
    # the change feed of one entity for other systems (server.integrations)
    sa.Index("ix_records_entity_version", "entity", "version"),
)

# At-most-once: one row per (device, seq) ever processed, written in the same
# transaction as the data it changed.
processed = sa.Table(
    "processed", metadata,
    sa.Column("device_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("superseded", sa.Text, nullable=False, default="[]"),
    sa.Column("version", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
)

# The single-row server-wide version counter (id = 1).
counter = sa.Table(
    "counter", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

settings = sa.Table(
    "settings", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

blobs = sa.Table(
    "blobs", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

blob_uploaders = sa.Table(
    "blob_uploaders", metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
)

# Wrong passwords per sha256(case-folded user name, client address), shared by every server
# process on the database (server.throttle); rows older than the window are pruned.
login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("failed_at", sa.Float, nullable=False),  # Unix time, seconds
    sa.Index("ix_login_failures_key", "key", "failed_at"),
    sa.Index("ix_login_failures_time", "failed_at"),
)

# Merged-away records (server.redirect): record -> the survivor it was merged into.
merged_records = sa.Table(
    "merged_records", metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("merged_into", sa.String(64), nullable=False),
)

# Probable duplicates the server found (server.duplicates): each account's and contact's
# blocking keys (desktop.dedupe.index.keys_of), and the pairs, a < b.
dedupe_keys = sa.Table(
    "dedupe_keys", metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Index("ix_dedupe_keys_record", "entity", "record_id"),
)

dedupe_pairs = sa.Table(
    "dedupe_pairs", metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("a", sa.String(64), primary_key=True),
    sa.Column("b", sa.String(64), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),  # JSON list
    sa.Column("dismissed", sa.Boolean, nullable=False, default=False),
    sa.Column("found_at", sa.String(32), nullable=False),
    sa.Index("ix_dedupe_pairs_b", "entity", "b"),
)

# Who may read which field (server.visibility, desktop.visibility): one rule per field.
visibility_rules = sa.Table(
    "visibility_rules", metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("field", sa.String(64), primary_key=True),
    sa.Column("rule", sa.Text, nullable=False),  # JSON: desktop.visibility.Rule.as_json
    sa.Column("updated_at", sa.String(32), nullable=False),
)

# Data scopes by region (server.access): a tree of regions, and the region of a user.
# A manager or director sees the records of every user in their region's subtree.
regions = sa.Table(
    "regions", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("parent", sa.String(100), nullable=True),
)

user_regions = sa.Table(
    "user_regions", metadata,
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("region", sa.String(100), nullable=False, index=True),
)

# Leads (server.leads, issue 17). One API key per intake source (only its sha256 kept);
# every intake by (source, external id), so a replay returns the first answer; the
# round-robin's count per set of candidates and rep; and each lead's owner, whether it
# is open and when the SLA clock next needs to look at it (the escalation pass reads
# only the leads whose moment has come); claims won per rep and day.
lead_api_keys = sa.Table(
    "lead_api_keys", metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("per_minute", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)

lead_intake = sa.Table(
    "lead_intake", metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("external_id", sa.String(200), primary_key=True),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("received_at", sa.String(32), nullable=False),
    sa.Index("ix_lead_intake_time", "source", "received_at"),
)

lead_rr = sa.Table(
    "lead_rr", metadata,
    sa.Column("pool_key", sa.String(300), primary_key=True),
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("assigned", sa.BigInteger, nullable=False),
)

lead_state = sa.Table(
    "lead_state", metadata,
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=True),
    sa.Column("open", sa.Boolean, nullable=False),
    sa.Column("due_at", sa.String(32), nullable=True),
    sa.Index("ix_lead_state_owner", "owner", "open"),
    sa.Index("ix_lead_state_due", "due_at"),
)

lead_claim_days = sa.Table(
    "lead_claim_days", metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("claims", sa.Integer, nullable=False),
)

# Contact details of pool leads while the policy masks them (lead_policy.mask_in_pool):
# kept here, off the synced record, until a rep's claim wins.
lead_hidden = sa.Table(
    "lead_hidden", metadata,
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
)

# Sensitive actions, append-only (server.audit; a trigger refuses UPDATE, and DELETE on
# PostgreSQL). No personal data of customers: targets are ids.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_actor", "actor", "at"),
)

# Other systems as API clients (server.integrations, issue 25): one credential per system
# (sha256 of its secrets; the old one valid until `old_valid_until` after a rotation),
# each write's idempotency key with its body's hash and first answer, and the ids records
# carry in other systems.
integrations = sa.Table(
    "integrations", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("old_secret_hash", sa.String(64), nullable=True),
    sa.Column("old_valid_until", sa.String(32), nullable=True),
    sa.Column("scopes", sa.Text, nullable=False),  # JSON: server.integrations.Scopes
    sa.Column("per_minute", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("rotated_at", sa.String(32), nullable=True),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)

integration_writes = sa.Table(
    "integration_writes", metadata,
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

external_ids = sa.Table(
    "external_ids", metadata,
    sa.Column("system", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("external_id", sa.String(200), primary_key=True),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Index("ix_external_ids_record", "entity", "record_id"),
)

# Webhooks (server.webhooks): subscriptions, the outbox of deliveries (times are Unix
# seconds of the worker's clock), the worker's lease and place in the change log (one
# row, id 1), and each record's state as the worker last saw it.
webhook_subscriptions = sa.Table(
    "webhook_subscriptions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("system", sa.String(64), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # JSON list: "deal.won", "account.*", "*"
    sa.Column("status", sa.String(16), nullable=False),  # active | paused
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("paused_at", sa.String(32), nullable=True),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("delivery_id", sa.String(36), nullable=False, unique=True),
    sa.Column("subscription_id", sa.String(36), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", sa.Float, nullable=False),
    sa.Column("first_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Index("ix_webhook_deliveries_due", "status", "next_at"),
    sa.Index("ix_webhook_deliveries_record", "subscription_id", "entity", "record_id", "id"),
)

webhook_worker = sa.Table(
    "webhook_worker", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("holder", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False),
)

webhook_state = sa.Table(
    "webhook_state", metadata,
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("stage", sa.String(64), nullable=True),
    # a lead's owner and escalation, a payment's kind (JSON; NULL: none), Alembic 0011
    sa.Column("marks", sa.Text, nullable=True),
)
