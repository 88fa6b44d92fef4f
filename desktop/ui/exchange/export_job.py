"""Export the list on screen in the background (ctx.run_task, its own store connection:
a read snapshot that never holds up the rep's edits), with a progress bar and Cancel in
the status bar; several exports may run at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop.exchange.exporter import EXPORTABLE
from desktop.exchange.query import ListFilter
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.ui.common.jobs import BackgroundTask
    from desktop.ui.common.window import MainWindow

register_catalog({
    "Import…": "导入…", "Export current list…": "导出当前列表…",
    "Export {entity}": "导出{entity}", "Exporting {entity}: {n} rows": "正在导出{entity}：{n} 行",
    "Exported {n} rows to {file}.": "已导出 {n} 行到 {file}。",
    "Export cancelled.": "导出已取消。",
    "This list cannot be exported; open Accounts, Contacts, Deals or Activities.":
        "此列表无法导出；请打开客户、联系人、商机或活动列表。",
    "CSV, UTF-8 (*.csv)": "CSV，UTF-8（*.csv）",
    "Excel workbook (*.xlsx)": "Excel 工作簿（*.xlsx）",
    "Account": "客户", "Contact": "联系人", "Deal": "商机", "Activity": "活动",
    "Contract": "合同",
})


class ExportProgress(QWidget):
    """One running export in the status bar: what, how far, Cancel."""

    def __init__(self, text: str, cancel_text: str) -> None:
        super().__init__()
        self.setObjectName("export_progress")
        self.label = QLabel(text)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(160)
        self.cancel = QPushButton(cancel_text)
        self.cancel.setObjectName("export_cancel")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel)


class ExportUi:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.ctx = window.ctx
        self.tasks: list[BackgroundTask] = []
        self.last_result: Any = None

    def current_entity(self) -> str | None:
        """The entity of the list on screen (a records view has `.entity`)."""
        tabs = getattr(self.window, "tabs", None)
        view = tabs.currentWidget() if tabs is not None else None
        entity = getattr(view, "entity", None)
        return entity if entity in EXPORTABLE else None

    def current_filter(self) -> ListFilter:
        """The list's filter where the view offers one (`list_filter()`), else all."""
        tabs = getattr(self.window, "tabs", None)
        view = tabs.currentWidget() if tabs is not None else None
        get = getattr(view, "list_filter", None)
        flt = get() if callable(get) else None
        return flt if isinstance(flt, ListFilter) else ListFilter()

    def choose_and_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        entity = self.current_entity()
        tr = self.ctx.tr
        if entity is None:
            self.window.show_message(tr(
                "This list cannot be exported; open Accounts, Contacts, Deals or Activities."))
            return
        name = f"{entity}-{dt.date.today().isoformat()}.csv"
        path, chosen = QFileDialog.getSaveFileName(
            self.window, tr("Export {entity}", entity=tr(entity.title())), name,
            f"{tr('CSV, UTF-8 (*.csv)')};;{tr('Excel workbook (*.xlsx)')}")
        if path:
            fmt = "xlsx" if path.lower().endswith(".xlsx") or "xlsx" in chosen else "csv"
            if fmt == "xlsx" and not path.lower().endswith(".xlsx"):
                path += ".xlsx"
            self.export(entity, Path(path), fmt, self.current_filter())

    def export(self, entity: str, path: Path, fmt: str = "csv",
               flt: ListFilter | None = None) -> BackgroundTask:
        tr = self.ctx.tr
        profile, lang, flt = self.ctx.profile, self.ctx.lang, flt or ListFilter()
        label = tr(entity.title())
        widget = ExportProgress(tr("Exporting {entity}: {n} rows", entity=label, n=0),
                                tr("Cancel"))
        self.window.statusBar().addPermanentWidget(widget)

        def work(task: BackgroundTask) -> Any:
            from desktop.exchange.exporter import export
            from desktop.store import Store

            store = Store.open(profile)  # this thread's own connection
            try:
                return export(store, entity, path, fmt=fmt, flt=flt, lang=lang,
                              progress=lambda d, t: task.report(d / t if t else 1.0, str(d)),
                              cancelled=task.cancelled)
            finally:
                store.close()

        def progressed(fraction: float, text: str) -> None:
            if shiboken6.isValid(widget):
                widget.bar.setValue(int(fraction * 1000))
                widget.label.setText(tr("Exporting {entity}: {n} rows", entity=label,
                                        n=f"{int(text or 0):,}"))

        def finish() -> None:
            if shiboken6.isValid(widget):
                self.window.statusBar().removeWidget(widget)
                widget.deleteLater()

        def done(result: Any) -> None:
            finish()
            self.last_result = result
            self.window.show_message(tr("Exported {n} rows to {file}.", n=f"{result.rows:,}",
                                        file=Path(result.file).name))

        def failed(exc: BaseException) -> None:
            from desktop.errors import Cancelled

            finish()
            self.last_result = exc
            if isinstance(exc, Cancelled):
                self.window.show_message(tr("Export cancelled."))
            else:
                self.ctx.show_error(exc)

        task = self.ctx.run_task(work, on_done=done, on_error=failed, on_progress=progressed,
                                 name=f"export-{entity}")
        widget.cancel.clicked.connect(task.cancel)
        self.tasks.append(task)
        return task
