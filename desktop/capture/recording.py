"""The voice recorder's files in profile/recordings, while a note is being made.

In an encrypted profile a recording is sealed as it is written (desktop.security.sealed_file:
AES-GCM frame by frame, so a crash loses nothing and no plain audio ever touches the
disk); the transcriber reads it decrypted in memory, and a saved note keeps it as a blob
(encrypted too). In a plain profile it is a WAV file, as the store itself is plain.
Either way a recording goes once its note is saved (`drop_recording`), and a wipe
removes the folder (desktop.sync.auth).
"""

from __future__ import annotations

import datetime as dt
import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from desktop.capture.errors import AudioDecodeError
from desktop.capture.voice_audio import Pcm, decode_audio, decode_chunks
from desktop.capture.voice_decoder import AudioChunk
from desktop.profile import RECORDINGS_DIR, fresh_path, remove_own
from desktop.security.sealed_file import (
    SealedFileDamagedError,
    SealedWriter,
    is_sealed,
    profile_sealed_key,
    read_sealed,
)

SEALED_SUFFIX = ".sealed"


class Recording(Protocol):
    path: Path

    def write(self, pcm: bytes) -> None: ...

    def close(self) -> None: ...


class _WavRecording:
    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        self.path = path
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 - open while recording
        self._wav.setnchannels(channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)

    def write(self, pcm: bytes) -> None:
        self._wav.writeframes(pcm)

    def close(self) -> None:
        self._wav.close()


class _SealedRecording:
    def __init__(self, path: Path, key: bytes, sample_rate: int, channels: int) -> None:
        self.path = path
        self._writer = SealedWriter(path, key, _header(sample_rate, channels))

    def write(self, pcm: bytes) -> None:
        self._writer.write(pcm)

    def close(self) -> None:
        self._writer.close()


def _header(sample_rate: int, channels: int) -> bytes:
    return f"s16le;{sample_rate};{channels}".encode("ascii")


def _format(header: bytes, name: str) -> tuple[int, int]:
    try:
        kind, rate, channels = header.decode("ascii").split(";")
        if kind != "s16le" or int(rate) <= 0 or int(channels) <= 0:
            raise ValueError(kind)
        return int(rate), int(channels)
    except ValueError:
        raise AudioDecodeError(f"{name} is not a recording FieldCRM made.") from None


def start_recording(folder: Path, key: bytes | None, sample_rate: int,
                    channels: int) -> Recording:
    """A new recording of signed 16-bit PCM at `sample_rate` and `channels`: sealed under
    `key` (`recordings_key`), or a WAV file when the profile is plain (`key` None)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = fresh_path(folder, f"voice-{dt.datetime.now():%Y%m%d-%H%M%S}",
                      ".wav" if key is None else SEALED_SUFFIX)
    if key is None:
        return _WavRecording(path, sample_rate, channels)
    return _SealedRecording(path, key, sample_rate, channels)


def recordings_key(profile: Path) -> bytes | None:
    """The key recordings of `profile` are sealed under; None for a plain profile."""
    return profile_sealed_key(profile)


def _sealed_audio(path: Path, profile: Path) -> tuple[int, int, Iterator[bytes]]:
    key = recordings_key(profile)
    if key is None:
        raise AudioDecodeError(f"{path.name} was recorded in an encrypted profile and cannot "
                               "be read in this one.")
    header, frames = read_sealed(path, key)
    rate, channels = _format(header, path.name)
    return rate, channels, frames


def decode_recording(path: Path, profile: Path, *, check_silence: bool = True) -> Pcm:
    """Any audio file as 16 kHz mono PCM (`decode_audio`), a sealed recording of
    `profile` decrypted in memory."""
    path = Path(path)
    if not is_sealed(path):
        return decode_audio(path, check_silence=check_silence)
    rate, channels, frames = _sealed_audio(path, profile)

    def chunks() -> Iterator[AudioChunk]:
        try:
            for frame in frames:
                yield AudioChunk(frame, rate, channels, "s16")
        except SealedFileDamagedError as exc:
            raise AudioDecodeError(exc.message) from None

    return decode_chunks(chunks(), path.name, check_silence=check_silence)


def recording_as_wav(path: Path, profile: Path) -> tuple[str, bytes]:
    """A sealed recording as a WAV file's name and bytes, to keep as a blob."""
    rate, channels, frames = _sealed_audio(Path(path), profile)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        try:
            for frame in frames:
                w.writeframes(frame)
        except SealedFileDamagedError as exc:
            raise AudioDecodeError(exc.message) from None
    return Path(path).with_suffix(".wav").name, out.getvalue()


def drop_recording(profile: Path, audio: Path) -> None:
    """Remove the recorder's own file once its note is saved. A file the rep picked from
    elsewhere is theirs and stays."""
    remove_own(Path(profile) / RECORDINGS_DIR, [Path(audio)])


__all__ = ["SEALED_SUFFIX", "Recording", "decode_recording", "drop_recording",
           "is_sealed", "recording_as_wav", "recordings_key", "start_recording"]
