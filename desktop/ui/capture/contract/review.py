"""Contract review: the page with the found regions beside an editable form.

`ContractReview.set_result(result)` shows a `desktop.capture.contract.ContractResult`;
flagged fields (a warning, or confidence below LOW_CONFIDENCE) are tinted with their
warning written under them. Confirm emits `confirmed(dict)` with the edited values
(None for an empty field) once they pass the same checks the store applies.
OCR never runs here: the caller runs `capture_contract` in the background and passes
the result in; saving (`desktop.capture.contract_save.save_contract`) runs on the
store worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.capture.contract_fields import FIELDS, LOW_CONFIDENCE, FieldResult
from desktop.schema import CONTRACT, CURRENCIES, is_valid_uscc
from desktop.ui.common.i18n import Translator, register_catalog

OK_COLOUR = QColor(46, 139, 87)
FLAG_COLOUR = QColor(230, 126, 34)
FLAG_STYLE = "QLineEdit, QComboBox { background: #fff3e0; border: 2px solid #e67e22; }"
WARN_STYLE = "color: #b35900;"

CONTEXT = "contract review"
register_catalog({
    "Check the contract": "核对合同",
    "Confirm": "确认",
    "Cancel": "取消",
    "Page {n} of {total}": "第 {n} 页，共 {total} 页",
    "{pct}% sure": "可信度 {pct}%",
    "Not found: type it from the paper": "未识别：请对照原件填写",
    "Please check this field": "请核对此项",
    "Read by {engine} in {seconds:.1f} s": "识别引擎 {engine}，用时 {seconds:.1f} 秒",
    "Amount must be a number, e.g. 1200000.00": "金额必须是数字，例如 1200000.00",
    "Signing date must be YYYY-MM-DD": "签订日期格式为 YYYY-MM-DD",
    "{label}: the credit code fails its check digit; correct it or clear it":
        "{label}：统一社会信用代码校验位不符，请更正或清空",
    "Currency must be a three-letter code such as CNY": "币种须为三位字母代码，例如 CNY",
}, context=CONTEXT)


def place_labels(boxes: list[QRect], sizes: list[QSize], bounds: QRect,
                 selected: list[bool]) -> list[QRect | None]:
    """Where each box's name tag goes: right of the box, else above, else below, else
    left; never over another box or tag and inside `bounds`. A tag that fits nowhere is
    left out (the form beside the page names every field); the selected field's tag is
    placed first, so it always shows."""
    placed: list[QRect] = []
    out: list[QRect | None] = [None] * len(boxes)
    for i in sorted(range(len(boxes)), key=lambda j: not selected[j]):
        box, size = boxes[i], sizes[i]
        others = [b for j, b in enumerate(boxes) if j != i]
        w, h = size.width(), size.height()
        for tag in (QRect(box.right() + 3, box.center().y() - h // 2, w, h),
                    QRect(box.left(), box.top() - h - 1, w, h),
                    QRect(box.left(), box.bottom() + 2, w, h),
                    QRect(box.left() - w - 3, box.center().y() - h // 2, w, h)):
            if bounds.contains(tag) and not any(tag.intersects(r) for r in (*others, *placed)):
                out[i] = tag
                placed.append(tag)
                break
        else:
            if selected[i]:  # over the others rather than not at all
                out[i] = QRect(box.left(), box.top() - h - 1, w, h)
                placed.append(out[i])  # type: ignore[arg-type]
    return out


class PageView(QWidget):
    """A prepared page image scaled to fit, with field regions outlined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._boxes: list[tuple[str, tuple[int, int, int, int], bool]] = []
        self.selected: str | None = None
        self.setMinimumSize(QSize(320, 420))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_page(self, gray: np.ndarray | None,
                 boxes: list[tuple[str, tuple[int, int, int, int], bool]]) -> None:
        if gray is None or gray.size == 0:
            self._pixmap = None
        else:
            arr = np.ascontiguousarray(gray)
            img = QImage(arr.data, arr.shape[1], arr.shape[0], arr.strides[0],
                         QImage.Format.Format_Grayscale8)
            self._pixmap = QPixmap.fromImage(img.copy())
        self._boxes = boxes
        self.update()

    def boxes(self) -> list[tuple[str, tuple[int, int, int, int], bool]]:
        return list(self._boxes)

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(90, 90, 90))
        if self._pixmap is None:
            return
        scaled = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x0 = (self.width() - scaled.width()) // 2
        y0 = (self.height() - scaled.height()) // 2
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawPixmap(QRect(x0, y0, scaled.width(), scaled.height()), self._pixmap)
        k = scaled.width() / max(1, self._pixmap.width())
        font = QFont(p.font())
        font.setPointSize(8)
        p.setFont(font)
        rects = [QRect(int(x0 + bx0 * k) - 2, int(y0 + by0 * k) - 2,
                       int((bx1 - bx0) * k) + 4, int((by1 - by0) * k) + 4)
                 for _, (bx0, by0, bx1, by1), _ in self._boxes]
        for (name, _, flagged), rect in zip(self._boxes, rects, strict=True):
            p.setPen(QPen(FLAG_COLOUR if flagged else OK_COLOUR, 3 if name == self.selected else 2))
            p.drawRect(rect)
        metrics = p.fontMetrics()
        sizes = [QSize(metrics.horizontalAdvance(name) + 6, metrics.height() + 2)
                 for name, _, _ in self._boxes]
        selected = [name == self.selected for name, _, _ in self._boxes]
        tags = place_labels(rects, sizes, self.rect(), selected)
        for (name, _, flagged), tag in zip(self._boxes, tags, strict=True):
            if tag is None:
                continue
            colour = FLAG_COLOUR if flagged else OK_COLOUR
            p.fillRect(tag, colour)
            p.setPen(QColor("white"))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, name)
        p.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.update()


class ContractReview(QWidget):
    """Review and correct the fields read from a contract, then confirm."""

    confirmed = Signal(dict)
    cancelled = Signal()

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = "zh" if lang.startswith("zh") else "en"
        self.setWindowTitle(self.t("Check the contract"))
        self._result: Any = None
        self._page = 0
        self.editors: dict[str, QLineEdit | QComboBox] = {}
        self.notes: dict[str, QLabel] = {}

        self.page_view = PageView()
        self.prev_btn = QPushButton("‹")
        self.next_btn = QPushButton("›")
        self.page_label = QLabel()
        self.prev_btn.clicked.connect(lambda: self.show_page(self._page - 1))
        self.next_btn.clicked.connect(lambda: self.show_page(self._page + 1))
        nav = QHBoxLayout()
        nav.addWidget(self.prev_btn)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next_btn)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.page_view, 1)
        lv.addLayout(nav)

        form_host = QWidget()
        self.form = QFormLayout(form_host)
        for name in FIELDS:
            editor: QLineEdit | QComboBox
            if name == "currency":
                editor = QComboBox()
                editor.setEditable(True)
                editor.addItems(["", *CURRENCIES])
            else:
                editor = QLineEdit()
                editor.setObjectName(name)
                editor.setClearButtonEnabled(True)
            editor.setMinimumWidth(260)
            note = QLabel()
            note.setWordWrap(True)
            note.setStyleSheet(WARN_STYLE)
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 4)
            bl.setSpacing(2)
            bl.addWidget(editor)
            bl.addWidget(note)
            label = CONTRACT.field(name).label(self.lang)
            self.form.addRow(label, box)
            self.editors[name] = editor
            self.notes[name] = note
            editor.installEventFilter(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b; font-weight: bold;")
        self.confirm_btn = QPushButton(self.t("Confirm"))
        self.confirm_btn.setDefault(True)
        cancel_btn = QPushButton(self.t("Cancel"))
        self.confirm_btn.clicked.connect(self.confirm)
        cancel_btn.clicked.connect(self.cancelled.emit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel_btn)
        buttons.addWidget(self.confirm_btn)
        right = QWidget()
        rv = QVBoxLayout(right)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_host)
        rv.addWidget(self.summary)
        rv.addWidget(scroll, 1)
        rv.addWidget(self.error)
        rv.addLayout(buttons)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(splitter)
        self.resize(1100, 760)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Focusing a field outlines its region on the page (and turns to that page)."""
        if event.type() == QEvent.Type.FocusIn:
            for name, editor in self.editors.items():
                if editor is watched:
                    self.select_field(name)
        return super().eventFilter(watched, event)

    def select_field(self, name: str) -> None:
        r = self._result.fields.get(name) if self._result is not None else None
        self.page_view.selected = CONTRACT.field(name).label(self.lang)
        if r is not None and r.page is not None and r.page != self._page:
            self.show_page(r.page)
        self.page_view.update()

    def t(self, text: str, /, **values: Any) -> str:
        return Translator(self.lang).translate(CONTEXT, text, **values)

    # -------------------------------------------------------------- showing
    @Slot(object)
    def set_result(self, result: Any) -> None:
        """Show a ContractResult (fields with value, confidence, bbox, page, warning)."""
        self._result = result
        self.error.clear()
        for name in FIELDS:
            r: FieldResult = result.fields.get(name) or FieldResult()
            editor = self.editors[name]
            text = "" if r.value is None else _display(name, r.value)
            if isinstance(editor, QComboBox):
                editor.setCurrentText(text)
            else:
                editor.setText(text)
                editor.setCursorPosition(0)
            flagged = r.value is None or r.warning is not None or r.confidence < LOW_CONFIDENCE
            if (name == "amount_in_words" and r.value is None
                    and result.fields["currency"].value != "CNY"):
                flagged = False  # only Chinese contracts write the amount in capitals
            editor.setStyleSheet(FLAG_STYLE if flagged else "")
            editor.setToolTip(self.t("{pct}% sure", pct=round(r.confidence * 100)))
            if r.value is None:
                note = self.t("Not found: type it from the paper") if flagged else ""
            elif r.warning:
                note = r.warning_in(self.lang) or ""
            elif flagged:
                sure = self.t("{pct}% sure", pct=round(r.confidence * 100))
                note = f"{self.t('Please check this field')} ({sure})"
            else:
                note = ""
            self.notes[name].setText(note)
            self.notes[name].setVisible(bool(note))
        general = [w for w in result.warnings if w.split(":")[0] not in FIELDS]
        read_by = self.t("Read by {engine} in {seconds:.1f} s", engine=result.engine,
                         seconds=result.seconds)
        self.summary.setText("\n".join([read_by, *general]))
        self.show_page(0)

    def flagged_fields(self) -> list[str]:
        return [n for n, e in self.editors.items() if e.styleSheet() == FLAG_STYLE]

    def show_page(self, index: int) -> None:
        pages = self._result.page_images if self._result is not None else []
        total = max(1, len(pages))
        self._page = max(0, min(index, total - 1))
        boxes = []
        if self._result is not None:
            for name, r in self._result.fields.items():
                if r.bbox is not None and r.page == self._page and r.value is not None:
                    boxes.append((CONTRACT.field(name).label(self.lang), r.bbox, r.flagged))
        self.page_view.set_page(pages[self._page] if pages else None, boxes)
        self.page_label.setText(self.t("Page {n} of {total}", n=self._page + 1, total=total))
        self.prev_btn.setEnabled(self._page > 0)
        self.next_btn.setEnabled(self._page < total - 1)

    # -------------------------------------------------------------- confirming
    def values(self) -> dict[str, Any]:
        """The edited values, converted (amount -> number); raises ValueError with a
        message for the user when one does not fit."""
        out: dict[str, Any] = {}
        for name, editor in self.editors.items():
            text = (editor.currentText() if isinstance(editor, QComboBox)
                    else editor.text()).strip()
            out[name] = text or None
        if out["amount"] is not None:
            try:
                amount = float(out["amount"].replace(",", "").replace("，", ""))
            except ValueError:
                raise ValueError(self.t("Amount must be a number, e.g. 1200000.00")) from None
            out["amount"] = int(amount) if amount.is_integer() else amount
        if out["sign_date"] is not None:
            try:
                out["sign_date"] = dt.date.fromisoformat(out["sign_date"]).isoformat()
            except ValueError:
                raise ValueError(self.t("Signing date must be YYYY-MM-DD")) from None
        if out["currency"] is not None:
            out["currency"] = out["currency"].upper()
            if len(out["currency"]) != 3 or not out["currency"].isalpha():
                raise ValueError(self.t("Currency must be a three-letter code such as CNY"))
        for side in ("a", "b"):
            key = f"party_{side}_uscc"
            if out[key] is not None:
                out[key] = out[key].upper().replace(" ", "")
                if not is_valid_uscc(out[key]):
                    raise ValueError(self.t(
                        "{label}: the credit code fails its check digit; correct it or clear it",
                        label=CONTRACT.field(key).label(self.lang)))
        return out

    @Slot()
    def confirm(self) -> None:
        try:
            values = self.values()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        self.confirmed.emit(values)


def _display(name: str, value: Any) -> str:
    if name == "amount" and isinstance(value, int | float):
        return f"{value:,.2f}"
    return str(value)
