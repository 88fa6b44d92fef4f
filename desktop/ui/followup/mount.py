"""Mount follow-up in the main window (desktop.ui.followup calls `install(window)` once
the store is open):

* Today gets the follow-up panel (overdue and due-today tasks, follow-up warnings,
  stalled deals, the week heat map of missed follow-ups);
* the reminder notifier starts a moment after start-up and ticks every minute; a notice
  goes to the OS, else to the tray icon, else to the status bar, and every reminder is
  listed in the notification centre;
* a Follow-up menu: Notifications… (also from the tray icon), Pipeline rules… (editable
  by administrators only; read-only with a note for everyone else, and while the role is
  not known on this computer), Follow-up settings…;
* the deal board refuses a move that breaks a pipeline rule and says what is missing.

Everything is re-added after the window rebuilds its menus and views (language switch)
and stopped when the window closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QMenu,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from desktop.followup.pipeline import PipelineRule, check_stage_move
from desktop.followup.today import tooltip
from desktop.schema import Role
from desktop.ui.common.changes import touches
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.window import MainWindow
from desktop.ui.followup.agenda_view import AgendaView
from desktop.ui.followup.centre import NotificationCentre
from desktop.ui.followup.notify import FollowupNotifier
from desktop.ui.followup.rules_editor import PipelineRulesEditor
from desktop.ui.followup.settings_form import FollowupSettingsForm
from desktop.ui.followup.today_panel import WATCHED as FOLLOWUP_WATCHED
from desktop.ui.followup.today_panel import FollowupPanel

if TYPE_CHECKING:
    from desktop.followup.scheduler import Notice
    from desktop.store import Changes, Store

log = logging.getLogger(__name__)

register_catalog({
    "F&ollow-up": "跟进(&O)", "Notifications…": "通知中心…", "Pipeline rules…": "销售流程规则…",
    "Follow-up settings…": "跟进设置…", "Follow-up settings": "跟进设置",
    "Show FieldCRM": "显示 FieldCRM", "Reminder: {title}": "提醒：{title}",
    "No reminders yet. Every reminder (tasks due, follow-ups, stalled deals) is listed here, "
    "even when your computer does not show notifications.":
        "暂无提醒。所有提醒（到期任务、跟进提醒、停滞商机）都会列在这里，即使电脑没有弹出通知。",
    "Nothing to follow up. New accounts and deals still waiting for a first follow-up, and "
    "stalled deals will show up here.":
        "暂无需要跟进的事项。尚未首次跟进的新客户和商机，以及停滞的商机会显示在这里。",
    "Signed in as {user} (administrator): your changes reach every rep at the next sync.":
        "已以 {user}（管理员）身份登录：保存后，所有销售在下次同步时生效。",
    "Only administrators can change pipeline rules. You are signed in as {user} ({role}), "
    "so the rules are shown read-only.":
        "只有管理员可以修改销售流程规则。您当前以 {user}（{role}）身份登录，规则仅供查看。",
    "Your role is not known on this computer, so the rules are shown read-only. To change "
    "them, sign in with an administrator account (Sync ▸ Sign in…).":
        "本机尚不知道您的角色，规则仅供查看。如需修改，请用管理员账号登录（同步 ▸ 登录…）。",
})

ROLE_NAMES = {"en": {"rep": "sales rep", "manager": "manager", "admin": "administrator",
                     "finance": "finance", "director": "director"},
              "zh": {"rep": "销售", "manager": "主管", "admin": "管理员", "finance": "财务",
                     "director": "总监"}}
LIST_ROWS = 5  # each follow-up list shows at least this many rows (Today scrolls)
NOTIFIER_DELAY_MS = 1500  # the first reminder pass waits until the first page is on screen
MENU = (("followup_centre", "Notifications…"), ("followup_rules", "Pipeline rules…"),
        ("followup_settings", "Follow-up settings…"))
TITLES = {"centre": "Notifications", "rules": "Pipeline rules", "settings": "Follow-up settings"}


def signed_in_as(store: Store) -> tuple[str, str] | None:
    """(user name, role) this profile is signed in with; None when never signed in."""
    from desktop.sync.auth import load_account

    account = load_account(store)
    return None if account is None else (account.username, account.role)


class TodaySection(QWidget):
    """The follow-up panel on Today, or one line when there is nothing to follow up."""

    def __init__(self, ctx: AppContext, panel: FollowupPanel) -> None:
        super().__init__()
        self.ctx = ctx
        self.panel = panel
        self.setObjectName("followup_section")
        self.empty = QLabel()
        self.empty.setObjectName("followup_empty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; padding: 8px 12px;")
        self.empty.hide()
        panel.hide()  # until its first data says whether there is anything to show
        # Today's own list already shows every due and overdue task with its account:
        # here the panel adds what Today lacks (warnings, stalled deals, missed week).
        for name in ("overdue", "due_today"):
            panel.boxes[name].hide()
        for lst in panel.lists.values():
            lst.setMinimumHeight((lst.fontMetrics().lineSpacing() + 2) * LIST_ROWS
                                 + 2 * lst.frameWidth() + 4)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.empty)
        lay.addWidget(panel)
        panel.counts_changed.connect(self._counts)
        ctx.operation_did_execute.connect(self._on_changes)
        ctx.language_changed.connect(self._texts)
        self._texts()

    def _texts(self) -> None:
        self.empty.setText(self.ctx.tr(
            "Nothing to follow up. New accounts and deals still waiting for a first "
            "follow-up, and stalled deals will show up here."))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.panel.isHidden():  # (a shown panel loads itself)
            self.panel.refresh()

    def _counts(self, counts: dict[str, int]) -> None:
        nothing = not any(counts.values()) and not any(map(any, self.panel.data.heatmap))
        self.empty.setVisible(nothing)
        self.panel.setVisible(not nothing)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        # A hidden panel does not listen; something to follow up may have appeared.
        if self.isVisible() and self.panel.isHidden() and touches(
                changes, FOLLOWUP_WATCHED):
            self.panel.refresh()


class CentreWindow(QWidget):
    """The notification centre, with a line that says so when there are no reminders."""

    def __init__(self, ctx: AppContext, centre: NotificationCentre) -> None:
        super().__init__()
        self.ctx = ctx
        self.centre = centre
        self.empty = QLabel()
        self.empty.setObjectName("centre_empty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; padding: 8px;")
        self.empty.hide()  # until the first load says there is nothing
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.empty)
        lay.addWidget(centre, 1)
        model = centre.tree.model()
        model.rowsInserted.connect(self._update)
        model.rowsRemoved.connect(self._update)
        model.modelReset.connect(self._update)
        ctx.language_changed.connect(self._texts)
        self._texts()

    def _texts(self) -> None:
        self.empty.setText(self.ctx.tr(
            "No reminders yet. Every reminder (tasks due, follow-ups, stalled deals) is listed "
            "here, even when your computer does not show notifications."))

    def _update(self, *_args: object) -> None:
        n = self.centre.tree.topLevelItemCount()
        self.empty.setVisible(n == 0)
        for button in (self.centre.open_btn, self.centre.snooze_btn, self.centre.done_btn):
            button.setEnabled(n > 0)


class RulesEditor(PipelineRulesEditor):
    """The pipeline rules editor, read-only unless the user is known to be an admin."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.editable = False
        self._triggers = self.table.editTriggers()
        self.set_editable(False)

    def set_editable(self, editable: bool) -> None:
        self.editable = editable
        self.table.setEditTriggers(self._triggers if editable
                                   else QAbstractItemView.EditTrigger.NoEditTriggers)
        for button in (self.add_btn, self.remove_btn, self.save_btn):
            button.setVisible(editable)
        for row in range(self.table.rowCount()):
            self._lock(row)

    def _append(self, r: PipelineRule) -> None:
        super()._append(r)
        self._lock(self.table.rowCount() - 1)

    def _lock(self, row: int) -> None:
        combo = self.table.cellWidget(row, 1)
        if combo is not None:
            combo.setEnabled(self.editable)


class RulesPage(QWidget):
    """Who may change the rules (a note), above the editor."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account: tuple[str, str] | None = None
        self.note = QLabel()
        self.note.setObjectName("rules_access")
        self.note.setWordWrap(True)
        self.editor = RulesEditor(ctx)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.editor, 1)
        ctx.language_changed.connect(self._texts)
        self._texts()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.ctx.run(signed_in_as, on_done=self.set_access)

    def set_access(self, account: tuple[str, str] | None) -> None:
        self.account = account
        self.editor.set_editable(account is not None and account[1] == Role.ADMIN.value)
        self._texts()

    def _texts(self) -> None:
        tr, account = self.ctx.tr, self.account
        if account is None or not account[1]:
            text = tr("Your role is not known on this computer, so the rules are shown read-only. "
                      "To change them, sign in with an administrator account (Sync ▸ Sign in…).")
        elif account[1] == Role.ADMIN.value:
            text = tr("Signed in as {user} (administrator): your changes reach every rep at the "
                      "next sync.", user=account[0])
        else:
            role = ROLE_NAMES[self.ctx.lang].get(account[1], account[1])
            text = tr("Only administrators can change pipeline rules. You are signed in as "
                      "{user} ({role}), so the rules are shown read-only.", user=account[0],
                      role=role)
        self.note.setText(text)
        editable = self.editor.editable
        self.note.setStyleSheet("color: #57606a; padding: 4px;" if editable else
                                "background: #fff8c5; border: 1px solid #d4a72c; "
                                "border-radius: 4px; padding: 6px; color: #4d2d00;")


class FollowupUi(QObject):
    """Follow-up mounted in one main window (`window.followup_ui`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = ctx = window.ctx
        self.closed = False
        self.views: dict[str, QWidget] = {}
        self.actions: dict[str, QAction] = {}
        slots: dict[str, Callable[[], Any]] = {"followup_centre": self.show_centre,
                                                "followup_rules": self.show_rules,
                                                "followup_settings": self.show_settings}
        for name, _text in MENU:
            action = QAction(window)
            action.setObjectName(name)
            action.triggered.connect(lambda _checked=False, s=slots[name]: s())
            self.actions[name] = action
        self.show_action = QAction(window)
        self.show_action.triggered.connect(self.show_window)

        self.panel = FollowupPanel(ctx)
        self.panel.setObjectName("followup_panel")
        self.panel.record_requested.connect(window.open_record)
        self.panel.counts_changed.connect(self._counts)
        self.section = TodaySection(ctx, self.panel)
        self.agenda = AgendaView(ctx)  # takes the place of Today's plain due list
        self.agenda.record_requested.connect(window.open_record)
        self.tray = self._make_tray()
        self.notifier = FollowupNotifier(ctx, self.tray)
        self.notifier.setParent(self)
        self.notifier.open_requested.connect(self.open)
        self.notifier.notices_shown.connect(self._notices)
        self.notifier.fell_back.connect(self._fell_back)
        self.start_timer = QTimer(self, singleShot=True, interval=NOTIFIER_DELAY_MS)
        self.start_timer.timeout.connect(self.notifier.start)

        self.mount()
        window.built.connect(self.mount)
        window.closing.connect(self.shutdown)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.start_timer.start()

    # ------------------------------------------------------------ mounting
    def mount(self) -> None:
        """Add the panel, the pipeline check and the menu to the window's (new) views."""
        window, tr = self.window, self.ctx.tr
        window.add_today_section(self.agenda)  # (each moves out of the Today being replaced)
        window.add_today_section(self.section)
        if check_stage_move not in window.stage_checks:
            window.stage_checks.append(check_stage_move)
        menu = window.menuBar().addMenu(tr("F&ollow-up"))
        menu.setObjectName("followup_menu")
        for name, text in MENU:
            self.actions[name].setText(tr(text))
            menu.addAction(self.actions[name])
        self.show_action.setText(tr("Show FieldCRM"))
        for which, view in self.views.items():
            view.setWindowTitle(tr(TITLES[which]))
        if self.tray is not None:
            self.tray.setToolTip(tooltip(self.panel.data.counts, self.ctx.lang))

    def _make_tray(self) -> QSystemTrayIcon | None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None  # reminders go to the status bar and the notification centre
        tray = QSystemTrayIcon(self)
        icon = self.window.windowIcon()
        if icon.isNull():
            icon = self.window.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        tray.setIcon(icon)
        menu = QMenu(self.window)
        menu.addAction(self.actions["followup_centre"])
        menu.addAction(self.show_action)
        tray.setContextMenu(menu)
        tray.activated.connect(self._tray_activated)
        tray.messageClicked.connect(self.show_centre)
        tray.show()
        return tray

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_centre()

    # ------------------------------------------------------------ reminders
    def _counts(self, counts: dict[str, int]) -> None:
        if self.tray is not None:
            self.tray.setToolTip(tooltip(counts, self.ctx.lang))

    def _notices(self, _notices: list[Notice]) -> None:
        view = self.views.get("centre")
        if isinstance(view, CentreWindow) and view.isVisible():
            view.centre.refresh()

    def _fell_back(self, notice: Notice) -> None:
        """The OS did not show it; without a tray icon the status bar says it."""
        if self.tray is None or not self.tray.isVisible():
            self.window.show_message(self.ctx.tr("Reminder: {title}", title=notice.title))

    def open(self, entity: str, record_id: str) -> None:
        """A reminder was opened: its record, or (a grouped notice) the centre."""
        if entity and record_id:
            self.window.open_record(entity, record_id)
        else:
            self.show_centre()

    # ------------------------------------------------------------ windows
    def _view(self, which: str, make: Callable[[], QWidget], size: tuple[int, int]) -> QWidget:
        view = self.views.get(which)
        if view is None:
            view = make()
            view.setParent(self.window, Qt.WindowType.Window)
            view.setObjectName(f"followup_{which}")
            view.resize(*size)
            self.views[which] = view
        view.setWindowTitle(self.ctx.tr(TITLES[which]))
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def show_centre(self) -> NotificationCentre:
        def make() -> QWidget:
            centre = NotificationCentre(self.ctx)
            centre.record_requested.connect(self.window.open_record)
            return CentreWindow(self.ctx, centre)

        shown = self.views.get("centre")
        was_visible = shown is not None and shown.isVisible()
        view = self._view("centre", make, (860, 420))
        assert isinstance(view, CentreWindow)
        if was_visible:  # else its showEvent loads it (and marks delivered reminders seen)
            view.centre.refresh(mark_seen=True)
        return view.centre

    def show_rules(self) -> RulesPage:
        page = self._view("rules", lambda: RulesPage(self.ctx), (1180, 420))
        assert isinstance(page, RulesPage)
        return page

    def show_settings(self) -> FollowupSettingsForm:
        form = self._view("settings", lambda: FollowupSettingsForm(self.ctx), (820, 340))
        assert isinstance(form, FollowupSettingsForm)
        return form

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    # ------------------------------------------------------------ closing
    def shutdown(self) -> None:
        """Stop the reminders and close the follow-up windows (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.start_timer.stop()
        try:
            self.notifier.stop()
        except Exception:  # closing the OS notification connection; nothing to tell
            log.warning("stopping desktop notifications failed", exc_info=True)
        if self.tray is not None:
            self.tray.hide()
        for view in self.views.values():
            view.close()


def install(window: MainWindow) -> FollowupUi:
    ui = FollowupUi(window)
    window.followup_ui = ui
    return ui
