"""Storage upgrades, one function per step (sqlite-utils Migrations).

Every table of the store is created here, by a numbered step (`mNNN_what`), and a step
once released never changes: a new need is a new step. A store that has a migration this
app does not know was written by a newer app and is refused before anything is changed.
Each schema change also adds an upgrade fixture (tests/fixtures/stores/make_fixture.py).

Public helpers: `known_names`, `applied_names`, `upgrade`.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.schema import ENTITIES, Entity, Field, FieldType
from desktop.store.firstwrite import COLUMN as FIRST_WRITE
from desktop.store.firstwrite import ENTITIES as FIRST_WRITE_ENTITIES
from desktop.store.firstwrite import ROW_SQL as FIRST_WRITE_SQL
from desktop.store.firstwrite import index_sql as first_write_index_sql
from desktop.store.followup_tables import (
    FOLLOWUP_SCHEMA_SQL,
    OPEN_BY_OWNER_INDEX_SQL,
    evidence_index_sql,
)
from desktop.store.sqlite_utils_lite import Database, Migrations

migrations = Migrations("fieldcrm")
_STEPS: list[str] = []  # the names in order (sqlite-utils keeps its list private)


def step(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register a migration step under its function name."""
    _STEPS.append(fn.__name__)
    return migrations()(fn)


def known_names() -> tuple[str, ...]:
    """Every step this app knows, oldest first."""
    return tuple(_STEPS)


def applied_names(db: Database) -> set[str]:
    """The steps already applied to this database (read-only)."""
    return {m.name for m in migrations.applied(db)}


def upgrade(db: Database) -> None:
    """Apply the pending steps, then add columns for newly declared custom fields.
    The caller holds the write transaction."""
    migrations.apply(db)
    add_missing_columns(db)

SQL_TYPES = {
    FieldType.TEXT: "TEXT", FieldType.NUMBER: "REAL", FieldType.INTEGER: "INTEGER",
    FieldType.DATE: "TEXT", FieldType.DATETIME: "TEXT", FieldType.CHOICE: "TEXT",
    FieldType.REF: "TEXT", FieldType.BOOL: "INTEGER", FieldType.LIST: "TEXT",
}

# Indexes that the list views, timelines and follow-up rules need. Partial on live rows.
# Every index costs every write (a bulk import most), so none is kept "just in case".
INDEXES = {
    "account": ["name COLLATE NOCASE, rid"],
    "contact": ["name COLLATE NOCASE, rid", "account_id"],
    "deal": ["title COLLATE NOCASE, rid", "account_id", "stage, stage_changed_at"],
    "activity": ["account_id, due_at", "deal_id", "contact_id", "due_at", "kind, done_at"],
    "attachment": ["sha256", "deal_id", "account_id"],
    "contract": ["deal_id", "contract_no"],
    # a deal's payments, in the order the receivables ageing reads them (no sort), and
    # every column it reads; dates: the covering payment_report
    "payment": ["deal_id, currency, date, id, kind, amount, owner", "contract_id"],
}


def column_sql(f: Field) -> str:
    # A field made from a definition has no column type (no affinity): its type may be
    # changed later, and a REAL column would turn the text '12' into 12.0.
    return f'"{f.name}"' if f.from_def else f'"{f.name}" {SQL_TYPES[f.type]}'


def create_entity_table(db: Database, ent: Entity) -> None:
    cols = ",\n  ".join(column_sql(f) for f in ent.fields)
    db.execute(f"""
        CREATE TABLE IF NOT EXISTS "{ent.name}" (
          rid INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          {cols},
          deleted INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          _clocks TEXT NOT NULL DEFAULT '{{}}'
        )""")
    for i, cols_sql in enumerate(INDEXES.get(ent.name, [])):
        db.execute(f'CREATE INDEX IF NOT EXISTS "{ent.name}_ix{i}" ON "{ent.name}" '
                   f"({cols_sql}) WHERE deleted = 0")


def missing_columns(db: Database) -> list[tuple[str, Field]]:
    """(table, field) of custom fields declared since the store was made."""
    # One query for every table's columns: run at each open, and sqlite-utils' per-table
    # lookups (table list, view list, table_info each) were most of a store's open time.
    have: dict[str, set[str]] = {}
    for table, column in db.execute(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c "
            "WHERE m.type = 'table'").fetchall():
        have.setdefault(table, set()).add(column)
    out: list[tuple[str, Field]] = []
    for ent in ENTITIES.values():
        if ent.name not in have:  # a later step creates it whole
            continue
        out += [(ent.name, f) for f in ent.fields if f.name not in have[ent.name]]
    return out


def add_missing_columns(db: Database) -> None:
    """Custom fields declared since the store was made become columns (idempotent)."""
    for table, f in missing_columns(db):
        db.execute(f'ALTER TABLE "{table}" ADD COLUMN {column_sql(f)}')


@step
def m001_initial(db: Database) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for ent in ENTITIES.values():
        create_entity_table(db, ent)
    # The outbox. seq is the per-device sequence number the server deduplicates on.
    db.execute("""
        CREATE TABLE journal (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          device_id TEXT NOT NULL,
          entity TEXT NOT NULL,
          record_id TEXT NOT NULL,
          fields TEXT NOT NULL,
          created_at TEXT NOT NULL,
          state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'parked')),
          reason TEXT
        )""")
    db.execute("CREATE INDEX journal_state ON journal(state, seq)")
    db.execute("CREATE INDEX journal_record ON journal(entity, record_id)")
    db.execute("""
        CREATE TABLE conflicts (
          id INTEGER PRIMARY KEY,
          entity TEXT NOT NULL,
          record_id TEXT NOT NULL,
          field TEXT NOT NULL,
          local_value TEXT,
          local_hlc TEXT NOT NULL,
          remote_value TEXT,
          remote_hlc TEXT NOT NULL,
          detected_at TEXT NOT NULL,
          resolved_at TEXT,
          resolution TEXT
        )""")
    db.execute("CREATE INDEX conflicts_open ON conflicts(resolved_at, id)")
    # Search: a document table (so old text can be removed exactly) behind an FTS5
    # trigram index. rowid = entity number << 40 | the record's rid.
    db.execute(
        "CREATE TABLE search_doc (rowid INTEGER PRIMARY KEY, name TEXT, terms TEXT, bi TEXT)")
    db.execute("""CREATE VIRTUAL TABLE search_fts USING fts5(
        name, terms, bi, tokenize='trigram', content='search_doc', content_rowid='rowid')""")
    db.execute("""CREATE TRIGGER search_doc_ai AFTER INSERT ON search_doc BEGIN
        INSERT INTO search_fts(rowid, name, terms, bi) """
        """VALUES (new.rowid, new.name, new.terms, new.bi);
        END""")
    db.execute("""CREATE TRIGGER search_doc_ad AFTER DELETE ON search_doc BEGIN
        INSERT INTO search_fts(search_fts, rowid, name, terms, bi)
        VALUES ('delete', old.rowid, old.name, old.terms, old.bi);
        END""")


@step
def m002_search_backlog(db: Database) -> None:
    # Records imported in bulk wait here (search rowids) until the indexer has built their
    # search documents, so a big import is durable and listed at once and becomes
    # searchable moments later, instead of holding the write lock for the FTS work.
    db.execute("CREATE TABLE search_backlog (rowid INTEGER PRIMARY KEY)")


@step
def m003_pipeline_rules(db: Database) -> None:
    create_entity_table(db, ENTITIES["pipeline_rule"])


@step
def m004_activity_list_order(db: Database) -> None:
    # The Activities list order (desktop.store.repository.LIST_ORDER): the expression
    # must match the ORDER BY exactly for SQLite to walk this index.
    db.execute('CREATE INDEX IF NOT EXISTS "activity_when" ON "activity" '
               "(coalesce(done_at, due_at, created_at), rid) WHERE deleted = 0")


@step
def m005_drop_unused_account_indexes(db: Database) -> None:
    # By owner and by last change: no query of the app reads accounts in either order
    # (the server decides who sees what), and together they were a seventh of the cost
    # of importing an account.
    db.execute('DROP INDEX IF EXISTS "account_ix1"')
    db.execute('DROP INDEX IF EXISTS "account_ix2"')


@step
def m006_followup_tables(db: Database) -> None:
    # Reminder delivery state and the rule indexes (desktop.store.followup_tables). Until
    # this step the follow-up package created them on first use, so a store made by an
    # earlier release may have them already: every statement is IF NOT EXISTS.
    for sql in FOLLOWUP_SCHEMA_SQL:
        db.execute(sql)


@step
def m007_dedupe_keys(db: Database) -> None:
    # The duplicate check's index (desktop.dedupe.index): blocking keys (brand, its first
    # and last characters, phone, credit code, email, a contact's name in its account)
    # -> search rowid, and the parsed company name per account. A record is queued in
    # dedupe_dirty in the same transaction as the write that changes what the keys are
    # made of: its search document (name, phones, credit code, email) or a contact's
    # account. The keys are built from the queue before every check, outside the write,
    # so neither an edit nor a bulk import pays for parsing names.
    db.execute("CREATE TABLE IF NOT EXISTS dedupe_dirty (rowid INTEGER PRIMARY KEY)")
    db.execute("""CREATE TABLE IF NOT EXISTS dedupe_key (
        key TEXT NOT NULL, rowid INTEGER NOT NULL, PRIMARY KEY (key, rowid)) WITHOUT ROWID""")
    db.execute("CREATE INDEX IF NOT EXISTS dedupe_key_rowid ON dedupe_key(rowid)")
    db.execute("""CREATE TABLE IF NOT EXISTS dedupe_doc (
        rowid INTEGER PRIMARY KEY, core TEXT, words TEXT, places TEXT, branch TEXT,
        legal TEXT, uscc TEXT, alt_core TEXT, alt_words TEXT, alt_places TEXT)""")
    # Records not yet checked against the book since they changed (desktop.dedupe.pairs:
    # after each pull), and the probable duplicate pairs found, with the rep's dismissals.
    db.execute("CREATE TABLE IF NOT EXISTS dedupe_unchecked (rowid INTEGER PRIMARY KEY)")
    db.execute("""CREATE TABLE IF NOT EXISTS dedupe_pair (
        entity TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, score REAL NOT NULL,
        reasons TEXT NOT NULL, found_at TEXT NOT NULL, dismissed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (entity, a, b))""")
    db.execute("""CREATE TRIGGER IF NOT EXISTS dedupe_doc_ai AFTER INSERT ON search_doc BEGIN
        INSERT OR IGNORE INTO dedupe_dirty (rowid) VALUES (new.rowid);
        INSERT OR IGNORE INTO dedupe_unchecked (rowid) VALUES (new.rowid); END""")
    db.execute("""CREATE TRIGGER IF NOT EXISTS dedupe_doc_ad AFTER DELETE ON search_doc BEGIN
        INSERT OR IGNORE INTO dedupe_dirty (rowid) VALUES (old.rowid); END""")
    contact = list(ENTITIES).index("contact") + 1  # Repository.number: search rowid high bits
    db.execute(f"""CREATE TRIGGER IF NOT EXISTS dedupe_contact_account AFTER UPDATE OF account_id
        ON contact BEGIN
        INSERT OR IGNORE INTO dedupe_dirty (rowid) VALUES (({contact} << 40) | new.rid); END""")
    db.execute("INSERT OR IGNORE INTO dedupe_dirty (rowid) SELECT rowid FROM search_doc")
    # Merges (desktop.dedupe.merge): the audit entity, and the accounts and contacts
    # merged away (few) found without a scan when a pulled change refers to one.
    create_entity_table(db, ENTITIES["merge_log"])
    create_entity_table(db, ENTITIES["dedupe_rule"])  # desktop.dedupe.rules
    for name in ("account", "contact"):
        have = {c.name for c in db[name].columns}
        if "merged_into" not in have:
            db.execute(f'ALTER TABLE "{name}" ADD COLUMN "merged_into" TEXT')
        db.execute(f'CREATE INDEX IF NOT EXISTS "{name}_merged" ON "{name}" (id, merged_into) '
                   "WHERE merged_into IS NOT NULL")


@step
def m008_field_defs(db: Database) -> None:
    # Custom field definitions an admin makes (desktop.schema.FIELD_DEF, issue 24); the
    # columns of the fields they describe are added by `add_missing_columns` (no row is
    # rewritten: SQLite's ADD COLUMN changes only the table's declaration).
    create_entity_table(db, ENTITIES["field_def"])
    # Values a custom field's type change could not convert (desktop.schema.coerce_value):
    # kept here, readable and listed, never dropped. One per (record, field, stamp), the
    # same on every device (converted locally, or received from the server's copy).
    db.execute("""CREATE TABLE IF NOT EXISTS kept_value (
        entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL,
        hlc TEXT NOT NULL, value TEXT, to_type TEXT NOT NULL, reason TEXT NOT NULL,
        kept_at TEXT NOT NULL, PRIMARY KEY (entity, record_id, field, hlc))""")


@step
def m009_exchange(db: Database) -> None:
    # Import and export (desktop.exchange): the export audit entries and the admin's
    # export rights, both synced entities.
    create_entity_table(db, ENTITIES["export_log"])
    create_entity_table(db, ENTITIES["export_setting"])


@step
def m011_search_index_written_directly(db: Database) -> None:
    # Search documents go into the FTS5 index from the code that writes them
    # (desktop.store.textindex.insert_docs), no longer through an insert trigger: FTS5
    # flushed its in-memory index for every row a trigger handed it, so building a
    # document cost about three times as much (issue 26). Deletes keep their trigger.
    db.execute("DROP TRIGGER IF EXISTS search_doc_ai")



@step
def m012_leads(db: Database) -> None:
    # Leads (issue 17, desktop.leads): the lead, the claims and releases the server
    # arbitrates, and the admin's assignment rules, rep capacities and escalation policy.
    for name in ("lead", "lead_claim", "lead_rule", "lead_rep", "lead_policy"):
        create_entity_table(db, ENTITIES[name])
    db.execute('CREATE INDEX IF NOT EXISTS "lead_status" ON "lead" (status, owner) '
               "WHERE deleted = 0")
    db.execute('CREATE INDEX IF NOT EXISTS "lead_claim_lead" ON "lead_claim" (lead_id)')


@step
def m014_erasure(db: Database) -> None:
    # Erasures of a person (desktop.schema.ERASURE, desktop.store.erasure), synced; and
    # the contact's consent fields (consent_source, consent_date, consent_scope).
    create_entity_table(db, ENTITIES["erasure"])
    add_missing_columns(db)


@step
def m015_payments(db: Database) -> None:
    # Payments and exchange rates (desktop.schema.PAYMENT, FX_RATE; desktop.reports), and
    # the pipeline rule's win probability.
    create_entity_table(db, ENTITIES["payment"])
    create_entity_table(db, ENTITIES["fx_rate"])
    # covers the collections report (month sums and the ageing's pass over every payment)
    db.execute('CREATE INDEX IF NOT EXISTS "payment_report" ON "payment" (date, kind, '
               "currency, amount, deal_id, contract_id, owner, id) WHERE deleted = 0")
    add_missing_columns(db)


@step
def m016_report_indexes(db: Database) -> None:
    # The reports over a region's book (desktop.reports; benchmarks.reports at 1M accounts,
    # 300k deals, 2M activities). Open deals by stage and currency in index order, every
    # column the pipeline and forecast read: 575 -> 50 ms, no row read.
    db.execute('CREATE INDEX IF NOT EXISTS "deal_report" ON "deal" (stage, currency, '
               "close_date, amount, owner, id) WHERE deleted = 0")
    # The activities report reads ~150k activities of 12 weeks; through the list order's
    # index each cost a row read (~400 of its ~1,000 ms). The same index, the same order
    # (the Activities list still walks it), now carrying what the report reads.
    db.execute('DROP INDEX IF EXISTS "activity_when"')
    db.execute('CREATE INDEX "activity_when" ON "activity" '
               "(coalesce(done_at, due_at, created_at), rid, owner, kind, done_at, duration_s, "
               "outcome, attachments, id) WHERE deleted = 0")
    # The receivables ageing: one pass over every payment by deal, currency and date
    # (desktop.reports.collections.ageing), which the deal index now gives in order.
    db.execute('DROP INDEX IF EXISTS "payment_ix0"')
    db.execute('CREATE INDEX "payment_ix0" ON "payment" '
               f"({INDEXES['payment'][0]}) WHERE deleted = 0")


@step
def m017_external_ids(db: Database) -> None:
    # A record's ids in other systems (desktop.schema.EXTERNAL_IDS, written by the server
    # from the API for systems): a column on each entity the API serves. Search documents
    # of accounts and contacts now hold these ids too (desktop.store.textindex.build_doc),
    # but no document is rebuilt: before this step no record has any, so every existing
    # document is already what build_doc makes; pulled ids index their record as it lands.
    add_missing_columns(db)


@step
def m018_search_merges_wider(db: Database) -> None:
    # FTS5 merges its index segments 8 at a time instead of 4: each document's terms are
    # rewritten fewer times while a first sync's backlog is built (the builder's commits:
    # 13.5 -> 8.8 µs per document; benchmarks.store index_rows_per_s +10%), for up to 8
    # segments per level for a search to read.
    db.execute("INSERT INTO search_fts (search_fts, rank) VALUES ('automerge', 8)")


@step
def m019_first_write_at(db: Database) -> None:
    # A record's first write (desktop.store.firstwrite), on the records golden-72 counts:
    # the report selected a period's new records by created_at and parsed every row's
    # clocks, and after a manager's first sync every created_at is that day, so it read the
    # whole book for twelve weeks. Filled from the rows in one pass each; indexed alone
    # (firstwrite.index_sql says why), partial on live rows like the rest (no progress shown:
    # steps have no channel for it; ~7 s at 1M accounts and 300k deals, ~5 s more for the
    # evidence indexes at 2M activities). The golden reminders
    # (desktop.followup.reminders) read the same index, so their index by created_at (m006)
    # goes: a write of an account or a deal updates as many indexes as before.
    for name in sorted(FIRST_WRITE_ENTITIES):
        db.execute(f'ALTER TABLE "{name}" ADD COLUMN {FIRST_WRITE} INTEGER')
        db.execute(f'UPDATE "{name}" SET {FIRST_WRITE} = {FIRST_WRITE_SQL}')
        db.execute(first_write_index_sql(name))
        db.execute(f'DROP INDEX IF EXISTS "followup_{name}_created"')
        # the report's reads of each record's follow-ups, from the index alone (a row read
        # per activity was half of it at 1M accounts, 2M activities); the same condition
        db.execute(f'DROP INDEX IF EXISTS "followup_evidence_{name}"')
        db.execute(evidence_index_sql(name))


@step
def m020_followup_rule(db: Database) -> None:
    # What counts as a valid follow-up, now an admin's synced rule (desktop.schema.
    # FOLLOWUP_RULE, desktop.followup.rule) instead of each laptop's setting; a laptop's
    # own criteria in `followup_settings` are no longer read (nothing is rewritten).
    create_entity_table(db, ENTITIES["followup_rule"])


@step
def m021_dedupe_queue_written_directly(db: Database) -> None:
    # A new search document queues its record for the duplicate check (dedupe_dirty,
    # dedupe_unchecked) from the code that writes it (textindex.insert_docs), one statement
    # per table for a whole slice, no longer through a trigger run per row: the trigger was
    # two thirds of a document's insert into search_doc in the index builder (issue 26:
    # 2.3 -> 0.8 us). The delete trigger stays.
    db.execute("DROP TRIGGER IF EXISTS dedupe_doc_ai")


@step
def m022_search_merges_wider_still(db: Database) -> None:
    # FTS5 merges its index segments 16 at a time instead of 8 (issue 26): the merges were
    # a quarter of the index builder's insert cost (100k demo accounts' documents, 2,000 a
    # commit: 47.6 -> 36.7 us a document). A whole level is merged at once ("crisis") only
    # at 64 segments, not 16: at 16 that came before the gradual merge and rewrote a level
    # inside one commit (600k documents: 1.7 s, and a first sync's pull waiting on it gave
    # up at 2M). Up to 16 segments per level for a search to read: 0.25 -> 0.41 ms median
    # for a name, pinyin or phone query at 100k documents.
    db.execute("INSERT INTO search_fts (search_fts, rank) VALUES ('automerge', 16)")
    db.execute("INSERT INTO search_fts (search_fts, rank) VALUES ('crisismerge', 64)")


@step
def m023_agenda_by_owner(db: Database) -> None:
    # Today's lists read the user's own open tasks due by tonight: they read the oldest
    # open tasks of anyone (followup_task_due) and kept the user's, so in a manager's book
    # the reps' thousands of never-closed tasks pushed the manager's own out of them; the
    # agenda and home walked everyone's open activities in due order to find the user's
    # (a manager's 400k tasks: 166 ms for the agenda). This index reads them by owner, in
    # due order.
    db.execute(OPEN_BY_OWNER_INDEX_SQL)
