"""The app's first CSV import (accounts from the Accounts menu), now a thin shim over
desktop.exchange.importer: the same import with the duplicate check (a probable
duplicate links to the existing record and is skipped), resumable chunks and an error
file beside the input. New code calls desktop.exchange.importer.run_import directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop.errors import CaptureError
from desktop.exchange.mapping import auto_mapping
from desktop.exchange.readers import Sheet, UnreadableFile
from desktop.schema import ENTITIES

if TYPE_CHECKING:
    from desktop.store import Store

MAX_REPORTED = 100


class Progress(Protocol):
    def report(self, done: int, total: int = 0, text: str = "") -> None: ...


@dataclass
class ImportResult:
    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    skipped_count: int = 0
    duplicates: int = 0
    errors_file: str | None = None


def import_csv(store: Store, progress: Progress, path: Path,
               entity: str = "account") -> ImportResult:
    """Raises CaptureError when the file cannot be read or no column names a field;
    Cancelled (from `progress.report`) after the last whole chunk."""
    from desktop.exchange.importer import run_import

    try:
        header = Sheet(path).header
    except UnreadableFile as exc:
        raise CaptureError(str(exc)) from exc
    if not auto_mapping(ENTITIES[entity], header):
        raise CaptureError(f"{path.name}: no column matches a field of "
                           f"{ENTITIES[entity].label_en} (use field names such as 'name', "
                           "'phone').")

    def report(done: int, total: int) -> None:
        progress.report(done, total)

    r: Any = run_import(store, path, entity, progress=report, restart=True, wait_index=False)
    return ImportResult(imported=r.created, skipped=[(e["line"], e["reason"]) for e in r.errors],
                        skipped_count=r.invalid, duplicates=r.skipped_duplicates,
                        errors_file=r.errors_file)
