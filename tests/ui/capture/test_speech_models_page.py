"""Settings ▸ Speech models and the voice window's way to it, offscreen, in English and
Chinese: with no model the voice window says what to do; the page downloads the real
Korean model from a loopback server (tests/model_server.py), is cancelled half way,
resumes, installs, and the voice window then uses it. Screenshots go to
screenshots/speech_models_*.png. Nothing reaches the internet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.capture import voice_models
from desktop.capture.model_catalog import models_dir
from desktop.capture.model_download import part_path
from desktop.ui.capture.mount import SETTINGS_PAGE, install, open_voice_note
from desktop.ui.common.jobs import BackgroundTask
from tests.model_server import KO_NAME, korean_model_zip, no_internet, serve  # noqa: F401
from tests.ui.helpers import shot

DOWNLOAD_TIMEOUT_MS = 90_000


pytestmark = pytest.mark.usefixtures("no_internet")


@pytest.fixture(autouse=True)
def _no_models_and_no_jobs_left(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(voice_models, "package_models", lambda: [])
    monkeypatch.setenv(voice_models.ENV_VAR, "")
    yield
    BackgroundTask.stop_all()


def _fake_model(folder: Path) -> Path:
    for rel in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"x")
    return folder


def test_voice_window_without_a_model_downloads_one_with_cancel_and_resume(
        qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    archive, digest = korean_model_zip()
    catalog = tmp_path / "served" / "models.json"
    catalog.parent.mkdir()
    catalog.write_text(json.dumps({"models": [
        {"name": KO_NAME, "language": "ko", "url": f"{KO_NAME}.zip", "sha256": digest,
         "size": archive.stat().st_size}]}), encoding="utf-8")
    window = make_window("en")
    ctx = window.ctx
    voice = install(window).open_voice()
    qtbot.waitUntil(lambda: voice.get_model_button.isVisible(), timeout=10000)
    assert "Download or choose a model…" in voice.model_help.text()
    assert not voice.model_status.isVisible()

    voice.get_model_button.click()
    dialog = voice.models_dialog
    assert dialog is not None and dialog.isVisible()
    page = dialog.page
    qtbot.waitUntil(lambda: page.in_use_label.text().startswith("No speech model is in use"),
                    timeout=10000)
    with serve({f"{KO_NAME}.zip": archive, "models.json": catalog}) as served:
        page.catalog_edit.setText(served.address("models.json"))
        page.reload_button.click()
        qtbot.waitUntil(lambda: page.tree.topLevelItemCount() == 1, timeout=10000)
        assert page.tree.topLevelItem(0).text(0) == KO_NAME
        assert page.tree.topLevelItem(0).text(1) == "Korean"
        assert page.tree.topLevelItem(0).text(3) == "sha256 checked"
        assert ctx.settings.model_catalog == served.address("models.json")  # kept

        served.bytes_per_second = 40e6  # slow enough to stop half way
        page.download_button.click()
        assert page.job is not None and page.cancel_button.isVisible()
        qtbot.waitUntil(lambda: page.progress.value() > 100, timeout=DOWNLOAD_TIMEOUT_MS)
        assert page.progress_label.text().startswith(f"Downloading {KO_NAME}: ")
        assert not page.download_button.isEnabled()
        shot(dialog, "speech_models_downloading_en")
        page.cancel_button.click()
        qtbot.waitUntil(lambda: page.job is None, timeout=DOWNLOAD_TIMEOUT_MS)
        assert page.message.text().startswith("Stopped. What was downloaded is kept")
        part = part_path(models_dir(ctx.profile), page.entries[0])
        kept = part.stat().st_size
        assert kept > 10e6 and not (models_dir(ctx.profile) / KO_NAME).exists()

        served.bytes_per_second = None
        page.download_button.click()
        qtbot.waitUntil(lambda: page.job is None, timeout=DOWNLOAD_TIMEOUT_MS)
        assert served.ranges[-1] == f"bytes={kept}-"  # resumed, not started again
    assert page.message.text() == f"Installed {KO_NAME}; voice notes now use it."
    result = page.last_result
    assert result is not None and result.resumed_from == kept and result.verified
    target = models_dir(ctx.profile) / KO_NAME
    assert ctx.settings.voice_model == str(target)
    qtbot.waitUntil(lambda: KO_NAME in page.in_use_label.text(), timeout=10000)
    assert page.tree.topLevelItem(0).text(3) == "installed"
    qtbot.wait(50)
    shot(dialog, "speech_models_installed_en")

    # the voice window follows: the model is listed, chosen, and said to be in use
    qtbot.waitUntil(lambda: voice.model_combo.isEnabled(), timeout=10000)
    assert voice.current_model() == target
    assert voice.model_status.isVisible()
    assert voice.model_status.text() == f"In use: {KO_NAME}, in {target.parent}"
    assert not voice.model_help.isVisible() and not voice.get_model_button.isVisible()
    dialog.close()
    shot(voice, "speech_models_voice_window_en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_settings_tab_chooses_a_folder_and_refuses_a_broken_one(
        qtbot: Any, make_window: Any, tmp_path: Path, lang: str) -> None:
    window = make_window(lang)
    install(window)
    dlg = window.open_settings(page=SETTINGS_PAGE)
    assert dlg.tabs is not None
    page = dlg.pages[SETTINGS_PAGE]
    assert dlg.tabs.currentWidget() is page
    zh = lang == "zh"
    assert dlg.tabs.tabText(dlg.tabs.currentIndex()) == ("语音模型" if zh else "Speech models")
    # the shipped list (read from the file, nothing downloaded): Chinese and English
    qtbot.waitUntil(lambda: page.tree.topLevelItemCount() >= 2, timeout=10000)
    langs = {page.tree.topLevelItem(i).text(1) for i in range(page.tree.topLevelItemCount())}
    assert langs >= ({"中文", "英语"} if zh else {"Chinese", "English"})
    assert page.tree.currentItem().text(1) == ("中文" if zh else "English")  # the UI's
    none_text = "尚未使用任何语音模型" if zh else "No speech model is in use"
    qtbot.waitUntil(lambda: page.in_use_label.text().startswith(none_text), timeout=10000)
    shot(dlg, f"speech_models_none_{lang}")

    broken = tmp_path / "broken-model"
    (broken / "am").mkdir(parents=True)
    (broken / "conf").mkdir()
    page.use_folder(broken)
    qtbot.waitUntil(lambda: bool(page.message.text()), timeout=10000)
    assert page.message.text().startswith("语音模型文件夹不完整或已损坏" if zh else
                                          "The speech model in")
    assert window.ctx.settings.voice_model == ""

    good = _fake_model(tmp_path / "elsewhere" / "vosk-model-small-cn-0.22")
    page.use_folder(good)
    qtbot.waitUntil(lambda: "vosk-model-small-cn-0.22" in page.in_use_label.text(),
                    timeout=10000)
    assert window.ctx.settings.voice_model == str(good.resolve())
    assert page.in_use_label.text().startswith(
        "正在使用：vosk-model-small-cn-0.22 (中文)" if zh
        else "In use: vosk-model-small-cn-0.22 (Chinese)")
    assert page.message.text() == ("语音笔记现在使用 vosk-model-small-cn-0.22。" if zh else
                                   "Voice notes now use vosk-model-small-cn-0.22.")
    assert page.installed_combo.currentData() == str(good.resolve())  # listed, chosen
    qtbot.wait(50)  # (the label grew a line: let the layout catch up)
    shot(dlg, f"speech_models_chosen_{lang}")
    # the voice window lists that folder (outside the places searched) and uses it
    voice = open_voice_note(window)
    qtbot.waitUntil(lambda: voice.model_combo.isEnabled(), timeout=10000)
    assert voice.current_model() == good.resolve()
    assert voice.model_status.text() == (f"正在使用：{good.name}，位于 {good.parent}" if zh else
                                         f"In use: {good.name}, in {good.parent}")
    voice.close()

    # a list that cannot be read says so
    page.catalog_edit.setText(str(tmp_path / "no-such-list.json"))
    page.reload_button.click()
    qtbot.waitUntil(lambda: "no-such-list.json" in page.message.text(), timeout=10000)
    assert page.message.text().startswith("无法读取语音模型列表" if zh else
                                          "The list of speech models at")
    dlg.close()


def test_closing_settings_stops_a_download_and_keeps_what_came(
        qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    archive, digest = korean_model_zip()
    window = make_window("en")
    install(window)
    with serve({f"{KO_NAME}.zip": archive}) as served:
        catalog = tmp_path / "list.json"
        catalog.write_text(json.dumps({"models": [
            {"name": KO_NAME, "url": served.address(f"{KO_NAME}.zip"), "sha256": digest}]}))
        dlg = window.open_settings(page=SETTINGS_PAGE)
        page = dlg.pages[SETTINGS_PAGE]
        page.catalog_edit.setText(str(catalog))
        page.reload_button.click()
        qtbot.waitUntil(lambda: page.tree.topLevelItemCount() == 1, timeout=10000)
        served.bytes_per_second = 20e6
        job = page.download()
        assert job is not None
        qtbot.waitUntil(lambda: page.progress.value() > 20, timeout=DOWNLOAD_TIMEOUT_MS)
        dlg.close()
        qtbot.waitUntil(lambda: not BackgroundTask.busy(), timeout=DOWNLOAD_TIMEOUT_MS)
    models = models_dir(window.ctx.profile)
    part = models / ".downloads" / f"{KO_NAME}.zip.part"
    assert 0 < part.stat().st_size < archive.stat().st_size
    assert not (models / KO_NAME).exists() and window.ctx.settings.voice_model == ""
