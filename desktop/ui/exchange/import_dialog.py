"""The import dialog: a file (CSV or XLSX, encoding detected or chosen), the column
mapping guessed from its header and editable beside a preview of the first rows, saved
mappings, what to do with probable duplicates, a dry run first (new, duplicates,
invalid), then the import with progress and Cancel. The import runs on the store worker
(ctx.run_long) in chunks: a cancel keeps the whole chunks, and importing the same file
again goes on after them (desktop.exchange.importer)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.exchange import mapping as maps
from desktop.schema import ENTITIES
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.store import Store
    from desktop.ui.common.context import AppContext, OpHandle, OpProgress

register_catalog({
    "Import records": "导入记录", "Record type": "记录类型", "File": "文件",
    "Choose…": "选择…", "Encoding": "编码", "Detect automatically": "自动识别",
    "Saved mapping": "已保存的映射", "(none)": "（无）", "Save mapping": "保存映射",
    "Column in the file": "文件中的列", "First rows": "前几行", "Imports into": "导入到",
    "(do not import)": "（不导入）", "Probable duplicates": "疑似重复",
    "Skip them": "跳过",
    "Update the existing record (fill empty fields)": "更新已有记录（填充空字段）",
    "Overwrite the existing record": "覆盖已有记录", "Create them anyway": "仍然创建",
    "Dry run": "试运行", "Import": "导入", "Close": "关闭", "Cancel": "取消",
    "Choose a CSV or XLSX file to import.": "请选择要导入的 CSV 或 XLSX 文件。",
    "Reading the file…": "正在读取文件…",
    "{cols} columns, about {rows} rows ({how}).": "{cols} 列，约 {rows} 行（{how}）。",
    "Dry run: {new} new, {dup} probable duplicates, {invalid} invalid.":
        "试运行：{new} 条新记录，{dup} 条疑似重复，{invalid} 条无效。",
    "Imported: {created} created, {updated} updated, {dup} duplicates skipped, "
    "{invalid} invalid.": "已导入：新建 {created} 条，更新 {updated} 条，跳过重复 {dup} 条，"
                          "无效 {invalid} 条。",
    "Rejected rows with their reasons: {file}": "被拒绝的行及原因：{file}",
    "Went on after row {n}, imported before.": "从第 {n} 行之后继续（之前已导入）。",
    "Importing": "正在导入", "Checking the file": "正在检查文件",
    "Import cancelled: the rows up to the last whole chunk are saved; import the file again "
    "to go on.": "导入已取消：最后一个完整批次之前的行已保存；再次导入该文件即可继续。",
    "Accounts": "客户", "Contacts": "联系人", "Deals": "商机", "Activities": "活动",
    "Mapping name": "映射名称", "Saved the mapping '{name}'.": "已保存映射“{name}”。",
    "CSV or Excel (*.csv *.txt *.xlsx)": "CSV 或 Excel（*.csv *.txt *.xlsx）",
})

ENTITY_TITLES = {"account": "Accounts", "contact": "Contacts", "deal": "Deals",
                 "activity": "Activities"}
DUPLICATE_CHOICES = (("skip", "Skip them"),
                     ("update", "Update the existing record (fill empty fields)"),
                     ("overwrite", "Overwrite the existing record"),
                     ("create", "Create them anyway"))
PREVIEW_ROWS = 3


class ImportDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None, entity: str = "account") -> None:
        super().__init__(parent)
        self.setObjectName("import_dialog")
        self.ctx = ctx
        tr = ctx.tr
        self.setWindowTitle(tr("Import records"))
        self.resize(860, 600)
        self.path: Path | None = None
        self.header: list[str] = []
        self.op: OpHandle | None = None
        self.result: Any = None

        self.entity = QComboBox()
        self.entity.setObjectName("import_entity")
        for name in maps.IMPORTABLE:
            self.entity.addItem(tr(ENTITY_TITLES[name]), name)
        self.entity.setCurrentIndex(max(0, self.entity.findData(entity)))
        self.entity.currentIndexChanged.connect(self._entity_changed)
        self.file = QLineEdit()
        self.file.setReadOnly(True)
        self.file.setPlaceholderText(tr("Choose a CSV or XLSX file to import."))
        choose = QPushButton(tr("Choose…"))
        choose.clicked.connect(self.choose_file)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(choose)
        self.encoding = QComboBox()
        self.encoding.setObjectName("import_encoding")
        self.encoding.addItem(tr("Detect automatically"), None)
        for enc in ("utf-8", "gb18030"):
            self.encoding.addItem(enc.upper(), enc)
        self.encoding.currentIndexChanged.connect(lambda _i: self.load_preview())
        self.saved = QComboBox()
        self.saved.setObjectName("import_saved")
        self.saved.activated.connect(self._apply_saved)
        self.mapping_name = QLineEdit()
        self.mapping_name.setPlaceholderText(tr("Mapping name"))
        save = QPushButton(tr("Save mapping"))
        save.clicked.connect(lambda: self.save_mapping(self.mapping_name.text()))
        saved_row = QHBoxLayout()
        saved_row.addWidget(self.saved, 1)
        saved_row.addWidget(self.mapping_name)
        saved_row.addWidget(save)
        self.on_duplicate = QComboBox()
        self.on_duplicate.setObjectName("import_on_duplicate")
        for key, text in DUPLICATE_CHOICES:
            self.on_duplicate.addItem(tr(text), key)
        form = QFormLayout()
        form.addRow(tr("Record type"), self.entity)
        form.addRow(tr("File"), file_row)
        form.addRow(tr("Encoding"), self.encoding)
        form.addRow(tr("Saved mapping"), saved_row)
        form.addRow(tr("Probable duplicates"), self.on_duplicate)

        self.table = QTableWidget(0, 3)
        self.table.setObjectName("import_mapping")
        self.table.setHorizontalHeaderLabels(
            [tr("Column in the file"), tr("First rows"), tr("Imports into")])
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("import_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.hide()
        self.dry_button = QPushButton(tr("Dry run"))
        self.dry_button.setObjectName("import_dry_run")
        self.dry_button.clicked.connect(lambda: self.start(dry_run=True))
        self.import_button = QPushButton(tr("Import"))
        self.import_button.setObjectName("import_go")
        self.import_button.clicked.connect(lambda: self.start(dry_run=False))
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setObjectName("import_cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        buttons.addWidget(self.dry_button)
        buttons.addWidget(self.import_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.info)
        lay.addWidget(self.summary)
        lay.addLayout(buttons)
        ctx.progress_changed.connect(self._progressed)
        self._fill_saved()
        self._update_buttons()

    # ------------------------------------------------------------ state
    @property
    def entity_name(self) -> str:
        return str(self.entity.currentData())

    def _update_buttons(self) -> None:
        running = self.op is not None
        ready = self.path is not None and bool(self.header) and not running
        self.dry_button.setEnabled(ready)
        self.import_button.setEnabled(ready)
        self.cancel_button.setVisible(running)
        self.progress.setVisible(running)

    def _entity_changed(self, _index: int) -> None:
        self._fill_saved()
        self._fill_table(self.header, getattr(self, "_preview", []))

    def _fill_saved(self) -> None:
        self.saved.clear()
        self.saved.addItem(self.ctx.tr("(none)"), None)
        for name in maps.saved_mappings(self.ctx.profile, self.entity_name):
            self.saved.addItem(name, name)

    # ------------------------------------------------------------ file and preview
    def choose_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _f = QFileDialog.getOpenFileName(
            self, self.ctx.tr("Import records"), "",
            self.ctx.tr("CSV or Excel (*.csv *.txt *.xlsx)"))
        if path:
            self.set_file(Path(path))

    def set_file(self, path: Path) -> None:
        self.path = Path(path)
        self.file.setText(str(self.path))
        self.summary.clear()
        self.load_preview()

    def load_preview(self) -> None:
        if self.path is None:
            return
        path, encoding = self.path, self.encoding.currentData()
        self.info.setText(self.ctx.tr("Reading the file…"))

        def work(_task: Any) -> tuple[Any, list[list[str]], int]:
            from itertools import islice

            from desktop.exchange.readers import Sheet, count_rows

            sheet = Sheet(path, encoding)
            rows = [cells for _, cells in islice(sheet.rows(), PREVIEW_ROWS)]
            return sheet.info, rows, count_rows(path)

        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(self):
                self.header = []
                self._fill_table([], [])
                self.info.setText(self.ctx.error_text(exc))
                self._update_buttons()

        self.ctx.run_task(work, on_done=self._previewed, on_error=failed, name="import-preview")

    def _previewed(self, got: tuple[Any, list[list[str]], int]) -> None:
        if not shiboken6.isValid(self):
            return
        info, rows, total = got
        self.header, self._preview = info.header, rows
        how = "XLSX" if info.kind == "xlsx" else f"CSV, {info.encoding}"
        self.info.setText(self.ctx.tr("{cols} columns, about {rows} rows ({how}).",
                                      cols=len(info.header), rows=f"{total:,}", how=how))
        self._fill_table(info.header, rows)
        self._update_buttons()

    def _fill_table(self, header: list[str], rows: list[list[str]],
                    mapping: dict[str, str] | None = None) -> None:
        ent = ENTITIES[self.entity_name]
        mapping = mapping if mapping is not None else maps.auto_mapping(ent, header)
        self.table.setRowCount(len(header))
        lang = self.ctx.lang
        for i, col in enumerate(header):
            self.table.setItem(i, 0, QTableWidgetItem(col))
            sample = " | ".join((r[i] if i < len(r) else "")[:40] for r in rows)
            self.table.setItem(i, 1, QTableWidgetItem(sample))
            combo = QComboBox()
            combo.addItem(self.ctx.tr("(do not import)"), None)
            for t in maps.targets(ent):
                combo.addItem(maps.target_label(ent, t, lang), t)
            combo.setCurrentIndex(max(0, combo.findData(mapping.get(col))))
            self.table.setCellWidget(i, 2, combo)

    def mapping(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i, col in enumerate(self.header):
            combo = self.table.cellWidget(i, 2)
            target = combo.currentData() if isinstance(combo, QComboBox) else None
            if target:
                out[col] = target
        return out

    def set_target(self, column: str, target: str | None) -> None:
        i = self.header.index(column)
        combo = self.table.cellWidget(i, 2)
        assert isinstance(combo, QComboBox)
        combo.setCurrentIndex(max(0, combo.findData(target)))

    def _apply_saved(self, _index: int) -> None:
        name = self.saved.currentData()
        if name:
            saved = maps.saved_mappings(self.ctx.profile, self.entity_name).get(name, {})
            self._fill_table(self.header, getattr(self, "_preview", []), saved)

    def save_mapping(self, name: str) -> None:
        try:
            maps.save_mapping(self.ctx.profile, name, self.entity_name, self.mapping())
        except Exception as exc:  # a FieldCRMError's text, else the generic message
            self.summary.setText(self.ctx.error_text(exc))
            return
        self._fill_saved()
        self.saved.setCurrentIndex(max(0, self.saved.findData(name.strip())))
        self.summary.setText(self.ctx.tr("Saved the mapping '{name}'.", name=name.strip()))

    # ------------------------------------------------------------ run
    def start(self, dry_run: bool) -> OpHandle | None:
        if self.path is None or self.op is not None:
            return None
        path, entity, columns = self.path, self.entity_name, self.mapping()
        encoding, on_dup = self.encoding.currentData(), self.on_duplicate.currentData()

        def op(store: Store, progress: OpProgress) -> Any:
            from desktop.exchange.importer import run_import

            return run_import(store, path, entity, mapping=columns, on_duplicate=on_dup,
                              dry_run=dry_run, encoding=encoding, restart=dry_run,
                              wait_index=False,
                              progress=lambda d, t: progress.report(d, t))

        tr = self.ctx.tr
        self.summary.clear()
        self.progress.setRange(0, 0)
        self.op = self.ctx.run_long(op, tr("Checking the file") if dry_run else tr("Importing"),
                                    on_done=self._finished, on_error=self._failed)
        self._update_buttons()
        return self.op

    def cancel(self) -> None:
        if self.op is not None:
            self.op.cancel()

    def _progressed(self, op: Any, done: int, total: int, _text: str) -> None:
        if op is self.op and shiboken6.isValid(self):
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(min(done, max(total, 1)))

    def _finished(self, result: Any) -> None:
        self.op = None
        self.result = result
        if not shiboken6.isValid(self):
            return
        tr = self.ctx.tr
        if result.dry_run:
            text = tr("Dry run: {new} new, {dup} probable duplicates, {invalid} invalid.",
                      new=f"{result.created:,}", dup=f"{result.skipped_duplicates:,}",
                      invalid=f"{result.invalid:,}")
        else:
            text = tr("Imported: {created} created, {updated} updated, {dup} duplicates "
                      "skipped, {invalid} invalid.", created=f"{result.created:,}",
                      updated=f"{result.updated:,}", dup=f"{result.skipped_duplicates:,}",
                      invalid=f"{result.invalid:,}")
            if result.already_imported:
                text += " " + tr("Went on after row {n}, imported before.",
                                 n=f"{result.already_imported:,}")
        if result.errors_file:
            text += "\n" + tr("Rejected rows with their reasons: {file}", file=result.errors_file)
        self.summary.setText(text)
        self._update_buttons()

    def _failed(self, exc: BaseException) -> None:
        from desktop.errors import Cancelled

        self.op = None
        self.result = exc
        if not shiboken6.isValid(self):
            return
        if isinstance(exc, Cancelled):
            self.summary.setText(self.ctx.tr(
                "Import cancelled: the rows up to the last whole chunk are saved; import the "
                "file again to go on."))
        else:
            self.summary.setText(self.ctx.error_text(exc))
        self._update_buttons()
