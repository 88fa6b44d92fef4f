"""A voice note from file to proposed task: decode, transcribe, parse, with timings.

Qt-free and blocking: the UI runs `transcribe_note` as a background operation, the CLI
calls it directly.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.capture.model_catalog import model_in_use
from desktop.capture.note_mentions import Candidates
from desktop.capture.note_parse import NoteParse, parse_note
from desktop.capture.recording import decode_recording
from desktop.capture.voice_asr import Transcriber, Transcript
from desktop.capture.voice_audio import decode_audio
from desktop.capture.voice_models import choose_model


@dataclass
class VoiceNoteResult:
    audio_path: Path
    model_path: Path
    transcript: Transcript
    parse: NoteParse
    decode_s: float
    parse_ms: float

    def timings(self) -> dict[str, float]:
        t = self.transcript
        return {"audio_s": round(t.audio_s, 3), "decode_s": round(self.decode_s, 3),
                "model_load_s": round(t.model_load_s, 3),
                "transcribe_s": round(t.transcribe_s, 3),
                "real_time_factor": round(t.real_time_factor, 3),
                "parse_ms": round(self.parse_ms, 3)}

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.audio_path), "model": str(self.model_path),
                "transcript": self.transcript.text, "parse": self.parse.to_json(),
                "timings": self.timings()}


def transcribe_note(audio_path: Path, now: dt.datetime, *, model_path: Path | None = None,
                    profile: Path | None = None, language: str | None = None,
                    candidates: Candidates | Mapping[str, Any] | None = None,
                    on_partial: Callable[[str], None] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> VoiceNoteResult:
    """Decode an audio file, transcribe it with a local Vosk model and parse the text.

    Raises AudioDecodeError, SilentRecordingError, NoSpeechError, VoiceModelMissingError,
    VoiceModelBrokenError (all CaptureError, each saying what to do) or Cancelled. The
    audio file is only read.
    """
    started = time.perf_counter()
    # a recording left sealed in the profile (a card not saved) is read decrypted
    pcm = (decode_recording(Path(audio_path), profile) if profile is not None
           else decode_audio(Path(audio_path)))
    decode_s = time.perf_counter() - started
    if model_path is None:
        # the model chosen for the profile (Speech models, `capture models use`) unless a
        # language is asked for; else the first installed one
        chosen = model_in_use(profile) if profile is not None and language is None else None
        model_path = chosen.path if chosen is not None else choose_model(profile, language).path
    transcript = Transcriber(model_path).transcribe(pcm, on_partial=on_partial,
                                                   cancelled=cancelled)
    started = time.perf_counter()
    parse = parse_note(transcript.text, now, candidates)
    parse_ms = (time.perf_counter() - started) * 1000
    return VoiceNoteResult(Path(audio_path), Path(model_path), transcript, parse, decode_s,
                           parse_ms)
