"""The new-version banner (desktop.ui.sync.update_banner): shown from the versions the
store kept at start, then from the engine's status; hidden when none is newer."""

from __future__ import annotations

from typing import Any

from desktop.sync import versions
from desktop.sync.status import State, SyncStatus
from desktop.sync.versions import ServerVersions
from tests.ui.helpers import settle, shot

URL = "https://crm.example.com/downloads/fieldcrm"


def test_banner_shows_a_newer_version_and_a_required_update(qtbot: Any,
                                                             make_window: Any) -> None:
    from desktop.ui.sync.mount import install

    window = make_window("en")
    ui = install(window)
    try:
        banner = ui.banner
        settle(qtbot, window.ctx)
        assert not banner.isVisible()  # nothing known yet
        ui.controller.status_changed.emit(SyncStatus(
            state=State.IDLE, update="available", latest_version="0.2.0", download_url=URL))
        qtbot.waitUntil(banner.isVisible)
        text = banner.label.text()
        assert "FieldCRM 0.2.0 is available (you have 0.1.0)." in text and URL in text
        qtbot.wait(50)
        shot(window, "update_banner_available")
        ui.controller.status_changed.emit(SyncStatus(
            state=State.UPDATE_REQUIRED, update="required", latest_version="0.3.0",
            download_url=URL))
        assert banner.update_kind == "required"
        assert "can no longer sync: install 0.3.0" in banner.label.text()
        assert "Your changes are kept" in banner.label.text()
        qtbot.wait(50)
        shot(window, "update_banner_required")
        ui.controller.status_changed.emit(SyncStatus(state=State.IDLE, latest_version="0.1.0"))
        assert not banner.isVisible()
    finally:
        ui.shutdown()


def test_banner_shows_what_the_store_kept_in_chinese(qtbot: Any, make_window: Any) -> None:
    from desktop.ui.sync.mount import install

    window = make_window("zh")
    window.ctx.run(lambda store: versions.save(store, ServerVersions("0.2.0", None, None)))
    settle(qtbot, window.ctx)
    ui = install(window)
    try:
        qtbot.waitUntil(ui.banner.isVisible, timeout=5000)
        text = ui.banner.label.text()
        assert "FieldCRM 0.2.0 已发布（当前版本 0.1.0）。" in text
        assert "请向管理员索取新版本。" in text
        qtbot.wait(50)
        shot(window, "update_banner_zh")
    finally:
        ui.shutdown()
