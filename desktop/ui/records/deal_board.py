"""The deals pipeline board: one lazy column per stage (desktop.schema.STAGES).

A card shows title, amount and account. Move a card to another stage by dragging it
onto that column or with its context menu ("Move to ▸").

A move can be refused: `board.stage_checks` holds functions
`check(store, deal, new_stage, lang) -> list[str]` (run on the store worker before the
move; the follow-up feature adds desktop.followup.pipeline.check_stage_move).
When one returns reasons the deal stays where it was and the board shows them above the
columns; a refusal is never silent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.records_summary import NO_OWNER, StageTotal, deal_owners, owner_where, stage_totals
from desktop.schema import STAGES
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import amount
from desktop.ui.records.lazy_model import Column, RecordRole, RecordTableModel

if TYPE_CHECKING:
    from desktop.store import Changes, Store


StageCheck = Callable[["Store", dict[str, Any], str, str], list[str]]

DEAL_MIME = "application/x-fieldcrm-deal"
CARD_HEIGHT = 70
COLUMN_MIN_WIDTH = 165
STAGE_COLOURS = {"lead": "#90a4ae", "qualified": "#4fc3f7", "proposal": "#7986cb",
                 "negotiation": "#ffb74d", "legal_review": "#ba68c8", "won": "#66bb6a",
                 "lost": "#e57373"}
AnyIndex = QModelIndex | QPersistentModelIndex


def stage_filter(stage: str, owner: str | None = None) -> tuple[str, tuple[str, ...]]:
    """SQL for a stage column (and the owner filter); deals without a stage sit with the
    leads."""
    where, params = ("(stage = ? OR stage IS NULL)", (stage,)) if stage == STAGES[0] \
        else ("stage = ?", (stage,))
    owned, owner_params = owner_where(owner)
    if owned:
        return f"{where} AND {owned}", (*params, *owner_params)
    return where, params


class DealCardModel(RecordTableModel):
    """Deals of one stage; cards can be dragged out of it."""

    def __init__(self, ctx: AppContext, stage: str, parent: QObject | None = None) -> None:
        where, params = stage_filter(stage)
        super().__init__(ctx, "deal", where=where, params=params,
                         columns=(Column("title"),), page_size=100, parent=parent)
        self.stage = stage

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [DEAL_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        if indexes:
            rid = self.record(indexes[0].row())["id"]
            data.setData(DEAL_MIME, QByteArray(rid.encode()))
        return data

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class CardDelegate(QStyledItemDelegate):
    """Paints a deal as a card: title (bold), amount, account; long text elided."""

    def __init__(self, ctx: AppContext, stage: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.colour = QColor(STAGE_COLOURS.get(stage, "#90a4ae"))

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return QSize(10, CARD_HEIGHT)  # as wide as the column; text elides

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        rec: dict[str, Any] = index.data(RecordRole) or {}
        rect: QRect = option.rect.adjusted(4, 3, -4, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor("#1976d2") if selected else QColor("#d0d7de"))
        painter.setBrush(QColor("#e3f2fd") if selected else QColor("#ffffff"))
        painter.drawRoundedRect(rect, 6, 6)
        painter.fillRect(QRect(rect.left(), rect.top() + 4, 4, rect.height() - 8), self.colour)
        inner = rect.adjusted(12, 6, -8, -6)
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        lines = [(bold, str(rec.get("title") or ""), "#1f2328"),
                 (base, amount(rec.get("amount"), rec.get("currency")), "#2e7d32"),
                 (base, str(rec.get("_account") or ""), "#57606a")]
        y = inner.top()
        for font, text, colour in lines:
            metrics = QFontMetrics(font)
            painter.setFont(font)
            painter.setPen(QColor(colour))
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, inner.width())
            painter.drawText(QRect(inner.left(), y, inner.width(), metrics.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
            y += metrics.height() + 1
        painter.restore()


class StageList(QListView):
    """One board column's list; accepts deal cards dropped from other columns."""

    dropped = Signal(str, str)  # deal id, stage

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage
        self.setObjectName(f"stage_{stage}")
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformItemSizes(True)
        self.setSpacing(1)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(DEAL_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(DEAL_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.take_drop(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def take_drop(self, data: QMimeData) -> bool:
        """Move the deal carried by `data` to this column's stage."""
        if not data.hasFormat(DEAL_MIME):
            return False
        rid = bytes(data.data(DEAL_MIME).data()).decode()
        self.dropped.emit(rid, self.stage)
        return True


def move_op(deal_id: str, stage: str, checks: Sequence[StageCheck] = (),
            lang: str = "en") -> Callable[[Store], list[str]]:
    """Move a deal unless a check refuses; returns the reasons it was refused ([] = moved)."""
    def op(store: Store) -> list[str]:
        if checks:
            deal = store.repo("deal").get(deal_id)
            reasons = [r for check in checks for r in check(store, deal, stage, lang)]
            if reasons:
                return reasons
        store.repo("deal").update(deal_id, {"stage": stage})  # restarts the stage clock
        return []
    return op


class DealBoard(QWidget):
    """The pipeline board."""

    edit_requested = Signal(dict)
    delete_requested = Signal(dict)
    new_requested = Signal()
    move_blocked = Signal(str)  # why a move was refused (also shown on the board)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("deal_board")
        self.stage_checks: list[StageCheck] = []
        self.models: dict[str, DealCardModel] = {}
        self.lists: dict[str, StageList] = {}
        self.headers: dict[str, QLabel] = {}
        self.empty_labels: dict[str, QLabel] = {}
        row = QHBoxLayout()
        row.setSpacing(8)
        for stage in STAGES:
            model = DealCardModel(ctx, stage, self)
            view = StageList(stage)
            view.setModel(model)
            view.setItemDelegate(CardDelegate(ctx, stage, view))
            view.dropped.connect(self.move_deal)
            view.doubleClicked.connect(
                lambda i, m=model: self.edit_requested.emit(m.record(i.row())))
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda p, v=view: self._menu(v, p))
            header = QLabel()
            header.setObjectName(f"stage_header_{stage}")
            header.setWordWrap(True)
            header.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            header.setMinimumHeight(header.fontMetrics().lineSpacing() * 3 + 16)
            header.setStyleSheet("padding: 6px; "
                                 f"border-bottom: 3px solid {STAGE_COLOURS[stage]};")
            empty = QLabel(ctx.tr("No deals in this stage.\nDrag a card here to move it."))
            empty.setWordWrap(True)
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setStyleSheet("color: #888; padding: 8px;")
            empty.hide()
            col = QWidget()
            col.setMinimumWidth(COLUMN_MIN_WIDTH)
            box = QVBoxLayout(col)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(header)
            box.addWidget(empty)
            box.addWidget(view, 1)
            row.addWidget(col, 1)
            self.models[stage] = model
            self.lists[stage] = view
            self.headers[stage] = header
            self.empty_labels[stage] = empty
            model.loaded.connect(lambda s=stage: self._update_column(s))
            self._update_column(stage)
        host = QWidget()
        host.setLayout(row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(host)
        layout = QVBoxLayout(self)
        self.hint = QLabel(ctx.tr("Drag a card to another stage, or right-click it to move it."))
        self.hint.setStyleSheet("color: #666;")
        self.empty = QLabel(ctx.tr("No deals yet.\nPress Ctrl+N to record an opportunity."))
        self.empty.setObjectName("empty_deal")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #666; font-size: 15px; padding: 16px;")
        self.empty.hide()
        self.blocked = QLabel()
        self.blocked.setObjectName("move_blocked")
        self.blocked.setWordWrap(True)
        self.blocked.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.blocked_bar = QWidget()
        self.blocked_bar.setObjectName("move_blocked_bar")
        dismiss = QToolButton()
        dismiss.setText("×")
        dismiss.setToolTip(ctx.tr("Dismiss"))
        dismiss.setAutoRaise(True)
        dismiss.clicked.connect(self.blocked_bar.hide)
        self.blocked_bar.setStyleSheet(
            "#move_blocked_bar { background: #fff4e5; border: 1px solid #f0b429; "
            "border-radius: 4px; } #move_blocked { color: #7a4100; }")
        bar = QHBoxLayout(self.blocked_bar)
        bar.setContentsMargins(10, 6, 4, 6)
        bar.addWidget(self.blocked, 1)
        bar.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.blocked_bar.hide()
        self.owner: str | None = None  # the owner filter: None = everyone, NO_OWNER, a name
        self.totals: dict[str, StageTotal] = {}
        self.owner_label = QLabel(ctx.tr("Owner:"))
        self.owner_combo = QComboBox()
        self.owner_combo.setObjectName("owner_filter")
        self.owner_combo.setMinimumWidth(160)
        self.owner_combo.currentIndexChanged.connect(self._owner_picked)
        self._set_owner_choices([])
        top = QHBoxLayout()
        top.addWidget(self.hint, 1)
        top.addWidget(self.owner_label)
        top.addWidget(self.owner_combo)
        layout.addLayout(top)
        layout.addWidget(self.blocked_bar)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        for model in self.models.values():
            model.start()
        self.load_totals()

    def refresh(self) -> None:
        for model in self.models.values():
            model.reload()
        self.load_totals()

    # ------------------------------------------------------------ totals, owner filter
    def load_totals(self) -> None:
        owner = self.owner

        def op(store: Store) -> tuple[dict[str, StageTotal], list[str]]:
            return stage_totals(store, owner), deal_owners(store)

        self.ctx.run(op, on_done=lambda r: self._got_totals(owner, *r))
        if not getattr(self, "_listening", False):
            self._listening = True
            self.ctx.operation_did_execute.connect(self._on_changes)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.isVisible() and touches(changes, ("deal",)):
            self.load_totals()

    def _got_totals(self, owner: str | None, totals: dict[str, StageTotal],
                    owners: list[str]) -> None:
        if owner != self.owner:
            return
        self.totals = totals
        self._set_owner_choices(owners)
        for stage in STAGES:
            self._update_column(stage)

    def _set_owner_choices(self, owners: list[str]) -> None:
        combo = self.owner_combo
        have = [combo.itemData(i) for i in range(combo.count())]
        want = [None, NO_OWNER, *owners]
        if self.owner not in want:
            want.append(self.owner)
        if have == want:
            return
        combo.blockSignals(True)
        combo.clear()
        for value in want:
            text = (self.ctx.tr("All owners") if value is None else
                    self.ctx.tr("No owner") if value == NO_OWNER else value)
            combo.addItem(text, value)
        combo.setCurrentIndex(want.index(self.owner))
        combo.blockSignals(False)

    def _owner_picked(self, index: int) -> None:
        self.set_owner(self.owner_combo.itemData(index))

    def set_owner(self, owner: str | None) -> None:
        """Show only the deals of `owner` (None: everyone; NO_OWNER: deals without one)."""
        if owner == self.owner:
            return
        self.owner = owner
        for stage, model in self.models.items():
            model.set_filter(*stage_filter(stage, owner))
        self.load_totals()

    def _update_column(self, stage: str) -> None:
        model = self.models[stage]
        n = model.rowCount()
        total = getattr(self, "totals", {}).get(stage)
        count = str(total.count) if total is not None else \
            f"{n}{'' if model.exhausted else '+'}"
        lines = total.lines() if total is not None else []
        money = "<br>".join(lines) if lines else (
            self.ctx.tr("no amount") if total is not None and total.count else "")
        self.headers[stage].setText(
            f"<b>{self.ctx.translator.choice(stage)}  ({count})</b>"
            + (f"<br><span style='color:#2e7d32'>{money}</span>" if money else ""))
        empty = n == 0 and model.exhausted
        self.empty_labels[stage].setVisible(empty)
        if hasattr(self, "empty"):
            nothing = all(m.exhausted and m.rowCount() == 0 for m in self.models.values())
            self.empty.setVisible(nothing)
            self.hint.setVisible(not nothing)

    def current_record(self) -> dict[str, Any] | None:
        for view in self.lists.values():
            if view.hasFocus() or view.selectionModel().hasSelection():
                rows = view.selectionModel().selectedIndexes()
                if rows:
                    model = self.models[view.stage]
                    return model.record(rows[0].row())
        return None

    def move_deal(self, deal_id: str, stage: str) -> None:
        """Change a deal's stage (in the background); the columns refresh from the change.
        When a stage check refuses, the deal stays and the board says what is missing."""
        self.ctx.run(move_op(deal_id, stage, tuple(self.stage_checks), self.ctx.lang),
                     on_done=self._moved, initiator=self)

    def _moved(self, reasons: list[str]) -> None:
        if not reasons:
            self.blocked_bar.hide()
            return
        text = "\n".join(reasons)
        self.blocked.setText(text)
        self.blocked_bar.show()
        self.move_blocked.emit(text)

    def _menu(self, view: StageList, pos: QPoint) -> None:
        index = view.indexAt(pos)
        if not index.isValid():
            return
        rec = self.models[view.stage].record(index.row())
        menu = QMenu(self)
        move = menu.addMenu(self.ctx.tr("Move to"))
        for stage in STAGES:
            if stage != view.stage:
                move.addAction(self.ctx.translator.choice(stage),
                               partial(self.move_deal, rec["id"], stage))
        menu.addAction(self.ctx.tr("Edit…"), lambda: self.edit_requested.emit(rec))
        menu.addAction(self.ctx.tr("Delete"), lambda: self.delete_requested.emit(rec))
        menu.popup(view.viewport().mapToGlobal(pos))
