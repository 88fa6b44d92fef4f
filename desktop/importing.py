"""Bulk import of records from a CSV file (no Qt): a background op that validates each
row, imports good rows in chunks (each chunk commits with its journal entries),
reports progress, stops when cancelled, and lists the rows it skipped and why."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop.errors import CaptureError, ValidationError
from desktop.schema import ENTITIES, Entity, validate_changes

if TYPE_CHECKING:
    from desktop.store import Store

CHUNK = 1000
REPORT_EVERY = 500
MAX_REPORTED = 200


class Progress(Protocol):
    def report(self, done: int, total: int = 0, text: str = "") -> None: ...


@dataclass
class ImportResult:
    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    skipped_count: int = 0


def column_map(ent: Entity, header: list[str]) -> dict[str, str]:
    """CSV column -> field name; columns may be named by field name or either label."""
    names: dict[str, str] = {}
    for f in ent.fields:
        for key in (f.name, f.label_en, f.label_zh):
            names[key.strip().lower()] = f.name
    return {col: names[col.strip().lower()] for col in header if col.strip().lower() in names}


def read_rows(path: Path, ent: Entity) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, values) for each data row; raises CaptureError if unreadable."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            mapping = column_map(ent, list(reader.fieldnames or []))
            if not mapping:
                raise CaptureError(f"{path.name}: no column matches a field of {ent.label_en} "
                                   "(use field names such as 'name', 'phone').")
            for row in reader:
                values = {mapping[c]: (v or "").strip() for c, v in row.items()
                          if c in mapping and v and v.strip()}
                yield reader.line_num, values
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CaptureError(f"{path.name} could not be read as a UTF-8 CSV file ({exc}).") from exc


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return max(sum(1 for _ in fh) - 1, 0)
    except OSError:
        return 0


def import_csv(store: Store, progress: Progress, path: Path,
               entity: str = "account") -> ImportResult:
    from desktop.store.indexer import INLINE_MAX, build_in_background

    ent = ENTITIES[entity]
    repo = store.repo(entity)
    total = count_lines(path)
    result = ImportResult()
    chunk: list[dict[str, Any]] = []
    done = 0

    def flush(last: bool = False) -> None:
        if chunk:
            # Searchable by name at once; by pinyin and phone once the index builder's
            # process, beside the import, has built them (desktop.store.indexer).
            result.imported += repo.import_many(chunk, index=False)
            chunk.clear()
        if last or store.search_backlog() > INLINE_MAX:  # a small rest: built at once
            build_in_background(store)
        progress.report(done, total)

    for line, values in read_rows(path, ent):
        done += 1
        try:
            required = {f.name: values.get(f.name) for f in ent.fields if f.required}
            validate_changes(ent, {**required, **values})
            chunk.append(values)
        except ValidationError as exc:
            result.skipped_count += 1
            if len(result.skipped) < MAX_REPORTED:
                result.skipped.append((line, str(exc)))
        if len(chunk) >= CHUNK:
            flush()
        elif done % REPORT_EVERY == 0:
            progress.report(done, total)
    flush(last=True)
    return result
