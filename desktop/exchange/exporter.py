"""Export a list (its filter and search) or a whole entity to CSV or XLSX, streamed
from the store in bounded memory (no Qt).

CSV is UTF-8 with a BOM, so Excel shows Chinese. XLSX is written by xlsxwriter in
constant-memory mode, every text cell typed as text (never a formula), a new sheet
every 1,048,575 data rows (Excel's limit, with the header). Text cells that begin with
= + - @ (or a tab or carriage return) get a leading apostrophe in CSV, so a spreadsheet
never runs them as a formula (formula injection); the import takes it off again.

The values are formatted by SQLite in the query itself (lists joined, whole numbers
without ".0", the guard), and for CSV SQLite makes each whole line (quoting as the csv
module does), so Python only joins finished lines; a big export reads every other block
of rows on a second connection in a helper thread (another core). The file
is written beside the target and renamed when complete: a cancelled or failed export
leaves no half file. Each finished export leaves its audit entry (desktop.exchange.rights).
"""

from __future__ import annotations

import csv
import io
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.errors import Cancelled, ValidationError
from desktop.exchange import rights
from desktop.exchange.mapping import ACCOUNT_NAME, target_label
from desktop.exchange.query import ListFilter, where
from desktop.schema import ENTITIES, MERGED_INTO, Entity, FieldType

if TYPE_CHECKING:
    from desktop.store.store import Store

FORMATS = ("csv", "xlsx")
BATCH = 5000  # rids per block of rows fetched at a time
# a selection of this many rows or more is fetched on two connections (two cores)
PARALLEL_FROM = 20_000
_PRINTF_ARGS = 100  # cells per printf() call (SQLite takes at most 127 arguments)
XLSX_SHEET_ROWS = 1_048_576 - 1  # data rows per sheet (Excel's row limit, less the header)
GUARDED = "('=', '+', '-', '@', char(9), char(13))"
EXPORTABLE = ("account", "contact", "deal", "activity", "contract")

Progress = Callable[[int, int], None]


@dataclass
class ExportResult:
    rows: int
    file: str
    seconds: float
    format: str
    entity: str

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "file": self.file, "seconds": round(self.seconds, 3),
                "format": self.format, "entity": self.entity}


def _guard(expr: str) -> str:
    # every guarded first character sorts before 'A': most text (Chinese, letters) is let
    # through by one comparison (1M accounts: 3.6 -> 3.1 s of SQLite's CPU)
    return (f"CASE WHEN {expr} < 'A' AND substr({expr}, 1, 1) IN {GUARDED} "
            f"THEN '''' || {expr} ELSE {expr} END")


def _csv_cell(expr: str, guarded: bool) -> str:
    """The CSV cell of a text value as the csv module writes it (quoted when it holds a
    delimiter, a quote or a line break, its quotes doubled), the formula guard inside."""
    value = _guard(expr) if guarded else expr
    return (f"CASE WHEN instr({expr}, ',') OR instr({expr}, '\"') OR instr({expr}, char(10)) "
            f"OR instr({expr}, char(13)) THEN '\"' || replace({value}, '\"', '\"\"') || '\"' "
            f"ELSE {value} END")


@dataclass(frozen=True)
class Column:
    """An exported column: its header and its value in SQL over the entity's table `t`."""

    header: str
    expr: str
    text: bool = True  # may hold a delimiter, a quote or a line break (numbers, dates never)
    guarded: bool = False  # text a spreadsheet could run as a formula
    inner: str = ""  # FROM of a subquery that gives `expr` (a list joined, a linked name)
    present: str = ""  # that subquery runs only where this is not NULL

    def sql(self, cell: Callable[[str, bool], str] | None = None) -> str:
        """The value, or with `cell` the finished cell (`cell(expr, guarded)`)."""
        value = self.expr if cell is None or not self.text else cell(self.expr, self.guarded)
        if self.inner:
            value = f"(SELECT {value} FROM {self.inner})"
        if self.present:
            value = f"CASE WHEN {self.present} IS NOT NULL THEN {value} END"
        return value


def columns(ent: Entity, lang: str = "en") -> list[Column]:
    """Every exported column: the id, every field (custom ones included), and the linked
    account's name."""
    out = [Column("ID", "t.id")]
    for f in ent.fields:
        if f.name == MERGED_INTO:
            continue
        col = f't."{f.name}"'
        header = target_label(ent, f.name, lang)
        if f.type is FieldType.TEXT:
            out.append(Column(header, col, guarded=True))
        elif f.type is FieldType.LIST:
            out.append(Column(header, "v", guarded=True, present=col, inner=(
                f"(SELECT group_concat(value, ', ') AS v FROM json_each({col}))")))
        elif f.type is FieldType.NUMBER:
            out.append(Column(header, text=False, expr=(
                f"CASE WHEN {col} = CAST({col} AS INTEGER) AND abs({col}) < 9e15 "
                f"THEN CAST({col} AS INTEGER) ELSE {col} END")))
        elif f.type is FieldType.BOOL:
            out.append(Column(header, f"CASE {col} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END",
                              text=False))
        elif f.type in (FieldType.INTEGER, FieldType.DATE, FieldType.DATETIME):
            out.append(Column(header, col, text=False))
        else:  # a choice, a reference: not guarded, but an admin's choice may hold a comma
            out.append(Column(header, col))
        if f.name == "account_id" and ent.name != "account":
            out.append(Column(target_label(ent, ACCOUNT_NAME, lang), "a.name", guarded=True,
                              inner="account a WHERE a.id = t.account_id"))
    return out


def csv_line(cols: list[Column]) -> str:
    """SQL of a whole CSV line (CR LF at its end) made by SQLite: no tuple and no csv
    writer per row in Python; a block's lines are joined by SQLite too, in one
    sqlite3_step, which runs without the GIL (so a second connection on another core
    makes every other block at the same time)."""
    cells = [c.sql(_csv_cell) for c in cols]
    groups = (cells[i:i + _PRINTF_ARGS] for i in range(0, len(cells), _PRINTF_ARGS))
    parts = [f"printf('{','.join(['%s'] * len(g))}', {', '.join(g)})" for g in groups]
    return " || ',' || ".join(parts) + " || char(13, 10)"


@dataclass
class _Selection:
    sql: str  # the lines (CSV) or values (XLSX) of the selected records with rid in [?, ?)
    params: list[Any]
    total: int
    rids: tuple[int, int]  # the table's lowest and highest rid


def _select(store: Store, ent: Entity, flt: ListFilter, what: str,
            joined: bool = False) -> _Selection:
    cond, params = where(store, ent, flt)
    sql_where = "t.deleted = 0" + (f" AND ({cond})" if cond else "")
    table = f'"{ent.name}"'
    total = int(store.conn.execute(
        f"SELECT count(*) FROM {table} t WHERE {sql_where}", params).fetchone()[0])
    low, high = store.conn.execute(f"SELECT min(rid), max(rid) FROM {table}").fetchone()
    sql = f"SELECT {what} FROM {table} t WHERE {sql_where} AND t.rid >= ? AND t.rid < ? " \
          "ORDER BY t.rid"
    if joined:  # a block's lines as one text: one sqlite3_step, without the GIL, a block;
        # as a BLOB, SQLite's UTF-8 goes to the file as it is (no decode and encode again)
        sql = f"SELECT CAST(ifnull(group_concat(line, ''), '') AS BLOB), count(*) FROM ({sql})"
    return _Selection(sql, params, total, (low or 0, high if high is not None else -1))


class _Helper(threading.Thread):
    """Every other block of rids on a connection of its own (another core: SQLite runs
    without the GIL), handed over in order through a short queue (bounded memory)."""

    def __init__(self, connect: Callable[[], Any], sel: _Selection,
                 blocks: list[tuple[int, int]]) -> None:
        super().__init__(name="export-helper", daemon=True)
        self.connect, self.sel, self.blocks = connect, sel, blocks
        self.out: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        try:
            conn = self.connect()
            conn.row_factory = None
            conn.execute("BEGIN")  # one read snapshot for all its blocks
            for low, high in self.blocks:
                rows = conn.execute(self.sel.sql, (*self.sel.params, low, high)).fetchall()
                if not self._put(rows):
                    return
        except BaseException as exc:  # raised in the exporting thread (`take`)
            self._put(exc)
        finally:
            if conn is not None:
                conn.close()

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take(self) -> list[tuple[Any, ...]]:
        item = self.out.get()
        if isinstance(item, BaseException):
            raise item
        return list(item)


def _blocks(store: Store, sel: _Selection,
            parallel: bool) -> Generator[list[tuple[Any, ...]], None, None]:
    """The selected rows, a block of BATCH rids at a time, in rid order; with `parallel`
    every other block comes from a helper thread."""
    low, high = sel.rids
    blocks = [(b, b + BATCH) for b in range(low, high + 1, BATCH)]
    helper = None
    if parallel and len(blocks) > 1:
        helper = _Helper(store.connector(), sel, blocks[1::2])
        helper.start()
    cur = store.conn.cursor()
    cur.row_factory = None
    try:
        for i, (b_low, b_high) in enumerate(blocks):
            if helper is not None and i % 2:
                yield helper.take()
            else:
                yield cur.execute(sel.sql, (*sel.params, b_low, b_high)).fetchall()
    finally:
        cur.close()
        if helper is not None:
            helper.stop.set()
            helper.join()


def export(store: Store, entity: str, out: Path, *, fmt: str | None = None,
           flt: ListFilter | None = None, lang: str = "en", progress: Progress | None = None,
           cancelled: Callable[[], bool] | None = None,
           sheet_rows: int = XLSX_SHEET_ROWS) -> ExportResult:
    """Write the records of `entity` that `flt` selects to `out`. Raises ExportNotAllowed
    when the role may not export, Cancelled when `cancelled()` says so (no file is left),
    ValidationError for a bad format, filter or an unwritable file."""
    started = time.perf_counter()
    if entity not in EXPORTABLE:
        raise ValidationError(f"Export writes {', '.join(EXPORTABLE)}, not '{entity}'.")
    out = Path(out)
    fmt = fmt or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    if fmt not in FORMATS:
        raise ValidationError(f"The format is csv or xlsx, not '{fmt}'.", field="format")
    rights.check_may_export(store)
    flt = flt or ListFilter()
    ent = ENTITIES[entity]
    cols = columns(ent, lang)
    part = out.with_name(out.name + ".part")
    done = 0
    conn = store.conn
    snapshot = not conn.in_transaction  # the count and every block read one state of the book
    if snapshot:
        conn.execute("BEGIN")
    try:
        if fmt == "csv":
            sel = _select(store, ent, flt, f"{csv_line(cols)} AS line", joined=True)
        else:
            sel = _select(store, ent, flt, ", ".join(c.sql() for c in cols))
        # CSV only: XLSX rows are made in Python, where two threads would wait on each
        # other. A search's hits are in this connection's temporary table: such a
        # selection (SEARCH_LIMIT at most) stays on this connection.
        batches = _blocks(store, sel, parallel=fmt == "csv" and not flt.search
                          and sel.total >= PARALLEL_FROM)

        def counted() -> Iterator[list[tuple[Any, ...]]]:
            nonlocal done
            for batch in batches:
                if cancelled is not None and cancelled():
                    raise Cancelled("Export cancelled.")
                yield batch
                done += batch[0][1] if fmt == "csv" else len(batch)
                if progress is not None:
                    progress(done, sel.total)

        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if fmt == "csv":
                with part.open("wb") as fh:
                    head = io.StringIO()
                    csv.writer(head, lineterminator="\r\n").writerow([c.header for c in cols])
                    fh.write(("\ufeff" + head.getvalue()).encode())
                    for batch in counted():
                        fh.write(batch[0][0])
            else:
                write_xlsx_rows(part, _chain([c.header for c in cols], counted()),
                                sheet_rows=sheet_rows, title=ent.label(lang))
            os.replace(part, out)
        except OSError as exc:
            raise ValidationError(f"{out} cannot be written ({exc.strerror}).") from exc
        finally:
            batches.close()  # its cursor and helper, on this thread (also on a cancel)
            if part.exists():
                part.unlink()
    finally:
        if snapshot and conn.in_transaction:
            conn.execute("COMMIT")
    rights.log_export(store, entity, fmt, flt.as_json(), done, out.name)
    return ExportResult(done, str(out), time.perf_counter() - started, fmt, entity)


def _chain(header: list[str], batches: Iterable[list[tuple[Any, ...]]]) -> Iterator[Any]:
    yield header
    for batch in batches:
        yield from batch


def write_xlsx_rows(path: Path, rows: Iterable[Iterable[Any]], *,
                    sheet_rows: int = XLSX_SHEET_ROWS, title: str = "Sheet") -> int:
    """Write rows (the first is the header, repeated on every sheet) to an XLSX file in
    constant memory; strings are always text cells. Returns the data rows written."""
    import xlsxwriter

    from desktop.exchange.xlsx_rows import SheetRows

    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "use_zip64": True})
    it = iter(rows)
    header = list(next(it, []))
    sheets: list[SheetRows] = []
    r = sheet_rows  # start a sheet at the first row
    written = 0
    base = title[:25].replace("/", "_") or "Sheet"

    def new_sheet() -> None:
        n = len(sheets) + 1
        sheets.append(SheetRows(wb.add_worksheet(base if n == 1 else f"{base} {n}")))
        sheets[-1].append([str(h) for h in header])

    try:
        for row in it:
            if r >= sheet_rows:
                new_sheet()
                r = 0
            r += 1
            sheets[-1].append(row)
            written += 1
        if not sheets:
            new_sheet()
        for sheet in sheets:
            sheet.close()
    finally:
        wb.close()
    return written
