"""Compressed voice notes (MP3, M4A/AAC, OGG Vorbis/Opus, FLAC, ...) decoded by Qt
Multimedia, whose FFmpeg is in the bundle anyway (desktop.capture stays Qt-free and
gets this decoder through `voice_decoder.register_decoder`).

`install()` registers it: the app calls it at start-up, `fieldcrm` (desktop.cli) before
a sub-command. `decode_with_qt(path)` may run on any thread: it drives a QAudioDecoder
with a local event loop until the file is read, and makes a QCoreApplication when the
process has none (the command line).

The decoder is asked for the file's own format, not 16 kHz mono: Qt 6.12's FFmpeg
decoder stalls for good when its resampler returns an empty buffer, which happens on
the first frame of most MP3 files (the encoder delay leaves a few dozen samples; 47 at
44.1 kHz become 0 at 16 kHz). Mixing down and resampling happen in
desktop.capture.voice_audio instead.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from desktop.capture.errors import AudioDecodeError
from desktop.capture.voice_decoder import AudioChunk, register_decoder

log = logging.getLogger(__name__)
# Longest wait for the next buffer: decoding is ~100x real time, so a pause this long
# means the decoder is stuck, not slow.
STALL_TIMEOUT_MS = 15_000
_SAMPLE_FORMATS = {"UInt8": "u8", "Int16": "s16", "Int32": "s32", "Float": "f32"}
_cli_app: object | None = None  # the QCoreApplication made here (kept: Qt wants one per process)


def install() -> None:
    """Register Qt Multimedia as the decoder for every audio file that is not plain WAV."""
    register_decoder(decode_with_qt)


def _ensure_core_app() -> None:
    global _cli_app
    from PySide6.QtCore import QCoreApplication, QLoggingCategory

    if QCoreApplication.instance() is None:
        # A command-line run: FFmpeg's stream dumps and Qt's probing of optional libraries
        # (PipeWire, VA-API) would land between the command's own output lines.
        QLoggingCategory.setFilterRules("qt.multimedia.*=false")
        _cli_app = QCoreApplication([sys.argv[0] if sys.argv else "fieldcrm"])


def decode_with_qt(path: Path) -> Iterator[AudioChunk]:
    """Yield the audio of `path` buffer by buffer, in the file's own sample rate and
    channels. Raises AudioDecodeError (naming the file) when Qt cannot read it."""
    path = Path(path)
    _ensure_core_app()
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtMultimedia import QAudioDecoder

    decoder = QAudioDecoder()
    if not decoder.isSupported():
        raise AudioDecodeError(
            f"{path.name} cannot be read: this installation has no audio decoder (Qt "
            "Multimedia's FFmpeg plugin is missing). Reinstall FieldCRM, or convert the "
            "file to WAV. The original file is kept as it was.")
    loop = QEventLoop()
    stall = QTimer()
    stall.setSingleShot(True)
    stall.setInterval(STALL_TIMEOUT_MS)
    stall.timeout.connect(loop.quit)
    ready: deque[AudioChunk] = deque()
    state = {"done": False, "error": ""}

    def take_buffer() -> None:
        # read() also asks the decoder for the next buffer; it hands out one at a time.
        buffer = decoder.read()
        if buffer.isValid() and buffer.byteCount() > 0:
            fmt = buffer.format()
            kind = _SAMPLE_FORMATS.get(fmt.sampleFormat().name)
            if kind is None:
                state["error"] = f"unexpected sample format {fmt.sampleFormat().name}"
                decoder.stop()
            else:
                ready.append(AudioChunk(bytes(buffer.constData()), fmt.sampleRate(),
                                        fmt.channelCount(), kind))
        loop.quit()

    def finished() -> None:
        state["done"] = True
        loop.quit()

    def failed(_error: object) -> None:
        state["error"] = decoder.errorString() or "unknown error"
        state["done"] = True
        loop.quit()

    decoder.bufferReady.connect(take_buffer)
    decoder.finished.connect(finished)
    decoder.error.connect(failed)
    decoder.setSource(QUrl.fromLocalFile(str(path.resolve())))
    try:
        decoder.start()  # an unreadable file fails inside start(), before any loop runs
        while True:
            while ready:
                yield ready.popleft()
            if state["error"]:
                log.info("Qt could not decode %s: %s", path, state["error"])
                raise AudioDecodeError(
                    f"{path.name} could not be read as audio: it is damaged or not a "
                    "supported format. Use WAV, MP3, M4A/AAC or OGG. The original file is "
                    "kept as it was.")
            if state["done"]:
                return
            stall.start()
            loop.exec()
            if stall.isActive():
                stall.stop()
            elif not ready and not state["done"]:
                raise AudioDecodeError(
                    f"{path.name} could not be read: decoding stopped for "
                    f"{STALL_TIMEOUT_MS // 1000} s. The file may be damaged; convert it to "
                    "WAV and try again. The original file is kept as it was.")
    finally:
        for signal in (decoder.bufferReady, decoder.finished, decoder.error):
            signal.disconnect()
        decoder.stop()  # a note refused half-way (too long) stops decoding here
