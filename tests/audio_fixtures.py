"""Audio files for the voice tests: Korean speech from espeak-ng, that speech re-encoded
the way phones and other apps save it (PyAV: a dev-only dependency, never bundled), WAV
variants written with the standard library, and a measure of how alike two decodes are.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

KOREAN = "내일 오후 세 시에 공장을 방문합니다."


def espeak(out: Path, text: str = KOREAN, speed: int | None = 150) -> Path:
    """Speech from espeak-ng: a 22.05 kHz mono WAV (not what Vosk wants)."""
    exe = shutil.which("espeak-ng")
    assert exe, "espeak-ng is missing: sudo apt-get install espeak-ng (./dev test does it)"
    speed_args = ["-s", str(speed)] if speed else []
    subprocess.run([exe, "-v", "ko", *speed_args, "-w", str(out), text], check=True,
                   capture_output=True, timeout=30)
    return out


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """16-bit mono WAV -> (int16 samples, sample rate)."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def encode(src: Path, dst: Path, codec: str, rate: int, layout: str = "mono") -> Path:
    """Re-encode a 16-bit mono WAV with FFmpeg (PyAV), as a phone or another app would
    save it. Frames carry time stamps, or Ogg files end up with a wrong duration."""
    import av

    pcm, src_rate = read_wav(src)
    with av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.audio.stream.AudioStream)
        if codec == "vorbis":  # FFmpeg's own Vorbis encoder is flagged experimental
            stream.codec_context.options = {"strict": "experimental"}
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = src_rate
        frame.pts = 0
        frame.time_base = Fraction(1, src_rate)
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dst


def write_wav_variant(src: Path, dst: Path, rate: int, channels: int, width: int) -> Path:
    """The speech of a 16-bit mono WAV as another WAV: `width` bytes per sample (1, 2, 3
    or 4), `channels` copies (the right one at half volume), sample rate `rate` (by linear
    interpolation: crude, but the decoder must only get its length and shape right)."""
    pcm, src_rate = read_wav(src)
    x = pcm.astype(np.float64) / 32768
    n = round(len(x) * rate / src_rate)
    x = np.interp(np.arange(n) * src_rate / rate, np.arange(len(x)), x)
    frames = np.stack([x * (1.0 if c == 0 else 0.5) for c in range(channels)], axis=1)
    if width == 1:
        data = np.clip(np.rint(frames * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    else:
        full = np.clip(np.rint(frames * 2 ** (8 * width - 1)), -(2 ** (8 * width - 1)),
                       2 ** (8 * width - 1) - 1).astype("<i8")
        data = full.view(np.uint8).reshape(-1, 8)[:, :width].tobytes()  # little-endian low bytes
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)
    return dst


def similarity(a: bytes, b: bytes, max_lag: int = 1600) -> float:
    """Peak normalised cross-correlation of two 16 kHz decodes within +-0.1 s (encoders
    add a little silence at the start): 1.0 is the same sound."""
    x = np.frombuffer(a, dtype="<i2").astype(np.float64)
    y = np.frombuffer(b, dtype="<i2").astype(np.float64)
    x, y = x - x.mean(), y - y.mean()
    size = 1 << int(np.ceil(np.log2(len(x) + len(y))))
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(y, size)), size)
    lags = np.concatenate([corr[: max_lag + 1], corr[-max_lag:]])
    return float(lags.max() / np.sqrt(np.dot(x, x) * np.dot(y, y)))
