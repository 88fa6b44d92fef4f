"""Photos the laptop camera takes of a contract, kept in profile/captures until the
contract is saved.

In an encrypted profile a photo is sealed (desktop.security.sealed_file) the moment it is
taken: the camera hands the picture over in memory and no plain copy touches the disk;
reading the contract decrypts it in memory (desktop.capture.image_prep), saving it keeps
it as a blob (encrypted too) and removes the file (`drop_captures`). In a plain profile it
is a JPEG file, as the store itself is plain. A wipe removes the folder (desktop.sync.auth).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

from desktop.errors import CaptureError, DiskFullError
from desktop.profile import CAPTURES_DIR, fresh_path, remove_own
from desktop.security.sealed_file import (
    SealedFileDamagedError,
    SealedWriter,
    is_sealed,
    profile_sealed_key,
    read_sealed,
)

SEALED_SUFFIX = ".sealed"
FRAME = 1 << 20


def save_camera_photo(profile: Path, jpeg: bytes) -> Path:
    """Keep a photo the camera took (JPEG bytes) in the profile; return its path."""
    folder = Path(profile) / CAPTURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    key = profile_sealed_key(profile)
    path = fresh_path(folder, f"contract-{dt.datetime.now():%Y%m%d-%H%M%S}",
                      ".jpg" if key is None else ".jpg" + SEALED_SUFFIX)
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)  # left by a killed save
    try:
        if key is None:
            with tmp.open("wb") as fh:
                fh.write(jpeg)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            with SealedWriter(tmp, key, b"image/jpeg") as w:
                for i in range(0, len(jpeg), FRAME):
                    w.write(jpeg[i:i + FRAME])
        os.replace(tmp, path)  # whole, or not there
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == 28:
            raise DiskFullError() from exc
        raise CaptureError(f"The photo could not be saved ({exc.strerror}).") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_capture(path: Path, profile: Path | None) -> bytes:
    """A sealed photo's bytes, decrypted in memory. Raises CaptureError."""
    key = profile_sealed_key(profile) if profile is not None else None
    if key is None:
        raise CaptureError(f"{display_name(path)} was taken in an encrypted profile and "
                           "cannot be read here.")
    try:
        _header, frames = read_sealed(path, key)
        return b"".join(frames)
    except SealedFileDamagedError as exc:
        raise CaptureError(exc.message) from None


def display_name(path: Path) -> str:
    """The name the rep sees (and the attachment gets): without the sealed suffix."""
    name = Path(path).name
    return name[: -len(SEALED_SUFFIX)] if name.endswith(SEALED_SUFFIX) else name


def drop_captures(profile: Path, paths: Iterable[Path]) -> None:
    """Remove the camera's own photos once the contract is saved; files the rep chose
    from elsewhere are theirs and stay."""
    remove_own(Path(profile) / CAPTURES_DIR, [Path(p) for p in paths])


__all__ = ["SEALED_SUFFIX", "display_name", "drop_captures", "is_sealed", "read_capture",
           "save_camera_photo"]
