"""Who the rep is on this computer (Qt-free): the profile's user name, the owner the store
writes on every record the rep creates (desktop.store.repository fills `owner` from
`store.user`).

A local profile asks for it once, on first start (`needs_user_name`); it can be changed
later (File ▸ Your name…, or `fieldcrm me --name`). A profile signed in to a sync server
uses the server's user name, which the server checks, so it cannot be changed here.
The name lives in the store's meta table beside the sync sign-in (no migration needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.errors import ValidationError

if TYPE_CHECKING:
    from desktop.store import Store

ASKED_META = "user_name_asked"  # "1" once the first-start question was answered or skipped
SYNC_USER_META = "sync_user"  # desktop.sync.auth.META_USER
MAX_LEN = 100  # the owner field's max_length


def user_name(store: Store) -> str:
    return store.user


def signed_in(store: Store) -> bool:
    return bool(store.meta_get(SYNC_USER_META))


def needs_user_name(store: Store) -> bool:
    """Ask on first start: no name yet, never asked, and not signed in to a server."""
    return not store.user and not store.meta_get(ASKED_META) and not signed_in(store)


def skip_user_name(store: Store) -> None:
    """The rep closed the question without a name: do not ask again on every start."""
    store.meta_set(ASKED_META, "1")


def set_user_name(store: Store, name: str) -> str:
    """Set the local user name (stripped). Raises ValidationError when empty, too long,
    or when the profile is signed in to a server (the server's name is the owner)."""
    clean = " ".join(name.split())
    if not clean:
        raise ValidationError("Type your name.", field="user")
    if len(clean) > MAX_LEN:
        raise ValidationError(f"A name has at most {MAX_LEN} characters.", field="user")
    if signed_in(store) and clean != store.user:
        raise ValidationError("This profile is signed in to a server: your name there is "
                              "the owner of your records and cannot be changed here.",
                              field="user")
    with store.write() as w:
        store.meta_set("user", clean, w.conn)
        store.meta_set(ASKED_META, "1", w.conn)
    store.user = clean
    return clean


def claim_unowned(store: Store, name: str) -> int:
    """Give records created before the rep had a name (owner empty) to `name`: the
    Owner column of a local profile then reads true. Returns how many were changed."""
    from desktop.schema import ENTITIES

    changed = 0
    with store.write():
        for ent in ENTITIES.values():
            if not ent.owned or not ent.has_field("owner"):
                continue
            repo = store.repo(ent.name)
            ids = [r[0] for r in store.conn.execute(
                f'SELECT id FROM "{ent.name}" WHERE deleted = 0 AND '
                "(owner IS NULL OR owner = '')")]
            for rid in ids:
                repo.update(rid, {"owner": name})
                changed += 1
    return changed
