"""The app lock in the window: a PIN set from File ▸ App lock PIN…, the panel that covers
the window when idle (or Lock now), a wrong PIN counted, the right one unlocking, and
ten wrong ones removing this computer's data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("FIELDCRM_ARGON2_PROFILE", "test")

from desktop.security import applock
from desktop.store import Store

FEATURES = ("desktop.ui.records", "desktop.ui.applock")


def test_set_pin_lock_and_unlock(qtbot: Any, make_window: Any) -> None:
    window = make_window("en", FEATURES)
    ui = window.app_lock_ui
    window.actions_by_name["app_lock_pin"].trigger()
    dialog = window.dialog
    dialog.pin.setText("2468")
    dialog.idle.setValue(2)
    ui.save_pin(dialog)
    qtbot.waitUntil(lambda: ui.has_pin and not dialog.isVisible(), timeout=5000)
    assert ui.idle_min == 2 and ui.timer.isActive()
    assert ui.timer.interval() == 120_000  # the idle clock runs

    ui.timer.setInterval(50)  # two idle minutes, shortened
    ui.timer.start()
    qtbot.waitUntil(lambda: ui.locked, timeout=3000)
    panel = ui.panel
    assert panel.isVisible() and not window.menuBar().isEnabled()
    panel.pin.setText("1111")
    panel.unlock.click()
    qtbot.waitUntil(lambda: "9 tries left" in panel.message.text(), timeout=5000)
    panel.pin.setText("2468")
    panel.pin.returnPressed.emit()
    qtbot.waitUntil(lambda: not ui.locked, timeout=5000)
    assert window.menuBar().isEnabled()


def test_ten_wrong_pins_remove_the_data(qtbot: Any, make_window: Any, profile: Path) -> None:
    with Store.open(profile) as store:
        store.repo("account").create({"name": "机密客户"})
        applock.set_pin(store, "2468")
    window = make_window("zh", FEATURES)
    ui = window.app_lock_ui
    qtbot.waitUntil(lambda: ui.has_pin, timeout=5000)
    window.actions_by_name["app_lock_now"].trigger()
    assert ui.locked
    for _ in range(applock.MAX_FAILURES):
        ui.try_unlock("0000")
    qtbot.waitUntil(lambda: not ui.panel.unlock.isEnabled(), timeout=10000)
    assert "本机数据已删除" in ui.panel.message.text()
    assert not (profile / "store.db").exists()
