"""The hook through which compressed voice notes (MP3, M4A/AAC, OGG, ...) are decoded.

`desktop.capture` stays Qt-free, yet the app already ships an FFmpeg inside Qt
Multimedia; bundling a second one (PyAV) cost ~100 MB. So `voice_audio` reads WAV
itself and hands every other file to the decoder registered here: desktop.ui
registers its Qt Multimedia decoder when the app starts and desktop.cli does the same
for `fieldcrm capture voice`. Without one, a compressed file is refused with a message
saying what to do.

This module imports nothing heavy, so registering a decoder costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# Sample formats a decoder may deliver (native byte order, interleaved channels).
SAMPLE_FORMATS = ("u8", "s16", "s32", "f32")


@dataclass(frozen=True)
class AudioChunk:
    """A run of interleaved samples at the file's own rate, as a decoder delivers them."""

    data: bytes
    sample_rate: int
    channels: int
    sample_format: str  # one of SAMPLE_FORMATS

    def __post_init__(self) -> None:
        if self.sample_format not in SAMPLE_FORMATS:
            raise ValueError(f"unknown sample format {self.sample_format!r}")
        if self.sample_rate <= 0 or self.channels <= 0:
            raise ValueError(f"bad audio format: {self.sample_rate} Hz, {self.channels} channels")


# Reads a whole file lazily: yields chunks in order, raises AudioDecodeError (with the
# file's name) when the file cannot be read. The consumer may stop early (a note that is
# too long), so a decoder must clean up when its generator is closed.
AudioDecoder = Callable[[Path], Iterable[AudioChunk]]

_decoder: AudioDecoder | None = None


def register_decoder(decoder: AudioDecoder | None) -> AudioDecoder | None:
    """Use `decoder` for every file that is not plain WAV; None removes it.
    Returns the decoder registered before (tests put it back)."""
    global _decoder
    previous, _decoder = _decoder, decoder
    return previous


def registered_decoder() -> AudioDecoder | None:
    return _decoder
