"""Offline speech-to-text with Vosk (Kaldi). No network, ever.

`Transcriber(model_path)` loads a model folder once (kept in a small per-process
cache: loading takes seconds, recognising a note much less) and turns 16 kHz mono PCM
into text, either at once (`transcribe`) or while recording (`live()`: feed chunks, get
partial text back, `finish()` for the final text). Run it off the UI thread.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.capture.errors import NoSpeechError, VoiceModelBrokenError
from desktop.capture.voice_audio import SAMPLE_RATE, Pcm
from desktop.capture.voice_models import check_model
from desktop.errors import Cancelled

CHUNK_SECONDS = 0.5
_FILLER_RE = re.compile(r"\[[^\]]*\]|<[^>]*>")
_CJK_GAP_RE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_cache: dict[Path, tuple[Any, float]] = {}
_cache_lock = threading.Lock()


def tidy_transcript(text: str) -> str:
    """Drop the recogniser's filler tokens ("[unk]", "<unk>") and the spaces it puts
    between Chinese words."""
    text = _FILLER_RE.sub(" ", text)
    text = " ".join(text.split())
    return _CJK_GAP_RE.sub("", text)


def load_model(path: Path) -> tuple[Any, float]:
    """The loaded vosk.Model for a folder and the seconds its first load took.

    Raises VoiceModelMissingError / VoiceModelBrokenError with what to do.
    """
    import vosk

    key = Path(path).resolve()
    with _cache_lock:
        if key in _cache:
            return _cache[key][0], 0.0
        check_model(key)
        vosk.SetLogLevel(-1)
        started = time.perf_counter()
        try:
            model = vosk.Model(str(key))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise VoiceModelBrokenError(
                f"The speech model in {key} could not be loaded: it is damaged or made for "
                "another Vosk version. Replace the folder with a fresh, fully unzipped copy "
                "of the model and try again.") from exc
        elapsed = time.perf_counter() - started
        _cache[key] = (model, elapsed)
        return model, elapsed


def forget_models() -> None:
    """Drop the loaded models (frees their memory)."""
    with _cache_lock:
        _cache.clear()


@dataclass
class Transcript:
    text: str
    audio_s: float
    model_load_s: float
    transcribe_s: float
    segments: list[str] = field(default_factory=list)

    @property
    def real_time_factor(self) -> float:
        return self.transcribe_s / self.audio_s if self.audio_s else 0.0


class LiveSession:
    """Recognition while recording: `accept(chunk)` returns the text so far."""

    def __init__(self, model: Any, sample_rate: int = SAMPLE_RATE) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, sample_rate)
        self._done: list[str] = []
        self._bytes = 0
        self._sample_rate = sample_rate

    def accept(self, chunk: bytes) -> str:
        """Feed 16-bit mono PCM; return the whole transcript so far (final + partial)."""
        self._bytes += len(chunk)
        if self._rec.AcceptWaveform(chunk):
            text = tidy_transcript(json.loads(self._rec.Result()).get("text", ""))
            if text:
                self._done.append(text)
            return self._joined()
        partial = tidy_transcript(json.loads(self._rec.PartialResult()).get("partial", ""))
        return self._joined(partial)

    def finish(self) -> list[str]:
        """The final segments (call once, at the end)."""
        text = tidy_transcript(json.loads(self._rec.FinalResult()).get("text", ""))
        if text:
            self._done.append(text)
        return list(self._done)

    def _joined(self, extra: str = "") -> str:
        return join_segments([*self._done, extra] if extra else self._done)

    @property
    def seconds(self) -> float:
        return self._bytes / 2 / self._sample_rate


def join_segments(segments: list[str]) -> str:
    text = " ".join(s for s in segments if s)
    return _CJK_GAP_RE.sub("", text)


class Transcriber:
    """Speech to text with one Vosk model folder."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = Path(model_path)
        self._model: Any = None
        self.model_load_s = 0.0

    def load(self) -> None:
        """Load the model now (else the first transcription does). Raises the model errors."""
        if self._model is None:
            self._model, self.model_load_s = load_model(self.model_path)

    def live(self) -> LiveSession:
        self.load()
        return LiveSession(self._model)

    def transcribe(self, pcm: Pcm, *, on_partial: Callable[[str], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> Transcript:
        """Recognise a whole recording.

        Raises NoSpeechError when nothing but noise was heard, Cancelled when
        `cancelled()` turns true, and the model errors of `load`.
        """
        if not pcm.looks_like_speech():
            raise NoSpeechError()
        self.load()
        session = self.live()
        step = int(SAMPLE_RATE * CHUNK_SECONDS) * 2
        started = time.perf_counter()
        for offset in range(0, len(pcm.data), step):
            if cancelled is not None and cancelled():
                raise Cancelled()
            text = session.accept(pcm.data[offset:offset + step])
            if on_partial is not None:
                on_partial(text)
        segments = session.finish()
        elapsed = time.perf_counter() - started
        text = join_segments(segments)
        if not text.strip():
            raise NoSpeechError()
        return Transcript(text, pcm.seconds, self.model_load_s, elapsed, segments)
