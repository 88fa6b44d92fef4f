"""The voice recorder's files in an encrypted profile: sealed as they are written, read
decrypted in memory by the transcriber, kept as an encrypted blob when the note is saved
and gone from the recordings folder once it is; a kill -9 mid-recording keeps what was
recorded. In a plain profile a recording is a WAV file, as before."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop.capture.note_apply import ConfirmedNote, apply_note
from desktop.capture.recording import (
    decode_recording,
    recordings_key,
    start_recording,
)
from desktop.capture.voice_audio import decode_audio, write_wav
from desktop.profile import RECORDINGS_DIR
from desktop.security.sealed_file import is_sealed
from desktop.store import Store, cipher


def _speechlike(seconds: float, rate: int = 16_000) -> bytes:
    """A tone that rises and falls like syllables (not silence, not steady noise)."""
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    x = 0.4 * envelope * np.sin(2 * np.pi * 220 * t)
    return (x * 32767).astype("<i2").tobytes()


@pytest.fixture
def encrypted(profile: Path) -> Iterator[Store]:
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    store = Store.open(profile)
    assert store.blobs.encrypted
    yield store
    store.close()


def _record(profile: Path, pcm: bytes, step: int = 3200) -> Path:
    rec = start_recording(profile / RECORDINGS_DIR, recordings_key(profile), 16_000, 1)
    for offset in range(0, len(pcm), step):  # 0.1 s at a time, as the microphone delivers
        rec.write(pcm[offset:offset + step])
    rec.close()
    return rec.path


def test_a_recording_is_sealed_and_reads_back_as_the_same_audio(
        encrypted: Store, tmp_path: Path) -> None:
    pcm = _speechlike(3.0)
    path = _record(encrypted.profile, pcm)
    assert path.parent == encrypted.profile / RECORDINGS_DIR and is_sealed(path)
    raw = path.read_bytes()
    assert pcm[8000:8064] not in raw and b"RIFF" not in raw
    heard = decode_recording(path, encrypted.profile)
    plain = decode_audio(write_wav(tmp_path / "same.wav", pcm))
    assert heard.data == plain.data and abs(heard.seconds - 3.0) < 0.01


@pytest.mark.parametrize("keep", [True, False])
def test_saving_the_note_keeps_the_audio_as_an_encrypted_blob_and_the_file_goes(
        encrypted: Store, keep: bool) -> None:
    pcm = _speechlike(2.0)
    path = _record(encrypted.profile, pcm)
    acc = encrypted.repo("account").create({"name": "上海华为技术有限公司"})
    result = apply_note(encrypted, ConfirmedNote(note="下周二看工厂", audio_path=path,
                                                 account_id=acc["id"], keep_audio=keep))
    assert not path.exists()  # saved: no recording left behind, kept or not
    if not keep:
        assert result.attachment_id is None and result.audio_sha256 is None
        return
    att = encrypted.repo("attachment").get(result.attachment_id)
    assert att["file_name"] == path.with_suffix(".wav").name
    assert att["mime_type"] in ("audio/wav", "audio/x-wav")
    kept = encrypted.blobs.read(result.audio_sha256)
    assert att["size"] == len(kept)
    with wave.open(io.BytesIO(kept)) as w:  # a WAV any player opens once exported
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2)
        assert w.readframes(w.getnframes()) == pcm
    assert pcm[8000:8064] not in encrypted.blobs.path(result.audio_sha256).read_bytes()


def test_a_device_format_recording_is_resampled_when_read(encrypted: Store) -> None:
    mono = _speechlike(1.0, rate=48_000)
    stereo = np.repeat(np.frombuffer(mono, dtype="<i2"), 2).tobytes()
    rec = start_recording(encrypted.profile / RECORDINGS_DIR,
                          recordings_key(encrypted.profile), 48_000, 2)
    rec.write(stereo)
    rec.close()
    heard = decode_recording(rec.path, encrypted.profile)
    assert abs(heard.seconds - 1.0) < 0.01 and heard.sample_rate == 16_000


def test_a_plain_profile_records_a_wav_file(store: Store) -> None:
    assert recordings_key(store.profile) is None
    path = _record(store.profile, _speechlike(1.0))
    assert path.suffix == ".wav" and not is_sealed(path)
    assert abs(decode_recording(path, store.profile).seconds - 1.0) < 0.01


CHILD = """
import sys, time
from pathlib import Path
from desktop.security.sealed_file import SealedWriter
w = SealedWriter(Path(sys.argv[1]), bytes.fromhex(sys.argv[2]), b"s16le;16000;1")
frame = Path(sys.argv[3]).read_bytes()
while True:
    w.write(frame)
    time.sleep(0.002)
"""


def test_kill_9_while_recording_keeps_what_was_recorded(encrypted: Store,
                                                       tmp_path: Path) -> None:
    key = recordings_key(encrypted.profile)
    assert key is not None
    frame = _speechlike(0.1)
    (tmp_path / "frame.pcm").write_bytes(frame)
    path = encrypted.profile / RECORDINGS_DIR / "voice-killed.sealed"
    path.parent.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), key.hex(),
                              str(tmp_path / "frame.pcm")], cwd=Path(__file__).parents[2])
    try:
        deadline = time.monotonic() + 30
        while (not path.exists() or path.stat().st_size < 40 * len(frame)) \
                and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    written = path.stat().st_size // (len(frame) + 20)
    assert written >= 40
    heard = decode_recording(path, encrypted.profile)
    assert heard.seconds >= written * 0.1 - 0.05  # every whole frame before the kill
