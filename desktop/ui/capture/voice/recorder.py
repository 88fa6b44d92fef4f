"""Voice notes in the UI: the recorder and live transcription. Both are thin.

* `VoiceRecorder` records the microphone at 16 kHz mono (QAudioSource), shows a level
  meter and a timer, writes the recording as it goes (so a crash or an error loses
  nothing; sealed in an encrypted profile: desktop.capture.recording) and emits each
  chunk (`chunk`, 16 kHz mono bytes) so the caller can run live recognition in its
  background (`LiveTranscriber` does it as a background task).
  With no microphone or no permission it says so
  and offers nothing to click.
* The review card of what was heard is desktop.ui.capture.note.review_card.

Transcription and parsing run in the caller's background (`ctx.run_long`), never here.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QElapsedTimer,
    QIODevice,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.capture.recording import Recording, start_recording
from desktop.capture.voice_asr import LiveSession, Transcriber
from desktop.capture.voice_audio import SAMPLE_RATE, level, to_16k_mono
from desktop.errors import Cancelled, FieldCRMError
from desktop.ui.common.i18n import Translator, register_catalog
from desktop.ui.common.jobs import BackgroundTask

log = logging.getLogger(__name__)

CONTEXT = "voice note"
register_catalog({
    "Record": "录音",
    "Stop": "停止",
    "No microphone was found. Connect one, or import an audio file (WAV, MP3, M4A, OGG) instead.":
        "没有找到麦克风。请连接麦克风，或导入录音文件（WAV、MP3、M4A、OGG）。",
    "FieldCRM may not use the microphone. Allow it in the system privacy settings, or import "
    "an audio file instead.":
        "FieldCRM 没有使用麦克风的权限。请在系统隐私设置中允许，或导入录音文件。",
    "The microphone stopped working: {error}. What was recorded is kept in {file}.":
        "麦克风出错：{error}。已录下的内容保存在 {file}。",
    "The recording could not be saved: {error}. What was recorded before is kept in {file}.":
        "录音无法保存：{error}。之前录下的内容保存在 {file}。",
    "Recording…": "正在录音…",
    "Saved {file}": "已保存 {file}",
}, context=CONTEXT)


def _t(text: str, lang: str, **kw: object) -> str:
    return Translator(lang).translate(CONTEXT, text, **kw)


# ---------------------------------------------------------------- recorder
class VoiceRecorder(QWidget):
    """Record button, level meter, timer, live transcript line."""

    recorded = Signal(object)  # Path of the finished recording
    chunk = Signal(bytes)  # 16 kHz mono PCM, for live recognition by the caller
    failed = Signal(str)

    def __init__(self, folder: Path, lang: str = "zh", parent: QWidget | None = None, *,
                 key: Callable[[], bytes | None] = lambda: None) -> None:
        """`key`: the profile's sealing key (desktop.capture.recording.recordings_key), asked
        when a recording starts; None writes a plain WAV (a plain profile)."""
        super().__init__(parent)
        self.folder = Path(folder)
        self.lang = lang
        self._key = key
        self._source: Any = None
        self._io: QIODevice | None = None
        self._recording: Recording | None = None
        self._path: Path | None = None
        self._format: tuple[int, int] = (SAMPLE_RATE, 1)
        self._clock = QElapsedTimer()
        self.button = QPushButton(_t("Record", lang))
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
            problem = _t("No microphone was found. Connect one, or import an audio file "
                         "(WAV, MP3, M4A, OGG) instead.", self.lang)
        elif not self._permission_granted():
            problem = _t("FieldCRM may not use the microphone. Allow it in the system privacy "
                         "settings, or import an audio file instead.", self.lang)
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
        try:
            self._recording = start_recording(self.folder, self._key(), *self._format)
        except (FieldCRMError, OSError) as exc:  # no key, full disk: say so, record nothing
            self._uncheck()
            message = exc.message if isinstance(exc, FieldCRMError) else str(exc)
            self.status.setText(message)
            self.failed.emit(message)
            return
        self._path = self._recording.path
        self._source = QAudioSource(device, fmt, self)
        self._source.stateChanged.connect(self._state_changed)
        self._io = self._source.start()
        if self._io is None:
            self._fail("no device")
            return
        self._io.readyRead.connect(self._read)
        self._clock.start()
        self._tick.start()
        self.button.setText(_t("Stop", self.lang))
        self.status.setText(_t("Recording…", self.lang))

    def _read(self) -> None:
        if self._io is None:
            return
        data = bytes(self._io.readAll().data())
        if not data:
            return
        if self._recording is not None:
            try:
                self._recording.write(data)  # on disk at once: nothing is lost on a crash
            except (FieldCRMError, OSError) as exc:  # a full disk: what was written stays
                broken, self._recording = self._recording, None
                with contextlib.suppress(FieldCRMError, OSError):
                    broken.close()
                self._fail(exc.message if isinstance(exc, FieldCRMError) else str(exc),
                           "The recording could not be saved: {error}. What was recorded "
                           "before is kept in {file}.")
                return
        self.meter.setValue(int(level(data) * 100))
        rate, channels = self._format
        self.chunk.emit(data if (rate, channels) == (SAMPLE_RATE, 1)
                        else to_16k_mono(data, rate, channels))

    def _state_changed(self, _state: object) -> None:
        from PySide6.QtMultimedia import QtAudio

        if self._source is not None and self._source.error() != QtAudio.Error.NoError:
            self._fail(str(self._source.error().name))

    def _fail(self, error: str, text: str = "The microphone stopped working: {error}. What "
              "was recorded is kept in {file}.") -> None:
        path = self._finish()
        message = _t(text, self.lang, error=error, file=path or "-")
        self.status.setText(message)
        self.failed.emit(message)

    def _finish(self) -> Path | None:
        self._tick.stop()
        if self._source is not None:
            self._read()
            self._source.stop()
            self._source = None
        self._io = None
        if self._recording is not None:
            recording, self._recording = self._recording, None
            with contextlib.suppress(FieldCRMError, OSError):  # each write is on disk already
                recording.close()
        self._uncheck()
        self.button.setText(_t("Record", self.lang))
        self.meter.setValue(0)
        return self._path

    def _uncheck(self) -> None:
        self.button.blockSignals(True)  # not a click: toggling would start or stop again
        self.button.setChecked(False)
        self.button.blockSignals(False)

    def stop(self) -> None:
        path = self._finish()
        if path is not None:
            self.status.setText(_t("Saved {file}", self.lang, file=path.name))
            self.recorded.emit(path)

    def set_partial(self, text: str) -> None:
        """Show the live transcript (called by the caller's recognition)."""
        self.partial.setText(text)

    def _update_timer(self) -> None:
        seconds = self._clock.elapsed() // 1000
        self.timer_label.setText(f"{seconds // 60:02d}:{seconds % 60:02d}")


# ---------------------------------------------------------------- live transcript
class LiveTranscriber(QObject):
    """Recognition while recording, as a background task (desktop.ui.common.jobs):
    `feed(chunk)` 16 kHz mono PCM (connect `VoiceRecorder.chunk`), hear `partial(text)`
    (connect `VoiceRecorder.set_partial`), `finish()` for `finished(list of segments)`;
    `failed(message)` once recognition broke (later chunks are ignored). The file the
    recorder keeps is transcribed again properly afterwards; this is the preview."""

    partial = Signal(str)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, model_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_path = Path(model_path)
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._task = BackgroundTask(self._listen, "voice-live", on_progress=self._partial)
        self._task.succeeded.connect(self._done)
        self._task.failed.connect(self._broke)
        self._task.start()

    def _listen(self, task: BackgroundTask) -> list[str] | None:
        """On the task's thread: recognise chunks until `finish()` (or `close()`)."""
        session: LiveSession | None = None
        broken = False
        while True:
            chunk = self._chunks.get()
            if chunk is None or task.cancelled():
                return session.finish() if session is not None else []
            if broken:
                continue
            try:
                if session is None:
                    session = Transcriber(self.model_path).live()  # loads once per process
                text = session.accept(chunk)
            except FieldCRMError as exc:  # no preview; the recording itself goes on
                broken = True
                self.failed.emit(exc.message)
                continue
            task.report(0.0, text)

    def _partial(self, _fraction: float, text: str) -> None:
        self.partial.emit(text)

    def _done(self, segments: object) -> None:
        self.finished.emit(segments)

    def _broke(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return  # closed
        if isinstance(exc, FieldCRMError):
            self.failed.emit(exc.message)
        else:
            log.error("live transcription failed", exc_info=exc)
        self.finished.emit([])  # (the window then closes this preview)

    def feed(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def finish(self) -> None:
        self._chunks.put(None)

    def close(self) -> None:
        self._task.cancel()
        self._chunks.put(None)
        self._task.wait()
