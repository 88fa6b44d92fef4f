"""The contract capture window: files -> OCR in the background -> review -> save.

Files (photos or PDF scans; several files are the pages of one contract, in order) come
from "Choose files…" or are dropped on the window. Reading them (`capture_contract`)
runs as a background task (`ctx.run_task`), not on the store worker: OCR takes seconds per page and
needs no store, and holding the store worker that long would freeze every list, search
and save in the app. A progress bar and Cancel show while it runs. The review form
(`ContractReview`) then shows the page with the regions found beside the editable
fields (party names first checked against the accounts on the store worker,
`reconcile_parties`); "Save contract" runs `save_contract` on the store worker (one transaction: the
contract on the chosen deal, the page files as attachments, parties matched to
accounts), then offers to create the accounts of parties that have none.

A problem with the files (not an image, a password-protected PDF, no OCR engine) shows
the message the capture code wrote, on the files page; nothing is saved.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.capture.camera_photos import display_name
from desktop.capture.store_ops import DealChoice, deal_choices
from desktop.errors import Cancelled, FieldCRMError
from desktop.ui.capture.contract.review import ContractReview
from desktop.ui.common.changes import touches
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.jobs import BackgroundTask

if TYPE_CHECKING:
    from desktop.capture.contract import ContractResult
    from desktop.capture.contract_save import SaveOutcome, UnmatchedParty
    from desktop.store import Store
    from desktop.ui.common.context import AppContext

FILE_FILTER = "Contract photos and scans (*.jpg *.jpeg *.png *.heic *.heif *.tif *.tiff *.pdf)"
ERROR_STYLE = "color: #c0392b; font-weight: bold;"
DROP_STYLE = ("QLabel#drop_zone { border: 2px dashed #9e9e9e; border-radius: 8px; padding: 24px;"
              " color: #555; font-size: 15px; background: #fafafa; }"
              "QLabel#drop_zone[hot=\"true\"] { border-color: #1976d2; background: #e3f2fd; }")
PAGE_FILES, PAGE_REVIEW, PAGE_SAVED = 0, 1, 2
_STEP_RE = re.compile(r"(Preparing|Reading) page (\d+) of (\d+)")

register_catalog({
    "Take a photo…": "拍照…",
    "Capture a contract": "录入合同",
    "Deal": "商机",
    "Type to find the deal…": "输入名称查找商机…",
    "No deals yet: create the deal first (Deals tab)": "还没有商机：请先在“商机”页新建商机",
    "Drop photos or PDF scans of the contract here": "把合同照片或 PDF 扫描件拖到这里",
    "JPEG, PNG, HEIC, TIFF or PDF. Several files make one contract, pages in the order given.":
        "支持 JPEG、PNG、HEIC、TIFF 和 PDF。多个文件合为一份合同，按添加顺序排页。",
    "Choose files…": "选择文件…",
    "Clear": "清空",
    "Read the contract": "识别合同",
    "Page {n}: {name}": "第 {n} 页：{name}",
    "Choose the contract's photos or scans": "选择合同照片或扫描件",
    FILE_FILTER: "合同照片和扫描件 (*.jpg *.jpeg *.png *.heic *.heif *.tif *.tiff *.pdf)",
    "All files (*)": "所有文件 (*)",
    "Starting text recognition…": "正在启动文字识别…",
    "Loading pages": "正在读取页面",
    "Preparing page {n} of {total}": "正在处理第 {n} 页，共 {total} 页",
    "Reading page {n} of {total}": "正在识别第 {n} 页，共 {total} 页",
    "Finding fields": "正在提取字段",
    "Done": "完成",
    "Stopping…": "正在停止…",
    "Stopped. Nothing was saved.": "已停止，未保存任何内容。",
    "Save contract": "保存合同",
    "Choose the deal this contract belongs to (at the top).": "请在上方选择这份合同所属的商机。",
    "Saved contract {no} on the deal “{deal}”, with {n} page(s) kept as attachments.":
        "合同 {no} 已保存到商机“{deal}”，{n} 页原件已作为附件保存。",
    "(no number)": "（无编号）",
    "Party A": "甲方",
    "Party B": "乙方",
    "{side} is linked to the account “{name}”.": "{side}已关联客户“{name}”。",
    "{side} is linked to the existing account “{name}” (same {reasons}).":
        "{side}已关联现有客户“{name}”（{reasons}相同）。",
    "name": "名称", "uscc": "信用代码", "phone": "电话", "email": "邮箱",
    "{side} “{name}” has no account yet.": "{side}“{name}”还没有客户档案。",
    "Create the account": "新建客户",
    "Created the account “{name}” and linked the contract to it.":
        "已新建客户“{name}”并关联到合同。",
    "Open the deal": "打开商机",
    "Capture another contract": "再录入一份合同",
    "Close": "关闭",
})


class ContractCaptureWindow(QWidget):
    """Capture a contract from photos or scans onto a deal."""

    saved = Signal(object)  # the SaveOutcome

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 deal_id: str | None = None, account_id: str | None = None,
                 open_record: Any = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("contract_capture")
        self.ctx = ctx
        self.open_record = open_record  # MainWindow.open_record, to show the deal after saving
        self.want_deal, self.want_account = deal_id, account_id
        self.files: list[Path] = []
        self.job: BackgroundTask | None = None
        self.result: ContractResult | None = None
        self.outcome: SaveOutcome | None = None
        self.deals: list[DealChoice] = []
        self.create_buttons: list[QPushButton] = []
        self.setAcceptDrops(True)
        tr = ctx.tr
        self.setWindowTitle(tr("Capture a contract"))

        self.deal_combo = QComboBox()
        self.deal_combo.setObjectName("deal_combo")
        self.deal_combo.setEditable(True)
        self.deal_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.deal_combo.setMinimumWidth(420)
        edit = self.deal_combo.lineEdit()
        assert edit is not None  # (an editable combo box has one)
        edit.setPlaceholderText(tr("Type to find the deal…"))
        completer = QCompleter(self.deal_combo.model(), self.deal_combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.deal_combo.setCompleter(completer)
        deal_row = QHBoxLayout()
        deal_row.addWidget(QLabel(tr("Deal") + ":"))
        deal_row.addWidget(self.deal_combo, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._files_page())
        self.review = ContractReview(ctx.lang)
        self.review.confirm_btn.setText(tr("Save contract"))
        self.review.confirmed.connect(self.save)
        self.review.cancelled.connect(self.back_to_files)
        self.stack.addWidget(self.review)
        self.stack.addWidget(self._saved_page())

        layout = QVBoxLayout(self)
        layout.addLayout(deal_row)
        layout.addWidget(self.stack, 1)
        self.resize(1100, 780)
        self._show_files()
        self.load_deals()
        ctx.operation_did_execute.connect(self._on_changes)

    # ------------------------------------------------------------ pages
    def _files_page(self) -> QWidget:
        tr = self.ctx.tr
        page = QWidget()
        self.drop_zone = QLabel(
            tr("Drop photos or PDF scans of the contract here") + "\n\n"
            + tr("JPEG, PNG, HEIC, TIFF or PDF. Several files make one contract, "
                 "pages in the order given."))
        self.drop_zone.setObjectName("drop_zone")
        self.drop_zone.setStyleSheet(DROP_STYLE)
        self.drop_zone.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_zone.setWordWrap(True)
        self.drop_zone.setMinimumHeight(160)
        self.file_list = QListWidget()
        self.file_list.setObjectName("file_list")
        self.file_list.setMaximumHeight(150)
        self.choose_button = QPushButton(tr("Choose files…"))
        self.choose_button.clicked.connect(self.choose_files)
        self.camera_button = QPushButton(tr("Take a photo…"))
        self.camera_button.clicked.connect(self.open_camera)
        self.clear_button = QPushButton(tr("Clear"))
        self.clear_button.clicked.connect(self.clear_files)
        self.read_button = QPushButton(tr("Read the contract"))
        self.read_button.setDefault(True)
        self.read_button.clicked.connect(self.read_contract)
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.camera_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.read_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v = QVBoxLayout(page)
        v.addWidget(self.drop_zone, 2)
        v.addWidget(self.file_list, 1)
        v.addLayout(buttons)
        v.addWidget(self.progress_box)
        v.addWidget(self.error_label)
        v.addStretch(0)
        return page

    def _saved_page(self) -> QWidget:
        tr = self.ctx.tr
        page = QWidget()
        self.saved_label = QLabel()
        self.saved_label.setObjectName("saved")
        self.saved_label.setWordWrap(True)
        self.saved_label.setStyleSheet("font-size: 15px;")
        self.parties_box = QFrame()
        self.parties_layout = QVBoxLayout(self.parties_box)
        self.parties_layout.setContentsMargins(0, 0, 0, 0)
        self.open_deal_button = QPushButton(tr("Open the deal"))
        self.open_deal_button.clicked.connect(self._open_deal)
        another = QPushButton(tr("Capture another contract"))
        another.clicked.connect(self.start_over)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_deal_button)
        buttons.addStretch(1)
        buttons.addWidget(another)
        buttons.addWidget(close)
        v = QVBoxLayout(page)
        v.addWidget(self.saved_label)
        v.addWidget(self.parties_box)
        v.addStretch(1)
        v.addLayout(buttons)
        return page

    # ------------------------------------------------------------ the deal
    def load_deals(self) -> None:
        self.deal_combo.setEnabled(False)
        self.ctx.run(deal_choices, on_done=self._deals_loaded, initiator=self)

    def _on_changes(self, changes: Any, initiator: object) -> None:
        """A deal added or renamed elsewhere shows up here; the choice is kept."""
        if initiator is not self and touches(changes, ("deal", "account")):
            if self.deal_combo.isEnabled():  # loaded: keep what is chosen now
                self.want_deal, self.want_account = self.chosen_deal_id(), None
            self.load_deals()

    def _deals_loaded(self, deals: list[DealChoice]) -> None:
        self.deals = deals
        combo = self.deal_combo
        combo.clear()
        for d in deals:
            combo.addItem(d.label, d.id)
        wanted = self.want_deal
        if wanted is None and self.want_account is not None:
            wanted = next((d.id for d in deals if d.account_id == self.want_account
                           and d.stage not in ("won", "lost")), None)
        combo.setCurrentIndex(combo.findData(wanted) if wanted else -1)
        combo.setEnabled(True)
        edit = combo.lineEdit()
        if not deals and edit is not None:
            edit.setPlaceholderText(self.ctx.tr("No deals yet: create the deal first (Deals tab)"))

    def chosen_deal_id(self) -> str | None:
        combo = self.deal_combo
        index = combo.findText(combo.currentText().strip(), Qt.MatchFlag.MatchFixedString)
        return combo.itemData(index) if index >= 0 else None

    def set_deal(self, deal_id: str) -> None:
        self.want_deal = deal_id
        index = self.deal_combo.findData(deal_id)
        if index >= 0:
            self.deal_combo.setCurrentIndex(index)

    # ------------------------------------------------------------ files
    def choose_files(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, self.ctx.tr("Choose the contract's photos or scans"), "",
            f"{self.ctx.tr(FILE_FILTER)};;{self.ctx.tr('All files (*)')}")
        if paths:
            self.add_files(sorted((Path(p) for p in paths), key=lambda p: p.name.lower()))

    def open_camera(self) -> QWidget:
        """The camera dialog; each photo taken becomes the next page."""
        from desktop.ui.capture.contract.camera import CameraDialog

        dlg = CameraDialog(self.ctx, self)
        dlg.photo_taken.connect(lambda path: self.add_files([path]))
        dlg.open()
        self.camera_dialog = dlg
        return dlg

    def add_files(self, paths: list[Path]) -> None:
        """Add pages (after the ones already chosen). While reading, nothing changes."""
        if self.job is not None:
            return
        if self.stack.currentIndex() != PAGE_FILES:
            self.files = []
        self.files += [Path(p) for p in paths if Path(p) not in self.files]
        self._show_files()

    def clear_files(self) -> None:
        self.files = []
        self._show_files()

    def _show_files(self) -> None:
        self.stack.setCurrentIndex(PAGE_FILES)
        self.file_list.clear()
        for i, path in enumerate(self.files, 1):
            self.file_list.addItem(self.ctx.tr("Page {n}: {name}", n=i,
                                               name=display_name(path)))
        self.file_list.setVisible(bool(self.files))
        self.error_label.clear()
        running = self.job is not None
        self.read_button.setEnabled(bool(self.files) and not running)
        self.clear_button.setEnabled(bool(self.files) and not running)
        self.choose_button.setEnabled(not running)
        self.progress_box.setVisible(running)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.job is None and event.mimeData().hasUrls() and any(
                u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self._hot(True)

    def dragLeaveEvent(self, event: Any) -> None:
        self._hot(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._hot(False)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.job is None:
            event.acceptProposedAction()
            self.add_files(paths)

    def _hot(self, on: bool) -> None:
        self.drop_zone.setProperty("hot", on)
        self.drop_zone.style().unpolish(self.drop_zone)
        self.drop_zone.style().polish(self.drop_zone)

    # ------------------------------------------------------------ reading
    def read_contract(self) -> BackgroundTask | None:
        """Read the chosen files in the background; the review shows when done."""
        if not self.files or self.job is not None:
            return None
        paths = list(self.files)
        profile = self.ctx.profile

        def work(task: BackgroundTask) -> ContractResult:
            from desktop.capture.contract import capture_contract

            return capture_contract(paths, engine="auto", progress=task.report,
                                    cancel=task.cancelled, profile=profile)

        self.job = self.ctx.run_task(work, on_done=self._read_done, on_error=self._read_failed,
                                     on_progress=self._progressed, name="contract-ocr")
        self._show_files()
        self.progress.setValue(0)
        self.progress_label.setText(self.ctx.tr("Starting text recognition…"))
        self.cancel_button.setEnabled(True)
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(self.ctx.tr("Stopping…"))

    def _progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 100))
        self.progress_label.setText(self._step_text(text))

    def _step_text(self, text: str) -> str:
        m = _STEP_RE.fullmatch(text)
        if m:
            key = ("Preparing page {n} of {total}" if m[1] == "Preparing"
                   else "Reading page {n} of {total}")
            return self.ctx.tr(key, n=m[2], total=m[3])
        return self.ctx.tr(text) if text else ""

    def _read_done(self, result: ContractResult) -> None:
        """Party names are checked against the book's accounts on the store worker (a
        misread character takes the account's spelling), then the review shows; the
        reading counts as running (`job`) until then."""

        def op(store: Store) -> object:
            from desktop.capture.contract_save import reconcile_parties

            return reconcile_parties(store, result.fields)

        def failed(exc: BaseException) -> None:  # the names stay as read
            logging.getLogger(__name__).warning("matching contract parties failed: %r", exc)
            self._show_review(result)

        self.ctx.run(op, on_done=lambda _m: self._show_review(result), on_error=failed,
                     initiator=self)

    def _show_review(self, result: ContractResult) -> None:
        self.job = None
        self.result = result
        self._show_files()
        self.review.set_result(result)
        self.stack.setCurrentIndex(PAGE_REVIEW)

    def _read_failed(self, exc: BaseException) -> None:
        self.job = None
        self._show_files()
        if isinstance(exc, Cancelled):
            self.error_label.setStyleSheet("")
            self.error_label.setText(self.ctx.tr("Stopped. Nothing was saved."))
            return
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setText(self.ctx.error_text(exc))
        if not isinstance(exc, FieldCRMError):
            self.ctx.show_error(exc)  # logs it

    def back_to_files(self) -> None:
        self._show_files()

    # ------------------------------------------------------------ saving
    def save(self, values: dict[str, Any]) -> None:
        """Save the confirmed values on the chosen deal (store worker, one transaction)."""
        deal_id = self.chosen_deal_id()
        if deal_id is None:
            self.review.error.setText(
                self.ctx.tr("Choose the deal this contract belongs to (at the top)."))
            self.deal_combo.setFocus()
            return
        files = list(self.files)
        self.review.confirm_btn.setEnabled(False)

        def op(store: Store) -> SaveOutcome:
            from desktop.capture.contract_save import save_contract

            return save_contract(store, values, deal_id=deal_id, files=files)

        self.ctx.run(op, on_done=self._saved, on_error=self._save_failed, initiator=self)

    def _save_failed(self, exc: BaseException) -> None:
        self.review.confirm_btn.setEnabled(True)
        self.review.error.setText(self.ctx.error_text(exc))
        if not isinstance(exc, FieldCRMError):
            self.ctx.show_error(exc)

    def _saved(self, outcome: SaveOutcome) -> None:
        tr = self.ctx.tr
        self.outcome = outcome
        self.review.confirm_btn.setEnabled(True)
        c = outcome.contract
        deal = next((d for d in self.deals if d.id == c.get("deal_id")), None)
        self.saved_label.setText(tr(
            "Saved contract {no} on the deal “{deal}”, with {n} page(s) kept as attachments.",
            no=c.get("contract_no") or tr("(no number)"), deal=deal.label if deal else "",
            n=len(outcome.attachments)))
        while self.parties_layout.count():
            item = self.parties_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.create_buttons = []
        for side, account in outcome.matched.items():
            why = outcome.reasons.get(side, ())
            sep = "、" if self.ctx.lang == "zh" else ", "
            text = tr("{side} is linked to the existing account “{name}” (same {reasons}).",
                      side=self._side(side), name=account.get("name") or "",
                      reasons=sep.join(tr(r) for r in why)) if why else tr(
                "{side} is linked to the account “{name}”.", side=self._side(side),
                name=account.get("name") or "")
            label = QLabel(text)
            label.setWordWrap(True)
            self.parties_layout.addWidget(label)
        for party in outcome.unmatched:
            self.parties_layout.addWidget(self._offer_account(party))
        self.open_deal_button.setVisible(self.open_record is not None and deal is not None)
        self.stack.setCurrentIndex(PAGE_SAVED)
        self.saved.emit(outcome)

    def _side(self, side: str) -> str:
        return self.ctx.tr("Party A" if side == "a" else "Party B")

    def _offer_account(self, party: UnmatchedParty) -> QWidget:
        tr = self.ctx.tr
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        label = QLabel(tr("{side} “{name}” has no account yet.", side=self._side(party.side),
                          name=party.name))
        label.setWordWrap(True)
        button = QPushButton(tr("Create the account"))
        button.setObjectName(f"create_party_{party.side}")
        button.clicked.connect(lambda: self._create_account(party, button, label))
        h.addWidget(label, 1)
        h.addWidget(button)
        self.create_buttons.append(button)
        return row

    def _create_account(self, party: UnmatchedParty, button: QPushButton, label: QLabel) -> None:
        if self.outcome is None:
            return
        contract_id = self.outcome.contract["id"]
        button.setEnabled(False)

        def op(store: Store) -> dict[str, Any]:
            from desktop.capture.contract_save import create_party_account

            return create_party_account(store, contract_id, party)

        def done(account: dict[str, Any]) -> None:
            label.setText(self.ctx.tr("Created the account “{name}” and linked the contract to it.",
                                      name=account.get("name") or ""))
            button.hide()

        def failed(exc: BaseException) -> None:
            button.setEnabled(True)
            label.setText(self.ctx.error_text(exc))

        self.ctx.run(op, on_done=done, on_error=failed, initiator=self)

    def _open_deal(self) -> None:
        if self.outcome is not None and self.open_record is not None:
            deal_id = self.outcome.contract.get("deal_id")
            if deal_id:
                self.open_record("deal", deal_id)

    def start_over(self) -> None:
        self.files, self.result, self.outcome = [], None, None
        self._show_files()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.job is not None:
            self.job.cancel()  # it finishes its page in the background; nothing is saved
        super().closeEvent(event)
