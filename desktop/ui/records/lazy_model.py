"""Lazy record tables that stay instant at a million rows.

`RecordTableModel` holds only the rows fetched so far (a row cache of plain dicts)
and asks the store worker for the next keyset page (`repo.page(after=key, limit=200)`)
when the view scrolls near the end (`canFetchMore`/`fetchMore`). Pages come back
through the AppContext; a page that arrives after a reload is dropped (generation
counter). When the store says this entity changed, the model re-reads the rows it had
and resets, keeping what the view needs to restore its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from desktop.errors import NotFoundError
from desktop.finance import money
from desktop.schema import ENTITIES, Entity, FieldType
from desktop.store.visibility import unreadable_in
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import amount, display_value, local_time
from desktop.visibility import HIDDEN

if TYPE_CHECKING:
    from desktop.store import Changes, Store

PAGE_SIZE = 200
RELOAD_CAP = 2000  # rows re-read after a change; deeper rows are fetched again on scroll
IdRole = Qt.ItemDataRole.UserRole + 1
RecordRole = Qt.ItemDataRole.UserRole + 2

AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str  # a field name, or "_account" (the related account's name)
    header_en: str = ""  # for non-field columns; fields use their schema labels


COLUMNS: dict[str, tuple[Column, ...]] = {
    "account": (Column("name"), Column("industry"), Column("region"), Column("lifecycle"),
                Column("phone"), Column("owner"), Column("updated_at", "Last changed")),
    "contact": (Column("name"), Column("title"), Column("_account", "Account"),
                Column("phones"), Column("email"), Column("wechat")),
    "deal": (Column("title"), Column("_account", "Account"), Column("stage"),
             Column("amount"), Column("close_date"), Column("owner")),
    "activity": (Column("subject"), Column("kind"), Column("due_at"), Column("done_at"),
                 Column("_account", "Account"), Column("outcome")),
    "payment": (Column("_target", "Deal or contract"), Column("kind"), Column("amount"),
                Column("date"), Column("method"), Column("invoice_no")),
}


def attach_account_names(store: Store, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put the account name of each record's account_id into rec["_account"] (worker side)."""
    accounts = store.repo("account")
    names: dict[str, str] = {}
    for rec in recs:
        aid = rec.get("account_id")
        if aid and aid not in names:
            try:
                names[aid] = accounts.get(aid).get("name") or ""
            except NotFoundError:
                names[aid] = ""
        rec["_account"] = names.get(aid, "") if aid else ""
    return recs


def fetch_page(entity: str, after: tuple[str, int] | None, limit: int, where: str,
               params: Sequence[Any]) -> Callable[[Store], list[dict[str, Any]]]:
    """The worker-side op: one keyset page, with account names for related records."""
    def op(store: Store) -> list[dict[str, Any]]:
        rows = store.repo(entity).page(after=after, limit=limit, where=where, params=params)
        if ENTITIES[entity].has_field("account_id"):
            attach_account_names(store, rows)
        if entity == "payment":  # the deal's title, else the contract's number and party
            from desktop.finance import attach_targets

            attach_targets(store, rows)
        return rows
    return op


class RecordTableModel(QAbstractTableModel):
    """A lazily filled table of one entity's live records, in list order (repo.page)."""

    loaded = Signal()  # after each page (and after a reload)
    reloaded = Signal()  # after a reset caused by a change
    columns_changed = Signal()  # custom fields added, retired or restored

    def __init__(self, ctx: AppContext, entity: str, *, where: str = "",
                 params: Sequence[Any] = (), columns: Sequence[Column] | None = None,
                 page_size: int = PAGE_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entity_name = entity
        self.entity: Entity = ENTITIES[entity]
        self.where = where
        self.params = tuple(params)
        self._auto_columns = columns is None  # the default set grows with custom fields
        self._fixed = tuple(columns or COLUMNS[entity])
        self.columns = self._shown_columns()
        self.page_size = page_size
        self.rows: list[dict[str, Any]] = []
        self.exhausted = False
        self.fetching = False
        self.started = False
        self._generation = 0
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(self._on_language)

    # ------------------------------------------------------------ Qt model API
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        rec = self.rows[index.row()]
        if role == IdRole:
            return rec["id"]
        if role == RecordRole:
            return rec
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cell_text(rec, self.columns[index.column()])
        if (role == Qt.ItemDataRole.TextAlignmentRole and self.entity_name == "payment"
                and self.columns[index.column()].key == "amount"):  # money lines up
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        col = self.columns[section]
        if self.entity.has_field(col.key):
            return self.entity.field(col.key).label(self.ctx.lang)
        return self.ctx.tr(col.header_en or col.key)

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid():
            return False
        return not self.exhausted and not self.fetching

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self.exhausted or self.fetching:
            return
        self.started = True
        self.fetching = True
        after = self.rows[-1]["_key"] if self.rows else None
        gen = self._generation
        self.ctx.run(fetch_page(self.entity_name, after, self.page_size, self.where, self.params),
                     on_done=partial(self._got_page, gen), on_error=partial(self._failed, gen))

    # ------------------------------------------------------------ rows
    def cell_text(self, rec: dict[str, Any], col: Column) -> str:
        value = rec.get(col.key)
        if col.key in ("created_at", "updated_at"):
            return local_time(value)
        if col.key == "amount" and self.entity_name == "payment" and value is not None:
            return f"{rec.get('currency') or 'CNY'} {money(value):,.2f}"  # exact, to the cent
        if col.key == "amount":
            return amount(value, rec.get("currency"))
        if self.entity.has_field(col.key):
            f = self.entity.field(col.key)
            if f.type is FieldType.DATETIME and rec.get("time_zone"):
                return local_time(value, rec.get("time_zone"), self.ctx.lang)
            return display_value(f, value, self.ctx.translator)
        return "" if value is None else str(value)

    def record(self, row: int) -> dict[str, Any]:
        return self.rows[row]

    def row_of(self, record_id: str) -> int:
        for i, rec in enumerate(self.rows):
            if rec["id"] == record_id:
                return i
        return -1

    def start(self) -> None:
        """Fetch the first page (views call this once they are shown)."""
        if not self.started:
            self.fetchMore()

    def reload(self) -> None:
        """Re-read the rows loaded so far (up to RELOAD_CAP) in one op, then reset."""
        self._generation += 1
        gen = self._generation
        self.started = True
        self.fetching = True
        want = max(self.page_size, min(len(self.rows), RELOAD_CAP))
        self.ctx.run(fetch_page(self.entity_name, None, want, self.where, self.params),
                     on_done=partial(self._got_reload, gen, want),
                     on_error=partial(self._failed, gen))

    def set_filter(self, where: str, params: Sequence[Any]) -> None:
        self.where, self.params = where, tuple(params)
        self._generation += 1
        self.beginResetModel()
        self.rows = []
        self.exhausted = False
        self.fetching = False
        self.endResetModel()
        self.fetchMore()

    def _got_page(self, gen: int, rows: list[dict[str, Any]]) -> None:
        if gen != self._generation:
            return  # a reload happened meanwhile: this page is stale
        self.fetching = False
        n = len(rows)
        if n < self.page_size:
            self.exhausted = True
        if n <= 0:
            self.loaded.emit()
            return
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + n - 1)
        self.rows.extend(rows)
        self.endInsertRows()
        self.loaded.emit()

    def _got_reload(self, gen: int, want: int, rows: list[dict[str, Any]]) -> None:
        if gen != self._generation:
            return
        self.fetching = False
        self.beginResetModel()
        self.rows = rows
        self.exhausted = len(rows) < want
        self.endResetModel()
        self.reloaded.emit()
        self.loaded.emit()

    def _failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._generation:
            self.fetching = False
            self.exhausted = True  # do not hammer a failing store; F5 retries
        self.ctx.show_error(exc)

    def _shown_columns(self) -> tuple[Column, ...]:
        """The fixed columns and the custom fields' ones, without the fields hidden from
        this user (desktop.visibility: a hidden field is simply not there)."""
        hidden = {n for n, how in unreadable_in(self.ctx.profile, self.entity_name).items()
                  if how == HIDDEN}
        return tuple(c for c in self._fixed + self._custom_columns() if c.key not in hidden)

    def _custom_columns(self) -> tuple[Column, ...]:
        """A column per custom field made by an admin (retired ones left out; the list's
        column chooser hides the others it is told to)."""
        if not self._auto_columns:
            return ()
        return tuple(Column(f.name) for f in self.entity.fields if f.from_def and not f.retired)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        columns = self._shown_columns()
        if columns != self.columns:  # field definitions changed (desktop.store.fielddefs)
            self.beginResetModel()
            self.columns = columns
            self.endResetModel()
            self.columns_changed.emit()
        watched = [self.entity_name, *(["account"] if self.entity.has_field("account_id") else []),
                   *(["deal", "contract"] if self.entity_name == "payment" else [])]
        touched = touches(changes, watched)
        if touched and self.started:
            self.reload()

    def _on_language(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.rows) - 1, len(self.columns) - 1))
