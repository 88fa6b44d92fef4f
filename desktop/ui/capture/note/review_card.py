"""The review card of a parsed note: the transcript (or typed text) and what was read
from it (task, due time, note, amount, linked account, contact and deal), all editable.
Apply emits `applied(ConfirmedNote)`; the caller applies it with
`desktop.capture.note_apply.apply_note` on the store worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.capture.note_apply import ConfirmedNote
from desktop.capture.note_mentions import Candidates
from desktop.capture.note_parse import DEFAULT_DUE_TIME, NoteParse
from desktop.schema import CURRENCIES
from desktop.ui.common.formatting import viewer_zone
from desktop.ui.common.i18n import Translator, register_catalog

CONTEXT = "note review"
register_catalog({
    "Transcript": "识别文字",
    "Task": "任务",
    "Create task": "创建任务",
    "Due": "截止",
    "Due date": "有截止日期",
    "At a time": "具体时间",
    "Note": "备注",
    "Amount": "金额",
    "Account": "客户",
    "Contact": "联系人",
    "Deal": "商机",
    "(none)": "（无）",
    # no currency said: the deal's currency is kept, else the default (note_apply)
    "(deal's currency)": "按商机币种",
    # ... and when the deal has none, the one the note's language implies (CNY)
    "(deal's currency, else {code})": "按商机币种，否则 {code}",
    "Keep the recording as an attachment": "保留录音作为附件",
    "Apply": "应用",
    "The amount must be a number, e.g. 2000000.": "金额必须是数字，例如 2000000。",
    "Voice note": "语音笔记",
}, context=CONTEXT)


def _t(text: str, lang: str, **kw: object) -> str:
    return Translator(lang).translate(CONTEXT, text, **kw)


def _amount_text(amount: float | None) -> str:
    if amount is None:
        return ""
    return str(int(amount)) if float(amount).is_integer() else f"{amount:.2f}"


class VoiceReviewCard(QFrame):
    """The proposed task, note, amount and links of a voice note, each editable."""

    applied = Signal(object)  # ConfirmedNote

    def __init__(self, lang: str = "zh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._parse: NoteParse | None = None
        self._assumed: str | None = None  # the currency the note implies, not said
        self._audio: Path | None = None
        L = lambda key: _t(key, lang)  # noqa: E731
        self.title = QLabel(f"<b>{L('Voice note')}</b>")
        self.transcript = QPlainTextEdit()
        self.transcript.setMaximumHeight(60)
        self.make_task = QCheckBox(L("Create task"))
        self.make_task.setChecked(True)
        self.subject = QLineEdit()
        self.has_due = QCheckBox(L("Due date"))
        self.due_date = QDateEdit()
        self.due_date.setCalendarPopup(True)
        self.due_date.setDisplayFormat("yyyy-MM-dd")
        self.has_time = QCheckBox(L("At a time"))
        self.due_time = QTimeEdit()
        self.due_time.setDisplayFormat("HH:mm")
        self.note = QPlainTextEdit()
        self.note.setMaximumHeight(80)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("2000000")
        self.currency = QComboBox()
        self.currency.addItem(L("(deal's currency)"), None)
        self.currency.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for code in CURRENCIES:
            self.currency.addItem(code, code)
        self.account = QComboBox()
        self.contact = QComboBox()
        self.deal = QComboBox()
        self.keep_audio = QCheckBox(L("Keep the recording as an attachment"))
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.apply_button = QPushButton(L("Apply"))
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self._apply)
        self.has_due.toggled.connect(self._sync_enabled)
        self.has_time.toggled.connect(self._sync_enabled)
        self.make_task.toggled.connect(self._sync_enabled)

        task_row = QHBoxLayout()
        task_row.addWidget(self.make_task)
        task_row.addWidget(self.subject, 1)
        due_row = QHBoxLayout()
        for w in (self.has_due, self.due_date, self.has_time, self.due_time):
            due_row.addWidget(w)
        due_row.addStretch(1)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(self.currency)
        form = QFormLayout()
        form.addRow(L("Transcript"), self.transcript)
        form.addRow(L("Task"), task_row)
        form.addRow(L("Due"), due_row)
        form.addRow(L("Note"), self.note)
        form.addRow(L("Amount"), amount_row)
        form.addRow(L("Account"), self.account)
        form.addRow(L("Contact"), self.contact)
        form.addRow(L("Deal"), self.deal)
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_audio)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        task = self.make_task.isChecked()
        self.subject.setEnabled(task)
        self.has_due.setEnabled(task)
        self.due_date.setEnabled(task and self.has_due.isChecked())
        self.has_time.setEnabled(task and self.has_due.isChecked())
        self.due_time.setEnabled(task and self.has_due.isChecked() and self.has_time.isChecked())

    @staticmethod
    def _fill(combo: QComboBox, items: Sequence[tuple[str, str]], current: str | None,
              none_text: str) -> None:
        combo.clear()
        combo.addItem(none_text, None)
        for item_id, label in items:
            combo.addItem(label, item_id)
        index = combo.findData(current) if current else 0
        combo.setCurrentIndex(max(index, 0))

    def load(self, parse: NoteParse, candidates: Candidates | None = None, *,
             transcript: str | None = None, deals: Sequence[dict[str, Any]] = (),
             audio_path: Path | None = None, keep_audio: bool = False) -> None:
        """Show a parse. `deals` are plain deal records (id, title, account_id) the note
        may update; the first open one on the linked account is preselected."""
        self._parse, self._audio = parse, audio_path
        cands = candidates or Candidates()
        self.transcript.setPlainText(transcript if transcript is not None else parse.text)
        self.make_task.setChecked(parse.subject is not None)
        self.subject.setText(parse.subject or "")
        self.has_due.setChecked(parse.due_date is not None)
        self.has_time.setChecked(parse.due_time is not None)
        day = parse.due_date or parse.now.date()
        self.due_date.setDate(QDate(day.year, day.month, day.day))
        t = parse.due_time or DEFAULT_DUE_TIME
        self.due_time.setTime(QTime(t.hour, t.minute))
        self.note.setPlainText(parse.text)
        self.amount.setText(_amount_text(parse.amount))
        said = parse.currency if parse.currency_said else None
        self._assumed = None if parse.currency_said else parse.currency
        self.currency.setItemText(0, _t("(deal's currency, else {code})", self.lang,
                                        code=self._assumed) if self._assumed
                                  else _t("(deal's currency)", self.lang))
        self.currency.setCurrentIndex(max(self.currency.findData(said), 0) if said else 0)
        none = _t("(none)", self.lang)
        account_id = parse.account_id or cands.current_account_id
        contact = parse.contact
        self._fill(self.account, [(a.id, a.name) for a in cands.accounts], account_id, none)
        self._fill(self.contact, [(c.id, f"{c.name} · {c.title}" if c.title else c.name)
                                  for c in cands.contacts], contact.id if contact else None, none)
        deal_id = next((d["id"] for d in deals if d.get("account_id") == account_id
                        and d.get("stage") not in ("won", "lost")), None)
        self._fill(self.deal, [(d["id"], d.get("title") or d["id"]) for d in deals], deal_id, none)
        self.keep_audio.setChecked(keep_audio)
        self.keep_audio.setVisible(audio_path is not None)
        self.error.clear()
        self._sync_enabled()

    def confirmed(self) -> ConfirmedNote | None:
        """The values as edited, or None (and an error shown) when one is invalid."""
        self.error.clear()
        text = self.amount.text().strip().replace(",", "")
        amount: float | None = None
        if text:
            try:
                amount = float(text)
            except ValueError:
                self.error.setText(_t("The amount must be a number, e.g. 2000000.", self.lang))
                return None
        tz = (self._parse.now.tzinfo if self._parse else None) or viewer_zone()
        due_at = None
        if self.make_task.isChecked() and self.has_due.isChecked():
            d = self.due_date.date()
            t = self.due_time.time() if self.has_time.isChecked() else QTime(
                DEFAULT_DUE_TIME.hour, DEFAULT_DUE_TIME.minute)
            due_at = dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=tz)
        return ConfirmedNote(
            note=self.note.toPlainText().strip(),
            subject=(self.subject.text().strip() or None) if self.make_task.isChecked() else None,
            due_at=due_at, amount=amount, currency=self.currency.currentData(),
            currency_assumed=self._assumed,
            account_id=self.account.currentData(), contact_id=self.contact.currentData(),
            deal_id=self.deal.currentData(), transcript=self.transcript.toPlainText().strip(),
            audio_path=self._audio,
            keep_audio=self.keep_audio.isChecked() and self._audio is not None)

    def _apply(self) -> None:
        note = self.confirmed()
        if note is not None:
            self.applied.emit(note)
