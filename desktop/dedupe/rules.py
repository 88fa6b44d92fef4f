"""Duplicate rules as data: per entity, the name similarity that makes a probable
duplicate and whether it warns or blocks the save. Records of the shared, admin-only
`dedupe_rule` entity, synced to every device like the pipeline rules; without one, the
customers' rule: 92%, warn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.dedupe.match import DEFAULT_THRESHOLD, ENTITIES
from desktop.errors import ValidationError

if TYPE_CHECKING:
    from desktop.store.store import Store

DEFAULT_ACTION = "warn"
MIN_THRESHOLD = 50.0  # below this nearly every pair of names would be "alike"


@dataclass(frozen=True)
class Rule:
    entity: str
    threshold: float = DEFAULT_THRESHOLD
    action: str = DEFAULT_ACTION  # "warn" or "block"

    @property
    def blocks(self) -> bool:
        return self.action == "block"


def rule_for(store: Store, entity: str) -> Rule:
    """The active rule for `entity` (the most recently changed one when several are)."""
    if entity not in ENTITIES:
        raise ValidationError(f"Duplicate rules exist for accounts and contacts, not '{entity}'.")
    row = store.conn.execute(
        "SELECT threshold, action FROM dedupe_rule WHERE deleted = 0 AND entity = ? "
        "AND coalesce(active, 1) = 1 ORDER BY updated_at DESC, rid DESC LIMIT 1",
        (entity,)).fetchone()
    if row is None:
        return Rule(entity)
    threshold = row[0] if row[0] is not None else DEFAULT_THRESHOLD
    return Rule(entity, max(MIN_THRESHOLD, min(100.0, float(threshold))), row[1] or DEFAULT_ACTION)


def set_rule(store: Store, entity: str, *, threshold: float | None = None,
             action: str | None = None) -> Rule:
    """Create or change the rule for `entity` (an admin's edit; the server refuses it
    from anyone else, like any admin-only field)."""
    if threshold is not None and not MIN_THRESHOLD <= threshold <= 100:
        raise ValidationError(f"The similarity must be between {MIN_THRESHOLD:g} and 100.",
                              field="threshold")
    repo = store.repo("dedupe_rule")
    existing = repo.find(entity=entity)
    values = {k: v for k, v in {"threshold": threshold, "action": action}.items() if v is not None}
    if existing:
        repo.update(existing[-1]["id"], {**values, "active": True})
    else:
        repo.create({"entity": entity, "active": True, **values})
    return rule_for(store, entity)
