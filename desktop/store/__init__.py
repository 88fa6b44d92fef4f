"""The local store (no Qt): SQLite through sqlite-utils, journaled writes, search, blobs.

    from desktop.store import Store
    store = Store.open(profile_dir)                  # creates if missing; refuses damaged/newer
    repo = store.repo("account")                     # any entity in desktop.schema
    rec = repo.create({"name": "腾讯"})               # validated; row + journal in one tx
    repo.update(rec["id"], {"industry": "互联网"}); repo.get(id); repo.find(uscc=...)
    repo.delete(id); repo.restore(id)                # tombstone and its undo
    repo.page(after=None, limit=200)                 # keyset pages in title order
    repo.import_many(rows)                           # bulk, journaled
    store.search("txjs") -> [SearchHit(entity, id, title, subtitle, score)]
    store.journal.pending() / park() / acknowledge() # the sync outbox
    store.apply_remote(changes)                      # merge pulled changes (desktop.store.remote)
    store.blobs.put_file(path) -> sha256
    store.on_change(callback)                        # hears Changes after each commit

Records are plain dicts: "id", every schema field, "deleted", "created_at", "updated_at".
"""

from desktop.store.journal import JournalEntry
from desktop.store.search import SearchHit
from desktop.store.store import Changes, Store

__all__ = ["Changes", "JournalEntry", "SearchHit", "Store"]
