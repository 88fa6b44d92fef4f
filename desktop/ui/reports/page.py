"""The Reports tab: choose a report and its period, see bars and a table, drill down."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QMarginsF, QObject, QPoint, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.reports import DEFAULT_WEEKS, NAMES, Report, ReportFilter, default_period
from desktop.reports import view as rv
from desktop.schema import CURRENCIES, ENTITIES
from desktop.timezones import now_in
from desktop.ui.common.context import AppContext
from desktop.ui.common.formatting import viewer_zone
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.qt_time import qdate
from desktop.ui.common.window import MainWindow
from desktop.ui.reports.chart import BarChart
from desktop.ui.reports.heatmap import HeatMap

CONTEXT = "reports"
register_catalog({
    "Reports": "报表", "Report": "报表", "From": "从", "To": "到", "Owners": "负责人",
    "Currency": "币种", "Show": "显示", "Print to PDF…": "打印为 PDF…",
    "Export…": "导出…",
    "all owners (or names, comma-separated)": "全部负责人（或输入姓名，逗号分隔）",
    "No records in this period.": "此期间没有记录。",
    "Records behind: {what}": "明细：{what}", "{n} records": "{n} 条记录",
    "Showing the first {n}.": "仅显示前 {n} 条。", "Total": "合计",
    "Saved {path}": "已保存 {path}", "Receivables ageing": "应收账龄",
    "Double-click a row or click a bar for its records.": "双击一行或点击条形查看明细。",
}, context=CONTEXT)
register_catalog({"Reports": "报表"})


class DrillDialog(QDialog):
    """The records behind one cell; double-click opens one."""

    def __init__(self, ctx: AppContext, what: str, records: list[dict[str, str]], total: int,
                 open_record: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report_drill")
        t = lambda text, **v: ctx.translator.translate(CONTEXT, text, **v)  # noqa: E731
        self.setWindowTitle(t("Records behind: {what}", what=what))
        self.resize(560, 420)
        self.list = QListWidget()
        self.list.setObjectName("report_drill_list")
        for r in records:
            item = QListWidgetItem(f"{ENTITIES[r['entity']].label(ctx.lang)}  ·  "
                                   f"{r['title'] or r['id']}")
            item.setData(Qt.ItemDataRole.UserRole, (r["entity"], r["id"]))
            self.list.addItem(item)
        self.list.itemDoubleClicked.connect(
            lambda item: open_record(*item.data(Qt.ItemDataRole.UserRole)))
        lay = QVBoxLayout(self)
        head = t("{n} records", n=total)
        if total > len(records):
            head += "  " + t("Showing the first {n}.", n=len(records))
        lay.addWidget(QLabel(head))
        lay.addWidget(self.list, 1)


def _today() -> dt.date:
    return now_in(viewer_zone()).date()


class ReportsPage(QWidget):
    def __init__(self, ctx: AppContext, window: MainWindow) -> None:
        super().__init__()
        self.ctx, self.main = ctx, window
        self.setObjectName("reports_page")
        self.report: Report | None = None
        self.filter: ReportFilter | None = None  # the shown report's, for its drill-down
        t = self._t
        self.name = QComboBox()
        self.name.setObjectName("report_name")
        for n in NAMES:
            self.name.addItem(rv.title(n, ctx.lang), n)
        today = _today()  # the user's today, in the zone of their setting
        self.date_from = QDateEdit(qdate(today - dt.timedelta(weeks=DEFAULT_WEEKS)))
        self.date_to = QDateEdit(qdate(today))
        for edit, name in ((self.date_from, "report_from"), (self.date_to, "report_to")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.owners = QLineEdit()
        self.owners.setObjectName("report_owners")
        self.owners.setPlaceholderText(t("all owners (or names, comma-separated)"))
        self.currency = QComboBox()
        self.currency.setObjectName("report_currency")
        self.currency.addItems(list(CURRENCIES))
        show, pdf = QPushButton(t("Show")), QPushButton(t("Print to PDF…"))
        export = QPushButton(t("Export…"))
        show.setObjectName("report_show")
        pdf.setObjectName("report_pdf")
        export.setObjectName("report_export")
        show.clicked.connect(lambda _c=False: self.reload())
        pdf.clicked.connect(lambda _c=False: self.print_pdf())
        export.clicked.connect(lambda _c=False: self.export_file())
        self.name.currentIndexChanged.connect(lambda _i: self._report_chosen())
        bar = QHBoxLayout()
        controls: tuple[tuple[str, QWidget], ...] = (
            (t("Report"), self.name), (t("From"), self.date_from), (t("To"), self.date_to),
            (t("Owners"), self.owners), (t("Currency"), self.currency))
        for text, w in controls:
            bar.addWidget(QLabel(text))
            bar.addWidget(w, 2 if w is self.owners else 0)
        bar.addWidget(show)
        bar.addWidget(export)
        bar.addWidget(pdf)
        self.heading = QLabel()
        self.heading.setObjectName("report_heading")
        self.heading.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.chart = BarChart()
        self.chart.clicked.connect(self.drill_row)
        self.heat = HeatMap()
        self.heat.clicked.connect(self.drill_row)
        self.heat.hide()
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("report_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.drill_row(row))
        self.notes = QLabel()
        self.notes.setObjectName("report_notes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #6d4c41;")
        self.hint = QLabel(t("Double-click a row or click a bar for its records."))
        self.hint.setStyleSheet("color: #757575;")
        body = QWidget()
        self.body = body
        inner = QVBoxLayout(body)
        inner.addWidget(self.heading)
        inner.addWidget(self.chart)
        inner.addWidget(self.heat)
        inner.addWidget(self.table, 1)
        inner.addWidget(self.notes)
        inner.addWidget(self.hint)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(scroll, 1)

    def _t(self, text: str, **values: Any) -> str:
        return self.ctx.translator.translate(CONTEXT, text, **values)

    def _report_chosen(self) -> None:
        # the forecast looks ahead, the others back; moving to or from it resets the period
        name = str(self.name.currentData())
        if (name == "forecast") != (self.report is not None and self.report.name == "forecast"):
            start, end = default_period(name, _today())
            self.date_from.setDate(QDate(start.year, start.month, start.day))
            self.date_to.setDate(QDate(end.year, end.month, end.day))
        self.reload()

    def current_filter(self) -> tuple[str, dt.date, dt.date, tuple[str, ...], str]:
        owners = tuple(o.strip() for o in self.owners.text().replace("，", ",").split(",")
                       if o.strip())
        return (str(self.name.currentData()), self.date_from.date().toPython(),  # type: ignore[return-value]
                self.date_to.date().toPython(), owners, self.currency.currentText())

    def reload(self) -> None:
        name, start, end, owners, currency = self.current_filter()

        def work(store: Any) -> tuple[Report, ReportFilter]:
            from desktop.followup.clock import SystemClock
            from desktop.followup.settings import load_settings
            from desktop.reports import run

            zone = SystemClock(load_settings(store).time_zone).zone()
            # figures only: a click on a cell asks for its records (cell_ids)
            f = ReportFilter(start, end, owners, currency, zone, ids=False)
            return run(store, name, f), f

        def done(found: tuple[Report, ReportFilter]) -> None:
            self.filter = found[1]
            self.show_report(found[0])

        self.ctx.run(work, on_done=done, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.notes.setText(self.ctx.error_text(exc))

    def show_report(self, report: Report) -> None:
        self.report = report
        lang = self.ctx.lang
        self.heading.setText(f"{rv.title(report.name, lang, report)} · {report.currency}")
        heads = [rv.label(k, lang) for k in report.key_names] + [
            rv.label(v, lang) for v in report.value_names]
        rows = [(rv.key_text(report, c.key, lang), c.values) for c in report.cells]
        rows.append(([self._t("Total")] + [""] * (len(report.key_names) - 1), report.totals))
        for section, cells in report.sections.items():
            name = self._t("Receivables ageing") if section == "ageing" else section
            for c in cells:  # the section's first value in the first value column
                first = next(iter(c.values), "")
                rows.append(([f"{name} {c.key[0]} ({rv.label(first, lang)})"]
                             + [""] * (len(report.key_names) - 1),
                             {report.value_names[0]: c.values.get(first)}))
        self.table.clear()
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setRowCount(len(rows))
        for r, (keys, values) in enumerate(rows):
            for col, text in enumerate(keys):
                self.table.setItem(r, col, QTableWidgetItem(text))
            for col, v in enumerate(report.value_names, start=len(keys)):
                item = QTableWidgetItem(rv.value_text(values.get(v)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        value_name = rv.CHART_VALUE[report.name]
        heat = report.name in rv.HEAT_REPORTS
        self.heat.setVisible(heat)
        self.chart.setVisible(not heat)
        if heat:
            owners, weeks, at = rv.heat_grid(report)
            self.heat.set_grid([rv.key_text(report, (o,), lang)[0] for o in owners], weeks, at,
                               {k: float(report.cells[i].values.get(value_name) or 0)
                                for k, i in at.items()},
                               scale=100.0 if report.name == "golden-72" else None)
        points = rv.chart_points(report)
        self.chart.set_bars([" · ".join(rv.key_text(report, c.key, lang)) for c in report.cells],
                            [v for _, v in points],
                            [rv.value_text(c.values.get(value_name)) for c in report.cells])
        notes = [n.text(lang) for n in report.notes]
        if not report.cells:
            notes.insert(0, self._t("No records in this period."))
        self.notes.setText("\n".join(notes))

    def drill_row(self, row: int) -> None:
        report, f = self.report, self.filter
        if report is None or f is None:
            return
        sections = [(name, c) for name, cells in report.sections.items() for c in cells]
        if row < len(report.cells):
            key: tuple[str, ...] | None = report.cells[row].key
            section = None
            what = " · ".join(rv.key_text(report, report.cells[row].key, self.ctx.lang))
        elif row == len(report.cells):  # the total row: every record of the report
            key, section, what = None, None, self._t("Total")
        elif row - len(report.cells) - 1 < len(sections):
            section, cell = sections[row - len(report.cells) - 1]
            key, what = cell.key, " · ".join(rv.key_text(report, cell.key, self.ctx.lang))
        else:
            return
        name = report.name

        def work(store: Any) -> tuple[list[dict[str, str]], int]:
            from desktop.reports import cell_ids

            ids = cell_ids(store, name, f, key, section=section)
            return rv.drill(store, ids), len(ids)

        def done(found: tuple[list[dict[str, str]], int]) -> None:
            records, total = found
            dlg = DrillDialog(self.ctx, what, records, total, self.main.open_record, self)
            self.main.dialog = dlg
            dlg.show()

        self.ctx.run(work, on_done=done, on_error=self._failed)

    def export_file(self, path: str | None = None) -> None:
        """The shown report to CSV or XLSX (by the name's suffix), on the store worker;
        the export right and audit apply (desktop.reports.export)."""
        report, f = self.report, self.filter
        if report is None or f is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, self._t("Export…"), str(Path.home() / f"{report.name}.xlsx"),
                "Excel (*.xlsx);;CSV (*.csv)")
            if not path:
                return
        lang, target = self.ctx.lang, Path(path)

        def work(store: Any) -> dict[str, Any]:
            from desktop.reports.export import export_report

            return export_report(store, report, f, target, lang=lang)

        self.ctx.run(work, on_done=lambda done: self.main.show_message(
            self._t("Saved {path}", path=done["file"])), on_error=self._failed)

    def print_pdf(self, path: str | None = None) -> str | None:
        """Write the heading, bars and table to a PDF (A4 landscape); returns the path."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, self._t("Print to PDF…"),
                                                  str(Path.home() / "report.pdf"), "PDF (*.pdf)")
            if not path:
                return None
        writer = QPdfWriter(path)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Landscape,
                                         QMarginsF(12, 12, 12, 12)))
        writer.setResolution(144)
        painter = QPainter(writer)
        try:  # an active painter left on a writer crashes Qt when it is freed
            area = painter.viewport()
            source = self.body
            scale = min(area.width() / max(1, source.width()),
                        area.height() / max(1, source.height()))
            painter.scale(scale, scale)
            source.render(painter, QPoint(0, 0))
        finally:
            painter.end()
        self.main.show_message(self._t("Saved {path}", path=path))
        return path


class ReportsUi(QObject):
    """The Reports tab in one main window (`window.reports_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.page: ReportsPage | None = None
        self.mount()
        window.built.connect(self.mount)
        if not self.ctx.is_ready:
            self.ctx.store_ready.connect(self._ready)

    def mount(self) -> None:
        self.page = ReportsPage(self.ctx, self.window)
        self.window.tabs.addTab(self.page, self.ctx.tr("Reports"))
        if self.ctx.is_ready:
            self.page.reload()

    def _ready(self) -> None:
        if self.page is not None:
            self.page.reload()
