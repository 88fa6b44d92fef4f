"""Sync and follow-up mounted in the real app window, built the way desktop.ui.app builds
it: MainWindow, then install_features, then show, then the store opens on its worker.
What a rep would notice: the Sync menu and status item, the follow-up panel on Today
with a real overdue task, the notification centre listing it, a refused deal move that
says what is missing, the pipeline rules read-only unless signed in as an admin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QLabel

from desktop.store import Store
from tests.ui.followup.test_widgets import seed as seed_week
from tests.ui.helpers import settle, shot

OVERDUE_TASK = "Call back Shenzhen distributor"  # due 2 hours ago (seed_week)


def seed_deal(store: Store) -> None:
    acc = store.repo("account").create({"name": "苏州工业园区精密制造有限公司"})
    store.repo("deal").create({"title": "2027 年度数控机床采购框架合同", "account_id": acc["id"],
                               "amount": 480000, "currency": "CNY", "stage": "negotiation",
                               "stage_changed_at": "2026-01-05T09:00:00Z"})  # weeks in this stage


@pytest.fixture
def app_window(qtbot: Any, qapp: Any, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    from desktop.ui.followup import mount as followup_install

    monkeypatch.setattr(followup_install, "NOTIFIER_DELAY_MS", 100)  # 1.5 s in the app
    made: list[Any] = []

    def make(lang: str = "en", seed: Callable[[Store], Any] | None = None) -> Any:
        from desktop.ui.app import install_features
        from desktop.ui.common.context import AppContext
        from desktop.ui.common.window import MainWindow

        profile = tmp_path / f"profile_{lang}_{len(made)}"
        if seed is not None:
            with Store.open(profile) as store:
                seed(store)
        ctx = AppContext(profile, lang=lang)
        made.append(ctx)
        window = MainWindow(ctx)
        install_features(window)  # as run_app does, before show and before the store opens
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        ctx.start()
        qtbot.waitUntil(lambda: getattr(window, "followup_ui", None) is not None
                        and getattr(window, "sync_ui", None) is not None, timeout=10000)
        settle(qtbot, ctx)
        return window

    yield make
    # As the app quits: the window closes first (extensions stop their timers and
    # threads on `closing`), then the store worker ends.
    for ctx in made:
        for w in QApplication.topLevelWidgets():
            if getattr(w, "ctx", None) is ctx and shiboken6.isValid(w):
                w.close()
        qapp.processEvents()
        ctx.shutdown()


def menu_titles(window: Any) -> list[str]:
    return [a.text() for a in window.menuBar().actions()]


def popup(qtbot: Any, window: Any, title: str, name: str) -> None:
    """Open a menu-bar menu without exec() and save a picture of it."""
    action = next(a for a in window.menuBar().actions() if a.text() == title)
    menu = action.menu()
    menu.popup(window.mapToGlobal(QPoint(40, 40)))
    qtbot.waitUntil(menu.isVisible)
    shot(menu, name)
    menu.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_app_window_shows_sync_and_the_followup_of_the_day(qtbot: Any, app_window: Any,
                                                           lang: str) -> None:
    zh = lang == "zh"
    window = app_window(lang, seed_week)
    ctx = window.ctx
    # Sync: a menu and a status-bar item saying we are not signed in.
    titles = menu_titles(window)
    for title in (["跟进(&O)", "同步(&S)"] if zh else ["F&ollow-up", "&Sync"]):
        assert titles.count(title) == 1
    status = window.sync_ui.status
    assert status.isVisible() and status.parent() is not None
    assert status.label.text().startswith("未登录" if zh else "Signed out")

    # Today: the follow-up panel under the day's lists; the overdue task is listed once,
    # in Today's own list, and the panel adds the stalled deal.
    window.show_tab(0)
    settle(qtbot, ctx)
    panel = window.followup_ui.panel
    assert panel.isVisible() and window.records_ui.today.isAncestorOf(panel)
    due = window.records_ui.today.due
    assert sum(OVERDUE_TASK in due.item(i).text() for i in range(due.count())) == 1
    assert not panel.boxes["overdue"].isVisible() and not panel.boxes["due_today"].isVisible()
    assert panel.boxes["overdue"].title() == ("逾期（5）" if zh else "Overdue (5)")  # tray counts
    assert panel.lists["stalled"].count() == 1 and panel.boxes["stalled"].isVisible()

    # The reminders missed while the app was closed arrive once, grouped; with no tray
    # icon here the status bar says so.
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() != "", timeout=10000)
    message = window.statusBar().currentMessage()
    assert message.startswith("提醒：" if zh else "Reminder: ")
    assert ("离开期间有" if zh else "reminders while you were away") in message
    shot(window, f"{lang}_followup_today_window")
    popup(qtbot, window, "跟进(&O)" if zh else "F&ollow-up", f"{lang}_followup_menu")
    popup(qtbot, window, "同步(&S)" if zh else "&Sync", f"{lang}_sync_menu")

    # The notification centre (Follow-up ▸ Notifications…) lists the task's reminder.
    window.followup_ui.actions["followup_centre"].trigger()
    shown = window.followup_ui.views["centre"]
    centre = shown.centre
    settle(qtbot, ctx)
    assert centre.isVisible() and shown.windowTitle() == ("通知中心" if zh else "Notifications")
    assert not shown.empty.isVisible()
    rows = [centre.tree.topLevelItem(i).text(0) for i in range(centre.tree.topLevelItemCount())]
    assert ("任务到期：" if zh else "Task due: ") + OVERDUE_TASK in rows
    assert "delivered" not in {p.state for p in centre.items}  # opening it marks them seen
    shot(shown, f"{lang}_followup_centre_window")

    # Opening a reminder opens its record.
    row = rows.index(("任务到期：" if zh else "Task due: ") + OVERDUE_TASK)
    centre.tree.setCurrentItem(centre.tree.topLevelItem(row))
    centre.open_btn.click()
    settle(qtbot, ctx)
    dialog = window.dialog
    assert dialog is not None and dialog.isVisible() and dialog.record["subject"] == OVERDUE_TASK
    assert dialog.editors["subject"].raw() == OVERDUE_TASK
    dialog.close()


def test_language_switch_keeps_the_menus_and_the_panel(qtbot: Any, app_window: Any) -> None:
    window = app_window("en", seed_week)
    ctx = window.ctx
    panel = window.followup_ui.panel
    first = menu_titles(window)
    for lang, titles in (("zh", ["跟进(&O)", "同步(&S)"]), ("en", ["F&ollow-up", "&Sync"])):
        ctx.set_language(lang)
        settle(qtbot, ctx)
        shown = menu_titles(window)
        if lang == "en":
            assert shown == first  # every menu back in its place
        assert all(shown.count(t) == 1 for t in titles), shown  # back, and only once
        assert len(shown) == len(set(shown))
        window.show_tab(0)
        settle(qtbot, ctx)
        assert window.followup_ui.panel is panel and window.records_ui.today.isAncestorOf(panel)
        assert panel.isVisible() and panel.lists["overdue"].count() == 5
    assert window.records_ui.board.stage_checks  # the new board checks pipeline rules too
    window.records_ui.today.due.clear()
    window.actions_by_name["refresh"].trigger()  # View ▸ Refresh on the (scrolling) Today tab
    settle(qtbot, ctx)
    assert window.records_ui.today.due.count() == 6
    window.followup_ui.actions["followup_rules"].trigger()
    assert window.followup_ui.views["rules"].windowTitle() == "Pipeline rules"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_move_to_won_without_a_contract_is_refused_and_says_why(qtbot: Any, app_window: Any,
                                                                 lang: str) -> None:
    window = app_window(lang, seed_deal)
    ctx = window.ctx
    window.show_tab(3)
    settle(qtbot, ctx)
    board = window.records_ui.board
    source = board.models["negotiation"]
    deal = source.record(0)
    # Dragging the card onto the Won column: the drop carries what the card's drag carried.
    mime = source.mimeData([source.index(0, 0)])
    assert board.lists["won"].take_drop(mime)
    settle(qtbot, ctx)
    assert board.blocked_bar.isVisible()
    text = board.blocked.text()
    if lang == "zh":
        assert text.startswith("无法将商机移至“赢单”：")
        assert "缺少合同附件" in text and "缺少“签约金额”" in text
    else:
        assert text.startswith("Cannot move this deal to Won: ")
        assert "a contract attachment is missing" in text and "“Signed amount” is empty" in text
    # The deal stayed where it was, on screen and in the store.
    assert source.row_of(deal["id"]) == 0 and board.models["won"].rowCount() == 0
    assert ctx.run_and_wait(lambda s: s.repo("deal").get(deal["id"])["stage"]) == "negotiation"
    shot(window, f"{lang}_deal_move_blocked")

    # A move no rule forbids goes through, and the message goes away.
    board.move_deal(deal["id"], "legal_review")
    settle(qtbot, ctx)
    assert board.models["legal_review"].row_of(deal["id"]) == 0
    assert not board.blocked_bar.isVisible()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stage_changed_in_the_deal_dialog_obeys_the_same_rules(qtbot: Any, app_window: Any,
                                                               lang: str) -> None:
    window = app_window(lang, seed_deal)
    ctx = window.ctx
    window.show_tab(3)
    settle(qtbot, ctx)
    deal = window.records_ui.board.models["negotiation"].record(0)
    dlg = window.records_ui.edit_record(
        "deal", ctx.run_and_wait(lambda s: s.repo("deal").get(deal["id"])))
    qtbot.waitUntil(dlg.isVisible)
    stage = dlg.editors["stage"]
    stage.widget.setCurrentIndex(stage.widget.findData("won"))
    dlg.editors["title"].widget.setText(deal["title"] + "（已改）")
    dlg.save()
    qtbot.waitUntil(lambda: stage.error.isVisible())
    missing = "缺少合同附件" if lang == "zh" else "a contract attachment is missing"
    assert missing in stage.error.text()
    assert dlg.isVisible() and dlg.editors["title"].widget.text().endswith("（已改）")  # kept
    shot(dlg, f"{lang}_deal_dialog_stage_blocked")
    saved = ctx.run_and_wait(lambda s: s.repo("deal").get(deal["id"]))
    assert saved["stage"] == "negotiation" and saved["title"] == deal["title"]
    # A stage no rule forbids saves, and restarts the stage clock.
    stage.widget.setCurrentIndex(stage.widget.findData("legal_review"))
    dlg.save()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dlg) or not dlg.isVisible())  # closed on save
    saved = ctx.run_and_wait(lambda s: s.repo("deal").get(deal["id"]))
    assert saved["stage"] == "legal_review"
    assert saved["stage_changed_at"] > (deal.get("stage_changed_at") or "")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pipeline_rules_are_read_only_unless_signed_in_as_admin(qtbot: Any, app_window: Any,
                                                                 lang: str) -> None:
    from desktop.sync.auth import Account, save_account

    zh = lang == "zh"
    window = app_window(lang)
    ctx = window.ctx
    window.followup_ui.actions["followup_rules"].trigger()
    page = window.followup_ui.views["rules"]
    settle(qtbot, ctx)
    editor = page.editor
    assert editor.table.rowCount() == 3
    assert ("本机尚不知道您的角色" if zh else "Your role is not known on this computer") \
        in page.note.text()
    assert not editor.save_btn.isVisible() and not editor.add_btn.isVisible()
    assert not editor.table.cellWidget(0, 1).isEnabled()
    assert editor.table.editTriggers() == editor.table.EditTrigger.NoEditTriggers
    shot(page, f"{lang}_followup_rules_read_only")

    def sign_in(role: str) -> None:
        ctx.run_and_wait(lambda s: save_account(s, Account("https://crm.example.com", f"li.{role}",
                                                           s.device_id, role)))
        page.hide()
        window.followup_ui.show_rules()
        settle(qtbot, ctx)

    sign_in("rep")
    assert ("li.rep（销售）" if zh else "li.rep (sales rep)") in page.note.text()
    assert not editor.save_btn.isVisible()
    sign_in("admin")
    assert ("管理员" if zh else "administrator") in page.note.text()
    assert editor.save_btn.isVisible() and editor.table.cellWidget(0, 1).isEnabled()
    shot(page, f"{lang}_followup_rules_admin")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_followup_settings_from_the_menu(qtbot: Any, app_window: Any, lang: str) -> None:
    window = app_window(lang)
    window.followup_ui.actions["followup_settings"].trigger()
    form = window.followup_ui.views["settings"]
    settle(qtbot, window.ctx)
    assert form.isVisible() and form.warn.value() == 48
    assert form.windowTitle() == ("跟进设置" if lang == "zh" else "Follow-up settings")
    labels = [w.text() for w in form.findChildren(QLabel)]
    assert ("免打扰开始" if lang == "zh" else "Quiet hours from") in labels
    shot(form, f"{lang}_followup_settings_window")


def test_empty_profile_reads_well(qtbot: Any, app_window: Any) -> None:
    for lang in ("en", "zh"):
        window = app_window(lang)
        window.show_tab(0)
        settle(qtbot, window.ctx)
        section = window.followup_ui.section
        qtbot.waitUntil(section.empty.isVisible)  # one line instead of four empty lists
        assert not section.panel.isVisible()
        assert section.empty.text().startswith(
            "暂无需要跟进的事项。" if lang == "zh" else "Nothing to follow up.")
        shot(window, f"{lang}_followup_today_empty")
        centre = window.followup_ui.show_centre()
        settle(qtbot, window.ctx)
        shown = window.followup_ui.views["centre"]
        assert shown.empty.isVisible() and not centre.snooze_btn.isEnabled()
        assert shown.empty.text().startswith("暂无提醒。" if lang == "zh" else "No reminders yet.")
        shot(shown, f"{lang}_followup_centre_empty")


def test_closing_the_window_stops_sync_and_reminders(qtbot: Any, app_window: Any) -> None:
    class Engine:
        stopped = closed = False

        def stop(self, timeout: float = 0) -> None:
            self.stopped = True

        def close(self) -> None:
            self.closed = True

        def request_sync(self) -> None:
            pass

    window = app_window("en")
    engine = Engine()
    window.sync_ui.controller.engine = engine  # as if signed in and syncing
    notifier = window.followup_ui.notifier
    qtbot.waitUntil(notifier.timer.isActive, timeout=5000)
    window.close()
    assert engine.stopped and engine.closed and window.sync_ui.controller.engine is None
    assert not notifier.timer.isActive() and not notifier.pass_timer.isActive()
    assert not window.ctx.worker.isRunning()


def test_tray_icon_opens_the_notification_centre(qtbot: Any, app_window: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from desktop.ui.followup import mount as followup_install

    class Tray(QSystemTrayIcon):
        @staticmethod
        def isSystemTrayAvailable() -> bool:  # a desktop with a tray (offscreen has none)
            return True

    monkeypatch.setattr(followup_install, "QSystemTrayIcon", Tray)
    window = app_window("zh", seed_week)
    tray = window.followup_ui.tray
    assert tray is not None
    texts = [a.text() for a in tray.contextMenu().actions()]
    assert texts == ["通知中心…", "显示 FieldCRM"]
    settle(qtbot, window.ctx)
    qtbot.waitUntil(lambda: tray.toolTip().startswith("FieldCRM：逾期 5"), timeout=5000)
    tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    settle(qtbot, window.ctx)
    centre = window.followup_ui.views["centre"].centre
    assert centre.isVisible() and centre.tree.topLevelItemCount() >= 1
