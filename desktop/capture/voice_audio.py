"""Audio files for voice notes: decode any common format to 16 kHz mono PCM.

WAV (8/16/24/32-bit integer PCM) is read here with the standard library. Every other
format (MP3, M4A/AAC, OGG Vorbis/Opus, FLAC, WebM, ...) goes to the decoder registered
in `voice_decoder` (Qt Multimedia's FFmpeg, registered by desktop.ui and desktop.cli),
which delivers the file's own sample rate and channels. Either way `decode_audio`
mixes down to mono, resamples to what the recogniser wants (16 kHz, signed 16-bit,
band-limited, by libsoxr) and checks the recording is not silent. Errors become
`AudioDecodeError` with a message for the user; the file is never changed.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from desktop.capture.errors import AudioDecodeError, SilentRecordingError
from desktop.capture.voice_decoder import AudioChunk, registered_decoder

SAMPLE_RATE = 16_000
# Below this peak level (dBFS) a recording holds no usable sound.
SILENCE_PEAK_DBFS = -45.0
# Speech rises and falls with every syllable; steady noise (fan, hiss, hum) does not.
# Below this spread between loud and quiet 30 ms frames a recording is noise only.
MIN_SPEECH_DYNAMIC_DB = 6.0
MAX_SECONDS = 30 * 60  # a voice note longer than half an hour is not a voice note
SUPPORTED_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus",
                      ".flac", ".webm", ".3gp", ".amr")
WAV_CHUNK_FRAMES = 65_536


@dataclass(frozen=True)
class Pcm:
    """16 kHz mono signed 16-bit little-endian samples."""

    data: bytes
    sample_rate: int = SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return len(self.data) / 2 / self.sample_rate

    def peak_dbfs(self) -> float:
        if not self.data:
            return -math.inf
        samples = np.frombuffer(self.data, dtype="<i2")
        peak = int(np.max(np.abs(samples.astype(np.int32))))
        return -math.inf if peak == 0 else 20 * math.log10(peak / 32768)

    def rms_dbfs(self) -> float:
        if not self.data:
            return -math.inf
        samples = np.frombuffer(self.data, dtype="<i2").astype(np.float64)
        rms = float(np.sqrt(np.mean(samples**2)))
        return -math.inf if rms == 0 else 20 * math.log10(rms / 32768)

    def dynamic_range_db(self) -> float:
        """Spread (dB) between the loud (90th percentile) and quiet (10th) 30 ms frames."""
        samples = np.frombuffer(self.data, dtype="<i2").astype(np.float64)
        frame = int(self.sample_rate * 0.03)
        n = len(samples) // frame
        if n < 5:
            return 0.0
        energy = np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1)
        level = 10 * np.log10(energy + 1.0)
        return float(np.percentile(level, 90) - np.percentile(level, 10))

    def looks_like_speech(self) -> bool:
        return self.dynamic_range_db() >= MIN_SPEECH_DYNAMIC_DB


def decode_audio(path: Path, *, check_silence: bool = True) -> Pcm:
    """Read an audio file and return it as 16 kHz mono PCM.

    Raises AudioDecodeError when the file is missing, empty, damaged, has no audio, is
    longer than MAX_SECONDS, or is not WAV while no decoder is registered; and
    SilentRecordingError when it holds only silence (unless check_silence=False).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioDecodeError(f"The audio file {path} does not exist.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"The audio file {path.name} is empty (0 bytes).")
    chunks = _wav_chunks(path) if _is_plain_wav(path) else _decoded_chunks(path)
    return decode_chunks(chunks, path.name, check_silence=check_silence)


def decode_chunks(chunks: Iterable[AudioChunk], name: str, *,
                  check_silence: bool = True) -> Pcm:
    """Audio delivered in chunks (a decoder's, or a sealed recording's) as 16 kHz mono
    PCM, with `decode_audio`'s checks; `name` is the file's, for the messages."""
    try:
        pcm = Pcm(_to_16k_mono_pcm(chunks, name))
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # a decoder's generator stops its decoding now, not at garbage collection
    if pcm.seconds < 0.1:
        raise AudioDecodeError(f"{name} holds no audio (it is {pcm.seconds:.2f} s long).")
    if check_silence and pcm.peak_dbfs() < SILENCE_PEAK_DBFS:
        raise SilentRecordingError()
    return pcm


def _damaged(name: str) -> AudioDecodeError:
    return AudioDecodeError(
        f"{name} could not be read as audio: it is damaged or not a supported format. "
        "Use WAV, MP3, M4A/AAC or OGG. The original file is kept as it was.")


def _is_plain_wav(path: Path) -> bool:
    """A RIFF/WAVE file with integer PCM, which the standard library reads. Float or
    compressed WAV (and anything else) goes to the registered decoder."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return False
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnchannels() > 0 and w.getframerate() > 0
    except (wave.Error, EOFError, OSError):
        return registered_decoder() is None  # damaged: let _wav_chunks say so


def _wav_chunks(path: Path) -> Iterator[AudioChunk]:
    try:
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            if width not in (1, 2, 3, 4) or rate <= 0 or channels <= 0:
                raise _damaged(path.name)
            while True:
                data = w.readframes(WAV_CHUNK_FRAMES)
                data = data[: len(data) - len(data) % (width * channels)]  # cut-off last frame
                if not data:
                    return
                if width == 3:  # 24-bit: widen to 32-bit by adding a low zero byte
                    wide = np.zeros((len(data) // 3, 4), dtype=np.uint8)
                    wide[:, 1:] = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
                    data = wide.tobytes()
                yield AudioChunk(data, rate, channels,
                                 {1: "u8", 2: "s16", 3: "s32", 4: "s32"}[width])
    except (wave.Error, EOFError, OSError, ValueError) as exc:
        raise _damaged(path.name) from exc


def _decoded_chunks(path: Path) -> Iterable[AudioChunk]:
    decoder = registered_decoder()
    if decoder is None:
        raise AudioDecodeError(
            f"{path.name} is not a WAV file, and compressed audio (MP3, M4A/AAC, OGG) is "
            "decoded by Qt Multimedia, which this program has not loaded. Open the file in "
            "the FieldCRM app or with `fieldcrm capture voice`, or convert it to WAV. The "
            "original file is kept as it was.")
    return decoder(path)


_SCALE = {"u8": ("u1", 128.0, 128.0), "s16": ("<i2", 0.0, 32768.0),
          "s32": ("<i4", 0.0, 2147483648.0), "f32": ("<f4", 0.0, 1.0)}


def _mono_float(chunk: AudioChunk) -> np.ndarray:
    dtype, offset, scale = _SCALE[chunk.sample_format]
    item = np.dtype(dtype).itemsize * chunk.channels
    samples = np.frombuffer(chunk.data[: len(chunk.data) - len(chunk.data) % item], dtype=dtype)
    x = (samples.astype(np.float32) - offset) / scale
    if chunk.channels > 1:
        x = x.reshape(-1, chunk.channels).mean(axis=1, dtype=np.float32)
    return x


def _to_16k_mono_pcm(chunks: Iterable[AudioChunk], name: str) -> bytes:
    out: list[bytes] = []
    total = 0
    resampler: Resampler | None = None
    for chunk in chunks:
        if resampler is not None and resampler.rate_in != chunk.sample_rate:
            out.append(_s16(resampler.flush()))  # chained streams at another rate
            resampler = None
        if resampler is None:
            resampler = Resampler(chunk.sample_rate)
        piece = _s16(resampler.feed(_mono_float(chunk)))
        out.append(piece)
        total += len(piece)
        if total > MAX_SECONDS * SAMPLE_RATE * 2:
            raise AudioDecodeError(f"{name} is longer than {MAX_SECONDS // 60} minutes; "
                                   "split it into shorter notes.")
    if resampler is not None:
        out.append(_s16(resampler.flush()))
    return b"".join(out)


def _s16(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


class Resampler:
    """Band-limited resampling of a mono stream to `rate_out`, fed in chunks of any size
    (libsoxr's streaming resampler, high quality: aliases far below what a phone
    microphone records; the filter delay is compensated, so the output lines up)."""

    def __init__(self, rate_in: int, rate_out: int = SAMPLE_RATE) -> None:
        self.rate_in = rate_in
        self._stream = soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32", quality="HQ")

    def feed(self, x: np.ndarray) -> np.ndarray:
        """Resampled output for the input so far (up to the filter's look-ahead)."""
        return self._stream.resample_chunk(np.asarray(x, dtype=np.float32), last=False)

    def flush(self) -> np.ndarray:
        """The rest of the output (the input is over)."""
        return self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def write_wav(path: Path, pcm: bytes, sample_rate: int = SAMPLE_RATE) -> Path:
    """Save 16-bit mono PCM as a WAV file (the recorder keeps every recording this way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    return path


def to_16k_mono(data: bytes, sample_rate: int, channels: int) -> bytes:
    """Signed 16-bit interleaved PCM at any rate/channel count -> 16 kHz mono, for live
    recognition while recording from a device that cannot record 16 kHz mono itself.
    (Linear interpolation: good enough for a live preview; the saved file is decoded
    properly by `decode_audio`.)"""
    samples = np.frombuffer(data[: len(data) - len(data) % (2 * channels)], dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if sample_rate != SAMPLE_RATE and len(samples):
        n = int(len(samples) * SAMPLE_RATE / sample_rate)
        samples = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples)
    return np.asarray(samples).astype("<i2").tobytes()


def level(data: bytes) -> float:
    """Peak level of a chunk of 16-bit PCM, 0.0 (silence) to 1.0 (full scale)."""
    if len(data) < 2:
        return 0.0
    samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
    return float(np.max(np.abs(samples.astype(np.int32)))) / 32768.0
