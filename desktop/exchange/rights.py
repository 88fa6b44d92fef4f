"""Who may export, and the audit entry each export leaves.

Whether a role may export is an admin setting: records of the shared, admin-only
`export_setting` entity, synced to every device like the pipeline rules (the server
refuses the write from anyone but an admin). Without a setting for a role, it may
export; an admin always may. A profile that never signed in has no role: its book is
the rep's own. Each export leaves an `export_log` record (who, when, which list and
filter, how many rows) that reaches the server with the next push."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from desktop.errors import FieldCRMError, ValidationError
from desktop.schema import Role, to_utc_iso

if TYPE_CHECKING:
    from desktop.store.store import Store

META_ROLE = "sync_role"  # the signed-in role, kept by desktop.sync.auth


class ExportNotAllowed(FieldCRMError):
    """Your role may not export records; an administrator can allow it."""


def role_of(store: Store) -> str:
    return store.meta_get(META_ROLE) or ""


def may_export(store: Store, role: str | None = None) -> bool:
    role = role_of(store) if role is None else role
    if not role or role == Role.ADMIN:
        return True
    row = store.conn.execute(
        "SELECT allowed FROM export_setting WHERE deleted = 0 AND role = ? "
        "ORDER BY updated_at DESC, rid DESC LIMIT 1", (role,)).fetchone()
    return row is None or row[0] is None or bool(row[0])


def check_may_export(store: Store) -> None:
    """Raises ExportNotAllowed when the signed-in role may not export."""
    if not may_export(store):
        raise ExportNotAllowed(
            f"Your role ({role_of(store)}) may not export records; an administrator can "
            "allow it (fieldcrm export rights --role ROLE --allow).")


def rights(store: Store) -> dict[str, bool]:
    """{role: may export} for every role."""
    return {r.value: may_export(store, r.value) for r in Role}


def set_right(store: Store, role: str, allowed: bool) -> dict[str, bool]:
    """An admin's edit (the server refuses it from anyone else)."""
    if role not in {r.value for r in Role}:
        raise ValidationError(f"Role must be one of {', '.join(r.value for r in Role)}.",
                              field="role")
    repo = store.repo("export_setting")
    existing = repo.find(role=role)
    if existing:
        repo.update(existing[-1]["id"], {"allowed": allowed})
    else:
        repo.create({"role": role, "allowed": allowed})
    return rights(store)


def log_export(store: Store, entity: str, fmt: str, flt: dict[str, Any], rows: int,
               file_name: str) -> dict[str, Any]:
    """The audit entry of one finished export (a journaled record: it is pushed)."""
    return store.repo("export_log").create({
        "entity": entity, "format": fmt, "rows": rows, "file_name": file_name[:255],
        "filter": json.dumps(flt, ensure_ascii=False)[:2000],
        "exported_by": store.user or None,
        "exported_at": to_utc_iso(dt.datetime.now(dt.UTC))})
