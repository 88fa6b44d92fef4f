"""Files sealed as they grow (the voice recorder's, in an encrypted profile): what was
written is read back whole, a torn last frame loses only itself, and nothing of the
plain content is in the file."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from desktop.security.sealed_file import (
    SealedFileDamagedError,
    SealedWriter,
    is_sealed,
    read_sealed,
    sealed_key,
)

KEY = sealed_key(secrets.token_bytes(32))
SPEECH = "张伟说下周二看工厂 13912345678 ".encode()


def _write(path: Path, frames: list[bytes], header: bytes = b"s16le;16000;1") -> Path:
    with SealedWriter(path, KEY, header) as w:
        for frame in frames:
            w.write(frame)
    return path


def test_frames_come_back_in_order_and_nothing_is_plain(tmp_path: Path) -> None:
    frames = [SPEECH * (i + 1) for i in range(20)] + [b""]
    path = _write(tmp_path / "a.sealed", frames)
    assert is_sealed(path) and not is_sealed(tmp_path / "missing")
    raw = path.read_bytes()
    assert SPEECH[:12] not in raw and "张伟".encode() not in raw
    header, read = read_sealed(path, KEY)
    assert header == b"s16le;16000;1" and list(read) == frames


def test_a_torn_last_frame_keeps_everything_before_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.sealed", [SPEECH * 10, SPEECH * 20, SPEECH * 30])
    whole = path.read_bytes()
    for cut in (1, 5, 17, len(SPEECH) * 30):  # inside the last frame, or its length
        path.write_bytes(whole[:-cut])
        _header, read = read_sealed(path, KEY)
        assert list(read) == [SPEECH * 10, SPEECH * 20]


def test_another_key_a_changed_byte_or_moved_frames_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.sealed", [SPEECH, SPEECH * 2])
    _h, read = read_sealed(path, sealed_key(secrets.token_bytes(32)))
    with pytest.raises(SealedFileDamagedError):
        list(read)
    whole = bytearray(path.read_bytes())
    whole[-3] ^= 0x01
    path.write_bytes(bytes(whole))
    with pytest.raises(SealedFileDamagedError):
        list(read_sealed(path, KEY)[1])
    other = _write(tmp_path / "b.sealed", [SPEECH], header=b"s16le;48000;2")
    # the same frames under another header (another recording's format) do not decrypt
    tampered = other.read_bytes()[:4 + 8] + path.read_bytes()[4 + 8:]
    other.write_bytes(tampered)
    with pytest.raises(SealedFileDamagedError):
        read_sealed(other, KEY)[1].__next__()
    (tmp_path / "plain.wav").write_bytes(b"RIFF....WAVE")
    with pytest.raises(SealedFileDamagedError):
        read_sealed(tmp_path / "plain.wav", KEY)


def test_a_new_file_never_overwrites_one_there(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.sealed", [SPEECH])
    with pytest.raises(FileExistsError):
        SealedWriter(path, KEY)
    assert list(read_sealed(path, KEY)[1]) == [SPEECH]
