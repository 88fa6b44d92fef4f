"""Audio files for voice notes: decode any common format to 16 kHz mono PCM.

PyAV (FFmpeg) reads WAV, MP3, M4A/AAC, OGG/Opus/Vorbis, FLAC, WebM at any sample
rate and channel count; `decode_audio` resamples to what the recogniser wants
(16 kHz, mono, signed 16-bit) and checks the recording is not silent. Library errors
become `AudioDecodeError` with a message for the user; the file is never changed.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.capture.errors import AudioDecodeError, SilentRecordingError

SAMPLE_RATE = 16_000
# Below this peak level (dBFS) a recording holds no usable sound.
SILENCE_PEAK_DBFS = -45.0
# Speech rises and falls with every syllable; steady noise (fan, hiss, hum) does not.
# Below this spread between loud and quiet 30 ms frames a recording is noise only.
MIN_SPEECH_DYNAMIC_DB = 6.0
MAX_SECONDS = 30 * 60  # a voice note longer than half an hour is not a voice note
SUPPORTED_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus",
                      ".flac", ".webm", ".3gp", ".amr")


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

    Raises AudioDecodeError when the file is missing, empty, damaged or has no audio,
    and SilentRecordingError when it holds only silence (unless check_silence=False).
    """
    import av  # PyAV: imported here so parsing notes never pays for FFmpeg

    path = Path(path)
    if not path.is_file():
        raise AudioDecodeError(f"The audio file {path} does not exist.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"The audio file {path.name} is empty (0 bytes).")
    chunks: list[bytes] = []
    total = 0
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                raise AudioDecodeError(f"{path.name} has no sound track. Use a WAV, MP3, "
                                       "M4A/AAC or OGG recording.")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().tobytes()
                    chunks.append(chunk)
                    total += len(chunk)
                if total > MAX_SECONDS * SAMPLE_RATE * 2:
                    raise AudioDecodeError(f"{path.name} is longer than {MAX_SECONDS // 60} "
                                           "minutes; split it into shorter notes.")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().tobytes())
    except AudioDecodeError:
        raise
    except (av.FFmpegError, ValueError, OSError, IndexError) as exc:
        raise AudioDecodeError(
            f"{path.name} could not be read as audio: it is damaged or not a supported "
            "format. Use WAV, MP3, M4A/AAC or OGG. The original file is kept as it was."
        ) from exc
    pcm = Pcm(b"".join(chunks))
    if pcm.seconds < 0.1:
        raise AudioDecodeError(f"{path.name} holds no audio (it is {pcm.seconds:.2f} s long).")
    if check_silence and pcm.peak_dbfs() < SILENCE_PEAK_DBFS:
        raise SilentRecordingError()
    return pcm


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
