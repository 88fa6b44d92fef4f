"""Voice notes in the UI: a recorder and a review card. Both are thin.

* `VoiceRecorder` records the microphone at 16 kHz mono (QAudioSource), shows a level
  meter and a timer, writes the WAV file as it goes (so a crash or an error loses
  nothing) and emits each chunk (`chunk`, 16 kHz mono bytes) so the caller can run
  live recognition in its background (`LiveTranscriber` does it on its own thread). With no microphone or no permission it says so
  and offers nothing to click.
* `VoiceReviewCard` shows the transcript and the parse (task, due time, note, amount,
  linked records), all editable; Apply emits `applied(ConfirmedNote)`. The caller applies
  it with `desktop.capture.note_apply.apply_note` on the store worker.

Transcription and parsing run in the caller's background (`ctx.run_long`), never here.
"""

from __future__ import annotations

import datetime as dt
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QDate,
    QElapsedTimer,
    QIODevice,
    QObject,
    Qt,
    QThread,
    QTime,
    QTimer,
    Signal,
)
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
    QProgressBar,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.capture.note_apply import ConfirmedNote
from desktop.capture.note_mentions import Candidates
from desktop.capture.note_parse import DEFAULT_DUE_TIME, NoteParse
from desktop.capture.voice_asr import LiveSession, Transcriber
from desktop.capture.voice_audio import SAMPLE_RATE, level, to_16k_mono
from desktop.errors import FieldCRMError
from desktop.schema import CURRENCIES

TEXTS: dict[str, dict[str, str]] = {
    "record": {"en": "Record", "zh": "录音"},
    "stop": {"en": "Stop", "zh": "停止"},
    "no_mic": {"en": "No microphone was found. Connect one, or import an audio file "
                     "(WAV, MP3, M4A, OGG) instead.",
               "zh": "没有找到麦克风。请连接麦克风，或导入录音文件（WAV、MP3、M4A、OGG）。"},
    "no_permission": {"en": "FieldCRM may not use the microphone. Allow it in the system "
                            "privacy settings, or import an audio file instead.",
                      "zh": "FieldCRM 没有使用麦克风的权限。请在系统隐私设置中允许，或导入录音文件。"},
    "mic_error": {"en": "The microphone stopped working: {error}. What was recorded is kept "
                        "in {file}.",
                  "zh": "麦克风出错：{error}。已录下的内容保存在 {file}。"},
    "recording": {"en": "Recording…", "zh": "正在录音…"},
    "saved": {"en": "Saved {file}", "zh": "已保存 {file}"},
    "transcript": {"en": "Transcript", "zh": "识别文字"},
    "task": {"en": "Task", "zh": "任务"},
    "make_task": {"en": "Create task", "zh": "创建任务"},
    "due": {"en": "Due", "zh": "截止"},
    "has_due": {"en": "Due date", "zh": "有截止日期"},
    "has_time": {"en": "At a time", "zh": "具体时间"},
    "note": {"en": "Note", "zh": "备注"},
    "amount": {"en": "Amount", "zh": "金额"},
    "account": {"en": "Account", "zh": "客户"},
    "contact": {"en": "Contact", "zh": "联系人"},
    "deal": {"en": "Deal", "zh": "商机"},
    "none": {"en": "(none)", "zh": "（无）"},
    # no currency said: the deal's currency is kept, else the default (note_apply)
    "currency_auto": {"en": "(deal's currency)", "zh": "按商机币种"},
    "keep_audio": {"en": "Keep the recording as an attachment", "zh": "保留录音作为附件"},
    "apply": {"en": "Apply", "zh": "应用"},
    "bad_amount": {"en": "The amount must be a number, e.g. 2000000.",
                   "zh": "金额必须是数字，例如 2000000。"},
    "title": {"en": "Voice note", "zh": "语音笔记"},
}


def _t(key: str, lang: str, **kw: object) -> str:
    text = TEXTS[key]["zh" if lang.startswith("zh") else "en"]
    return text.format(**kw) if kw else text


def _amount_text(amount: float | None) -> str:
    if amount is None:
        return ""
    return str(int(amount)) if float(amount).is_integer() else f"{amount:.2f}"


# ---------------------------------------------------------------- recorder
class VoiceRecorder(QWidget):
    """Record button, level meter, timer, live transcript line."""

    recorded = Signal(object)  # Path of the finished WAV file
    chunk = Signal(bytes)  # 16 kHz mono PCM, for live recognition by the caller
    failed = Signal(str)

    def __init__(self, folder: Path, lang: str = "zh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.lang = lang
        self._source: Any = None
        self._io: QIODevice | None = None
        self._wav: wave.Wave_write | None = None
        self._path: Path | None = None
        self._format: tuple[int, int] = (SAMPLE_RATE, 1)
        self._clock = QElapsedTimer()
        self.button = QPushButton(_t("record", lang))
        self.button.setCheckable(True)
        self.button.toggled.connect(self._toggled)
        self.meter = QProgressBar()
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(10)
        self.timer_label = QLabel("00:00")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.partial = QLabel()
        self.partial.setWordWrap(True)
        self.partial.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._tick = QTimer(self)
        self._tick.setInterval(200)
        self._tick.timeout.connect(self._update_timer)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.meter, 1)
        row.addWidget(self.timer_label)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.partial)
        self.check_microphone()

    # -- availability
    def check_microphone(self) -> bool:
        """Whether recording is possible; if not, say why and disable the button."""
        from PySide6.QtMultimedia import QMediaDevices

        problem = None
        if QMediaDevices.defaultAudioInput().isNull():
            problem = _t("no_mic", self.lang)
        elif not self._permission_granted():
            problem = _t("no_permission", self.lang)
        self.button.setEnabled(problem is None)
        self.status.setText(problem or "")
        return problem is None

    def _permission_granted(self) -> bool:
        try:
            from PySide6.QtCore import QMicrophonePermission
            from PySide6.QtWidgets import QApplication

            app = QApplication.instance()
            status = app.checkPermission(QMicrophonePermission())  # type: ignore[union-attr]
            return status != Qt.PermissionStatus.Denied
        except (ImportError, AttributeError, RuntimeError):
            return True  # older Qt or a platform without a permission system

    # -- recording
    def _toggled(self, on: bool) -> None:
        if on:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices

        if not self.check_microphone():
            self.button.setChecked(False)
            return
        device = QMediaDevices.defaultAudioInput()
        fmt = QAudioFormat()
        fmt.setSampleRate(SAMPLE_RATE)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            fmt = device.preferredFormat()
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._format = (fmt.sampleRate(), fmt.channelCount())
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / f"voice-{dt.datetime.now():%Y%m%d-%H%M%S}.wav"
        self._wav = wave.open(str(self._path), "wb")  # noqa: SIM115 - open while recording
        self._wav.setnchannels(fmt.channelCount())
        self._wav.setsampwidth(2)
        self._wav.setframerate(fmt.sampleRate())
        self._source = QAudioSource(device, fmt, self)
        self._source.stateChanged.connect(self._state_changed)
        self._io = self._source.start()
        if self._io is None:
            self._fail("no device")
            return
        self._io.readyRead.connect(self._read)
        self._clock.start()
        self._tick.start()
        self.button.setText(_t("stop", self.lang))
        self.status.setText(_t("recording", self.lang))

    def _read(self) -> None:
        if self._io is None:
            return
        data = bytes(self._io.readAll().data())
        if not data:
            return
        if self._wav is not None:
            self._wav.writeframes(data)  # on disk at once: nothing is lost on a crash
        self.meter.setValue(int(level(data) * 100))
        rate, channels = self._format
        self.chunk.emit(data if (rate, channels) == (SAMPLE_RATE, 1)
                        else to_16k_mono(data, rate, channels))

    def _state_changed(self, _state: object) -> None:
        from PySide6.QtMultimedia import QtAudio

        if self._source is not None and self._source.error() != QtAudio.Error.NoError:
            self._fail(str(self._source.error().name))

    def _fail(self, error: str) -> None:
        path = self._finish()
        message = _t("mic_error", self.lang, error=error, file=path or "-")
        self.status.setText(message)
        self.failed.emit(message)

    def _finish(self) -> Path | None:
        self._tick.stop()
        if self._source is not None:
            self._read()
            self._source.stop()
            self._source = None
        self._io = None
        if self._wav is not None:
            self._wav.close()
            self._wav = None
        self.button.blockSignals(True)
        self.button.setChecked(False)
        self.button.blockSignals(False)
        self.button.setText(_t("record", self.lang))
        self.meter.setValue(0)
        return self._path

    def stop(self) -> None:
        path = self._finish()
        if path is not None:
            self.status.setText(_t("saved", self.lang, file=path.name))
            self.recorded.emit(path)

    def set_partial(self, text: str) -> None:
        """Show the live transcript (called by the caller's recognition)."""
        self.partial.setText(text)

    def _update_timer(self) -> None:
        seconds = self._clock.elapsed() // 1000
        self.timer_label.setText(f"{seconds // 60:02d}:{seconds % 60:02d}")


# ---------------------------------------------------------------- live transcript
class _LiveWorker(QObject):
    partial = Signal(str)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, model_path: Path) -> None:
        super().__init__()
        self.model_path = model_path
        self._session: LiveSession | None = None
        self._broken = False

    def accept(self, chunk: bytes) -> None:
        if self._broken:
            return
        try:
            if self._session is None:
                self._session = Transcriber(self.model_path).live()  # loads once per process
            self.partial.emit(self._session.accept(chunk))
        except FieldCRMError as exc:
            self._broken = True
            self.failed.emit(exc.message)

    def finish(self) -> None:
        segments = self._session.finish() if self._session is not None else []
        self._session = None
        self.finished.emit(segments)


class LiveTranscriber(QObject):
    """Recognition while recording, on its own thread: `feed(chunk)` 16 kHz mono PCM
    (connect `VoiceRecorder.chunk`), hear `partial(text)` (connect
    `VoiceRecorder.set_partial`), `finish()` for `finished(list of segments)`. The file
    the recorder keeps is transcribed again properly afterwards; this is the preview."""

    partial = Signal(str)
    finished = Signal(object)
    failed = Signal(str)
    _feed = Signal(bytes)
    _end = Signal()

    def __init__(self, model_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._worker = _LiveWorker(Path(model_path))
        self._worker.moveToThread(self._thread)
        self._feed.connect(self._worker.accept)
        self._end.connect(self._worker.finish)
        self._worker.partial.connect(self.partial)
        self._worker.finished.connect(self.finished)
        self._worker.failed.connect(self.failed)
        self._thread.start()

    def feed(self, chunk: bytes) -> None:
        self._feed.emit(chunk)

    def finish(self) -> None:
        self._end.emit()

    def close(self) -> None:
        self._thread.quit()
        self._thread.wait()


# ---------------------------------------------------------------- review card
class VoiceReviewCard(QFrame):
    """The proposed task, note, amount and links of a voice note, each editable."""

    applied = Signal(object)  # ConfirmedNote

    def __init__(self, lang: str = "zh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._parse: NoteParse | None = None
        self._audio: Path | None = None
        L = lambda key: _t(key, lang)  # noqa: E731
        self.title = QLabel(f"<b>{L('title')}</b>")
        self.transcript = QPlainTextEdit()
        self.transcript.setMaximumHeight(60)
        self.make_task = QCheckBox(L("make_task"))
        self.make_task.setChecked(True)
        self.subject = QLineEdit()
        self.has_due = QCheckBox(L("has_due"))
        self.due_date = QDateEdit()
        self.due_date.setCalendarPopup(True)
        self.due_date.setDisplayFormat("yyyy-MM-dd")
        self.has_time = QCheckBox(L("has_time"))
        self.due_time = QTimeEdit()
        self.due_time.setDisplayFormat("HH:mm")
        self.note = QPlainTextEdit()
        self.note.setMaximumHeight(80)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("2000000")
        self.currency = QComboBox()
        self.currency.addItem(L("currency_auto"), None)
        self.currency.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for code in CURRENCIES:
            self.currency.addItem(code, code)
        self.account = QComboBox()
        self.contact = QComboBox()
        self.deal = QComboBox()
        self.keep_audio = QCheckBox(L("keep_audio"))
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.apply_button = QPushButton(L("apply"))
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
        form.addRow(L("transcript"), self.transcript)
        form.addRow(L("task"), task_row)
        form.addRow(L("due"), due_row)
        form.addRow(L("note"), self.note)
        form.addRow(L("amount"), amount_row)
        form.addRow(L("account"), self.account)
        form.addRow(L("contact"), self.contact)
        form.addRow(L("deal"), self.deal)
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
        self.currency.setCurrentIndex(max(self.currency.findData(parse.currency), 0)
                                      if parse.currency else 0)
        none = _t("none", self.lang)
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
                self.error.setText(_t("bad_amount", self.lang))
                return None
        tz = self._parse.now.tzinfo if self._parse else dt.datetime.now().astimezone().tzinfo
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
            account_id=self.account.currentData(), contact_id=self.contact.currentData(),
            deal_id=self.deal.currentData(), transcript=self.transcript.toPlainText().strip(),
            audio_path=self._audio, keep_audio=self.keep_audio.isChecked() and self._audio is not None)

    def _apply(self) -> None:
        note = self.confirmed()
        if note is not None:
            self.applied.emit(note)
