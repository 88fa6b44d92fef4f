"""The voice note window: record, import or type a note -> review -> apply.

Left: the speech model (the Vosk models found on this computer; the choice is kept in
the settings), the recorder (with a live preview of the words while recording), "Import
an audio file…" and a box to type or paste the note. Right: the review card with the
transcript and the proposed task, due date, note, amount and links; Apply writes them
through the store (`apply_note`, one transaction).

Decoding and speech recognition run on a `BackgroundTask` thread (seconds of CPU, no store
needed, so they must not hold the store worker); reading the records a note may name
and parsing it run on the store worker (`ctx.run`). With no model installed, the
window says how to add one, and typing still works.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.capture.recording import recordings_key
from desktop.capture.store_ops import NoteContext, local_now, note_context
from desktop.errors import Cancelled, FieldCRMError
from desktop.profile import RECORDINGS_DIR
from desktop.ui.capture.note.review_card import VoiceReviewCard
from desktop.ui.capture.voice.recorder import LiveTranscriber, VoiceRecorder
from desktop.ui.common.formatting import viewer_zone
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.jobs import BackgroundTask

if TYPE_CHECKING:
    from desktop.capture.note_apply import AppliedNote, ConfirmedNote
    from desktop.capture.note_parse import NoteParse
    from desktop.capture.voice_models import VoiceModel
    from desktop.store import Store
    from desktop.ui.common.context import AppContext

AUDIO_FILTER = "Audio (*.wav *.mp3 *.m4a *.aac *.ogg *.oga *.opus *.flac *.webm *.3gp *.amr)"
ERROR_STYLE = "color: #c0392b; font-weight: bold;"
HELP_STYLE = "background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px; padding: 10px;"
DONE_STYLE = "color: #2e7d32; font-weight: bold;"
MODELS_URL = "alphacephei.com/vosk/models"
CARD_EMPTY, CARD_SHOWN = 0, 1

register_catalog({
    "Voice note": "语音笔记",
    "Speech model": "语音模型",
    "Look again": "重新查找",
    "(none installed)": "（未安装）",
    "Looking for speech models…": "正在查找语音模型…",
    "Still looking for the speech models: try again in a moment.": "仍在查找语音模型，请稍后再试。",
    "Open the models folder": "打开模型文件夹",
    "No speech model is installed, so recordings cannot be turned into text yet. "
    "You can still type the note below.\n\nTo add one, press “Download or choose a "
    "model…”: FieldCRM downloads a Vosk model (for Chinese vosk-model-small-cn-0.22, for "
    "English vosk-model-small-en-us-0.15) into\n{folder}\nor uses a folder you choose. "
    "Without a connection: download the model from {url} on any computer, unzip it into "
    "that folder (or a folder named in {env}), then press “Look again”.":
        "尚未安装语音模型，录音暂时无法转成文字。仍然可以在下方直接输入笔记。\n\n"
        "添加方法：点击“下载或选择模型…”，FieldCRM 会下载 Vosk 模型（中文用 "
        "vosk-model-small-cn-0.22，英文用 vosk-model-small-en-us-0.15）到\n{folder}\n"
        "也可以使用您选择的文件夹。没有网络时：在任意一台电脑上从 {url} 下载模型，解压到该"
        "文件夹（或环境变量 {env} 指定的文件夹），然后点击“重新查找”。",
    "Download or choose a model…": "下载或选择模型…",
    "Speech models…": "语音模型…",
    "In use: {name}, in {folder}": "正在使用：{name}，位于 {folder}",
    " The recording is kept in {file}.": "录音已保存在 {file}。",
    "Record or import": "录音或导入",
    "WAV, MP3, M4A or OGG": "支持 WAV、MP3、M4A、OGG",
    "Import an audio file…": "导入录音文件…",
    "Or type or paste the note": "或直接输入、粘贴笔记",
    "Read the text": "解析文字",
    "e.g. 张总说下周二看工厂，预算200万 / Call Anna on Friday at 3 pm, budget 50k USD":
        "例如：张总说下周二看工厂，预算200万",
    "Type or paste the note first.": "请先输入或粘贴笔记内容。",
    "Record, import or type a note: the proposed task, due date, amount and the records "
    "it names appear here for you to check before anything is saved.":
        "录音、导入或输入一条笔记后，这里会列出建议的任务、截止日期、金额和提到的客户、"
        "联系人，确认后才会保存。",
    AUDIO_FILTER: "录音 (*.wav *.mp3 *.m4a *.aac *.ogg *.oga *.opus *.flac *.webm *.3gp *.amr)",
    "All files (*)": "所有文件 (*)",
    "Transcribing {file}…": "正在识别 {file}…",
    "Reading the recording": "正在读取录音",
    "Loading the speech model": "正在加载语音模型",
    "Stopping…": "正在停止…",
    "Stopped. Nothing was saved.": "已停止，未保存任何内容。",
    "Saved: {what}.": "已保存：{what}。",
    ", ": "，",
    "task “{subject}”{due}": "任务“{subject}”{due}",
    ", due {when}": "（截止 {when}）",
    "a note on the timeline": "一条时间线笔记",
    "the deal amount set to {amount}": "商机金额改为 {amount}",
    "a new deal with the amount {amount}": "新商机，金额 {amount}",
    "the recording as an attachment": "录音附件",
})


class VoiceNoteWindow(QWidget):
    """Turn a spoken or typed note into a task, a timeline note and a deal amount."""

    applied = Signal(object)  # the AppliedNote

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 account_id: str | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("voice_note")
        self.ctx = ctx
        self.account_id = account_id
        self.models: list[VoiceModel] = []
        self.models_ready = False
        self.job: BackgroundTask | None = None
        self.live: LiveTranscriber | None = None
        self.parse: NoteParse | None = None
        self.last_applied: AppliedNote | None = None
        self._keep_audio = False
        tr = ctx.tr
        self.setWindowTitle(tr("Voice note"))

        # -- the model
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("model_combo")
        self.model_combo.currentIndexChanged.connect(self._model_chosen)
        self.rescan_button = QPushButton(tr("Look again"))
        self.rescan_button.clicked.connect(self.find_models)
        self.manage_button = QPushButton(tr("Speech models…"))
        self.manage_button.setObjectName("manage_models")
        self.manage_button.clicked.connect(lambda _checked=False: self.open_models_dialog())
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel(tr("Speech model") + ":"))
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.rescan_button)
        model_row.addWidget(self.manage_button)
        self.model_status = QLabel()
        self.model_status.setObjectName("model_status")
        self.model_status.setWordWrap(True)
        self.model_status.setStyleSheet("color: #555;")
        self.model_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_help = QLabel()
        self.model_help.setObjectName("model_help")
        self.model_help.setWordWrap(True)
        self.model_help.setStyleSheet(HELP_STYLE)
        self.model_help.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_models_button = QPushButton(tr("Open the models folder"))
        self.open_models_button.clicked.connect(self.open_models_folder)
        self.get_model_button = QPushButton(tr("Download or choose a model…"))
        self.get_model_button.setObjectName("get_model")
        self.get_model_button.clicked.connect(lambda _checked=False: self.open_models_dialog())
        self.model_help.hide()
        self.open_models_button.hide()
        self.get_model_button.hide()
        self.models_dialog: QWidget | None = None

        # -- record or import
        self.recorder = VoiceRecorder(ctx.profile / RECORDINGS_DIR, ctx.lang,
                                      key=lambda: recordings_key(ctx.profile))
        self.recorder.chunk.connect(self._live_chunk)
        self.recorder.recorded.connect(self._recorded)
        self.recorder.failed.connect(self._show_error)
        self.import_button = QPushButton(tr("Import an audio file…"))
        self.import_button.clicked.connect(self.choose_audio)
        audio_box = QGroupBox(tr("Record or import"))
        av = QVBoxLayout(audio_box)
        av.addWidget(self.recorder)
        ir = QHBoxLayout()
        ir.addWidget(QLabel(tr("WAV, MP3, M4A or OGG")))
        ir.addStretch(1)
        ir.addWidget(self.import_button)
        av.addLayout(ir)

        # -- type
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("note_text")
        self.text_edit.setPlaceholderText(tr("e.g. 张总说下周二看工厂，预算200万 / "
                                             "Call Anna on Friday at 3 pm, budget 50k USD"))
        self.text_edit.setMaximumHeight(110)
        self.read_text_button = QPushButton(tr("Read the text"))
        self.read_text_button.clicked.connect(lambda _checked=False: self.read_text())
        type_box = QGroupBox(tr("Or type or paste the note"))
        tv = QVBoxLayout(type_box)
        tv.addWidget(self.text_edit)
        tr_row = QHBoxLayout()
        tr_row.addStretch(1)
        tr_row.addWidget(self.read_text_button)
        tv.addLayout(tr_row)

        # -- progress and messages
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        pr = QHBoxLayout()
        pr.addWidget(self.progress, 1)
        pr.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        pv = QVBoxLayout(self.progress_box)
        pv.setContentsMargins(0, 0, 0, 0)
        pv.addLayout(pr)
        pv.addWidget(self.progress_label)
        self.progress_box.hide()
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(model_row)
        lv.addWidget(self.model_status)
        lv.addWidget(self.model_help)
        help_row = QHBoxLayout()
        help_row.addStretch(1)
        help_row.addWidget(self.open_models_button)
        help_row.addWidget(self.get_model_button)
        lv.addLayout(help_row)
        lv.addWidget(audio_box)
        lv.addWidget(type_box)
        lv.addWidget(self.progress_box)
        lv.addWidget(self.error_label)
        lv.addStretch(1)

        # -- the review card (right)
        self.card = VoiceReviewCard(ctx.lang)
        self.card.applied.connect(self.apply)
        self.empty_label = QLabel(tr("Record, import or type a note: the proposed task, due "
                                     "date, amount and the records it names appear here for "
                                     "you to check before anything is saved."))
        self.empty_label.setObjectName("empty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("color: #666; font-size: 14px; padding: 30px;")
        self.done_label = QLabel()
        self.done_label.setObjectName("done")
        self.done_label.setWordWrap(True)
        self.done_label.setStyleSheet(DONE_STYLE)
        self.done_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.done_label.hide()
        self.card_stack = QStackedWidget()
        self.card_stack.addWidget(self.empty_label)
        self.card_stack.addWidget(self.card)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(self.done_label)
        rv.addWidget(self.card_stack, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.resize(1180, 640)
        self.find_models()

    # ------------------------------------------------------------ models
    @property
    def models_folder(self) -> Path:
        from desktop.capture.voice_models import PROFILE_MODELS_DIR

        return self.ctx.profile / PROFILE_MODELS_DIR

    def find_models(self) -> None:
        """Look for installed models in the background (it reads package metadata)."""
        from desktop.capture.voice_models import discover_models

        profile = self.ctx.profile
        self.models_ready = False
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem(self.ctx.tr("Looking for speech models…"), None)
        self.model_combo.blockSignals(False)
        self.model_combo.setEnabled(False)
        chosen = self.ctx.settings.voice_model

        def work(_task: BackgroundTask) -> list[VoiceModel]:
            from desktop.capture.voice_models import VoiceModel, check_model, guess_language

            models = discover_models(profile)
            # a folder chosen in Speech models may lie outside the places searched
            if chosen and all(str(m.path) != chosen for m in models):
                try:
                    check_model(Path(chosen))
                    path = Path(chosen)
                    models.append(VoiceModel(path, path.name, guess_language(path.name),
                                             "chosen"))
                except FieldCRMError:
                    pass
            return models

        self.ctx.run_task(work, on_done=self._models_found, on_error=self._models_failed,
                          name="voice-models")

    def _models_found(self, models: list[VoiceModel]) -> None:
        self.models = list(models)
        self.models_ready = True
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        for m in self.models:
            lang = f" ({m.language})" if m.language else ""
            combo.addItem(f"{m.name}{lang}", str(m.path))
        saved = self.ctx.settings.voice_model
        index = combo.findData(saved) if saved else -1
        if index < 0:
            index = next((i for i, m in enumerate(self.models) if m.language == self.ctx.lang), 0)
        if not self.models:
            combo.addItem(self.ctx.tr("(none installed)"), None)
            index = 0
        combo.setCurrentIndex(index)
        combo.setEnabled(bool(self.models))
        combo.blockSignals(False)
        missing = not self.models
        if missing:
            self.model_help.setText(self.how_to_add_model())
        self.model_help.setVisible(missing)
        self.open_models_button.setVisible(missing)
        self.get_model_button.setVisible(missing)
        self._show_model_status()

    def _show_model_status(self) -> None:
        """Say which model is in use (the combo shows only its name)."""
        path = self.current_model()
        self.model_status.setVisible(path is not None)
        if path is not None:
            self.model_status.setText(self.ctx.tr("In use: {name}, in {folder}",
                                                  name=path.name, folder=path.parent))

    def open_models_dialog(self) -> QWidget:
        """Speech models (download, choose a folder); the list here follows its choice."""
        from desktop.ui.capture.models.page import SpeechModelsDialog

        if self.models_dialog is not None and shiboken6.isValid(self.models_dialog):
            self.models_dialog.raise_()
            return self.models_dialog
        dlg = SpeechModelsDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.page.model_changed.connect(lambda _path: self.find_models())
        self.models_dialog = dlg
        dlg.open()
        return dlg

    def _models_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Cancelled):
            self._models_found([])
            self._show_error(self.ctx.error_text(exc))

    def how_to_add_model(self) -> str:
        from desktop.capture.voice_models import ENV_VAR

        return self.ctx.tr(
            "No speech model is installed, so recordings cannot be turned into text yet. "
            "You can still type the note below.\n\nTo add one, press “Download or choose a "
            "model…”: FieldCRM downloads a Vosk model (for Chinese vosk-model-small-cn-0.22, for "
            "English vosk-model-small-en-us-0.15) into\n{folder}\nor uses a folder you choose. "
            "Without a connection: download the model from {url} on any computer, unzip it into "
            "that folder (or a folder named in {env}), then press “Look again”.",
            url=MODELS_URL, folder=self.models_folder, env=ENV_VAR)

    def _model_chosen(self, _index: int) -> None:
        path = self.model_combo.currentData()
        if path and path != self.ctx.settings.voice_model:
            self.ctx.settings.voice_model = path
            self.ctx.settings.save(self.ctx.profile)
        self._show_model_status()

    def current_model(self) -> Path | None:
        path = self.model_combo.currentData()
        return Path(path) if path else None

    def open_models_folder(self) -> None:
        self.models_folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.models_folder)))

    # ------------------------------------------------------------ audio
    def choose_audio(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.ctx.tr("Import an audio file…"), "",
            f"{self.ctx.tr(AUDIO_FILTER)};;{self.ctx.tr('All files (*)')}")
        if path:
            self.transcribe(Path(path))

    def _recorded(self, path: Path) -> None:
        self._end_live()
        self.transcribe(Path(path), keep_audio=True)

    def _live_chunk(self, chunk: bytes) -> None:
        """Preview the words while recording (the file is transcribed properly after)."""
        model = self.current_model()
        if model is None:
            return
        if self.live is None:
            self.live = LiveTranscriber(model, self)
            self.live.partial.connect(self.recorder.set_partial)
            self.live.finished.connect(self._live_finished)
        self.live.feed(chunk)

    def _end_live(self) -> None:
        if self.live is not None:
            self.live.finish()

    def _live_finished(self, _segments: object) -> None:
        self._close_live()

    def _close_live(self) -> None:
        if self.live is not None:
            self.live.close()
            self.live = None

    def transcribe(self, audio: Path, *, keep_audio: bool = False) -> BackgroundTask | None:
        """Turn an audio file into text in the background, then parse it."""
        if self.job is not None:
            return None
        self._clear_messages()
        if not self.models_ready:
            self._show_error(self.ctx.tr("Still looking for the speech models: try again in a "
                                         "moment."))
            return None
        model = self.current_model()
        if model is None:
            kept = (self.ctx.tr(" The recording is kept in {file}.", file=audio)
                    if keep_audio else "")
            self._show_error(self.how_to_add_model().split("\n\n")[0] + kept)
            self.model_help.setVisible(True)
            return None

        profile = self.ctx.profile

        def work(job: BackgroundTask) -> tuple[str, str]:
            from desktop.capture.recording import decode_recording
            from desktop.capture.voice_asr import CHUNK_SECONDS, Transcriber

            job.report(0.0, "Reading the recording")
            pcm = decode_recording(audio, profile)  # a sealed one decrypted in memory
            job.report(0.05, "Loading the speech model")
            transcriber = Transcriber(model)
            transcriber.load()
            steps = max(1.0, pcm.seconds / CHUNK_SECONDS)
            heard = [0]

            def partial(text: str) -> None:
                heard[0] += 1
                job.report(0.1 + 0.9 * min(1.0, heard[0] / steps), text)

            t = transcriber.transcribe(pcm, on_partial=partial, cancelled=job.cancelled)
            return t.text, str(audio)

        self._keep_audio = keep_audio
        self.job = self.ctx.run_task(work, on_done=self._transcribed, on_error=self._job_failed,
                                     on_progress=self._progressed, name="voice-transcribe")
        self._busy(True, self.ctx.tr("Transcribing {file}…", file=audio.name))
        return self.job

    def _progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 100))
        if text in ("Reading the recording", "Loading the speech model"):
            text = self.ctx.tr(text)
        self.progress_label.setText(text)

    def _transcribed(self, out: tuple[str, str]) -> None:
        self.job = None
        self._busy(False)
        text, audio = out
        self.read_text(text, audio_path=Path(audio), keep_audio=self._keep_audio)

    def _job_failed(self, exc: BaseException) -> None:
        self.job = None
        self._busy(False)
        if isinstance(exc, Cancelled):
            self.done_label.hide()
            self._show_error(self.ctx.tr("Stopped. Nothing was saved."), style="")
            return
        if not isinstance(exc, FieldCRMError):
            self.ctx.show_error(exc)  # logs it
        self._show_error(self.ctx.error_text(exc))

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(self.ctx.tr("Stopping…"))

    def _busy(self, on: bool, text: str = "") -> None:
        self.progress_box.setVisible(on)
        self.progress.setValue(0)
        self.progress_label.setText(text)
        self.cancel_button.setEnabled(on)
        for w in (self.import_button, self.read_text_button, self.recorder.button):
            w.setEnabled(not on)
        if not on:
            self.recorder.check_microphone()

    # ------------------------------------------------------------ parsing
    def read_text(self, text: str | None = None, *, audio_path: Path | None = None,
                  keep_audio: bool = False) -> None:
        """Parse a note (typed, or the transcript of `audio_path`) and show the card."""
        typed = text is None
        note = (self.text_edit.toPlainText() if typed else text or "").strip()
        self._clear_messages()
        if not note:
            self._show_error(self.ctx.tr("Type or paste the note first."))
            return
        account_id = self.account_id
        now = local_now(viewer_zone())
        self.read_text_button.setEnabled(False)

        def op(store: Store) -> tuple[NoteContext, NoteParse]:
            from desktop.capture.note_parse import parse_note

            context = note_context(store, account_id)
            return context, parse_note(note, now, context.candidates)

        def done(out: tuple[NoteContext, NoteParse]) -> None:
            self.read_text_button.setEnabled(True)
            context, parse = out
            self.parse = parse
            self.card.load(parse, context.candidates, transcript=None if typed else note,
                           deals=context.deals, audio_path=audio_path, keep_audio=keep_audio)
            self.card_stack.setCurrentIndex(CARD_SHOWN)

        def failed(exc: BaseException) -> None:
            self.read_text_button.setEnabled(True)
            self._show_error(self.ctx.error_text(exc))

        self.ctx.run(op, on_done=done, on_error=failed, initiator=self)

    # ------------------------------------------------------------ applying
    def apply(self, note: ConfirmedNote) -> None:
        self.card.apply_button.setEnabled(False)

        def op(store: Store) -> AppliedNote:
            from desktop.capture.note_apply import apply_note

            return apply_note(store, note)

        def done(result: AppliedNote) -> None:
            self.card.apply_button.setEnabled(True)
            self.last_applied = result
            self.done_label.setText(self._applied_text(note, result))
            self.done_label.show()
            self.card_stack.setCurrentIndex(CARD_EMPTY)
            self.text_edit.clear()
            self.applied.emit(result)

        def failed(exc: BaseException) -> None:
            self.card.apply_button.setEnabled(True)
            self.card.error.setText(self.ctx.error_text(exc))

        self.ctx.run(op, on_done=done, on_error=failed, initiator=self)

    def _applied_text(self, note: ConfirmedNote, result: AppliedNote) -> str:
        tr = self.ctx.tr
        parts = []
        if result.task_id and note.subject:
            due = (tr(", due {when}", when=note.due_at.strftime("%Y-%m-%d %H:%M"))
                   if note.due_at else "")
            parts.append(tr("task “{subject}”{due}", subject=note.subject, due=due))
        parts.append(tr("a note on the timeline"))
        if note.amount is not None:
            key = ("a new deal with the amount {amount}" if result.deal_created
                   else "the deal amount set to {amount}")
            parts.append(tr(key, amount=f"{note.amount:,.0f}"))
        if result.attachment_id:
            parts.append(tr("the recording as an attachment"))
        return tr("Saved: {what}.", what=tr(", ").join(parts))

    # ------------------------------------------------------------ messages
    def _show_error(self, text: str, style: str = ERROR_STYLE) -> None:
        self.error_label.setStyleSheet(style)
        self.error_label.setText(text)

    def _clear_messages(self) -> None:
        self.error_label.clear()
        self.done_label.hide()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.job is not None:
            self.job.cancel()
        if self.recorder.button.isChecked():
            self.recorder.recorded.disconnect(self._recorded)
            self.recorder.stop()
        self._close_live()
        super().closeEvent(event)
