"""Reading a `desktop.store.Changes` in a view: did an op touch what the view shows?

A change to `"*"` means everything may have changed (the local data was wiped when the
profile signed out, or replaced): every view that shows store data reloads on it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.store import Changes

EVERYTHING = "*"


def touches(changes: Changes, entities: Iterable[str]) -> bool:
    """Whether `changes` may have changed any of `entities` (always after a wipe)."""
    changed = changes.entities
    return EVERYTHING in changed or any(e in changed for e in entities)
