"""The app lock (desktop.security.applock): File ▸ App lock PIN… sets a PIN and the idle
minutes; after that many minutes without a key press or click (or File ▸ Lock now,
Ctrl+Shift+L) a panel covers the window and asks for the PIN, offline. The tenth wrong
PIN in a row wipes this computer's data, as a revoke would.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.security import applock
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.window import MainWindow

register_catalog({
    "App lock PIN…": "应用锁 PIN…",
    "Lock now": "立即锁定",
    "App lock": "应用锁",
    "PIN (4 to 12 digits)": "PIN（4 到 12 位数字）",
    "Lock after idle minutes": "空闲多少分钟后锁定",
    "FieldCRM is locked": "FieldCRM 已锁定",
    "Enter your PIN to continue.": "请输入 PIN 以继续。",
    "Unlock": "解锁",
    "Wrong PIN: {n} tries left. After that this computer's data is removed.":
        "PIN 错误：还可尝试 {n} 次。之后本机数据将被删除。",
    "Too many wrong PINs: this computer's data was removed. Sign in again to get it back "
    "from the server.": "PIN 错误次数过多：本机数据已删除。请重新登录以从服务器取回数据。",
    "PIN set: FieldCRM locks after {n} idle minutes.": "PIN 已设置：空闲 {n} 分钟后锁定 FieldCRM。",
})

WATCHED = (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel)


class LockPanel(QFrame):
    """Covers the window while locked: a PIN field and Unlock."""

    def __init__(self, ui: AppLockUi) -> None:
        super().__init__(ui.window)
        tr = ui.ctx.tr
        self.setObjectName("app_lock_panel")
        self.setAutoFillBackground(True)
        box = QWidget(self)
        lay = QVBoxLayout(box)
        title = QLabel(tr("FieldCRM is locked"))
        title.setStyleSheet("font-size: 18px; font-weight: bold;")
        lay.addWidget(title)
        lay.addWidget(QLabel(tr("Enter your PIN to continue.")))
        self.pin = QLineEdit()
        self.pin.setObjectName("app_lock_pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.returnPressed.connect(lambda: ui.try_unlock(self.pin.text()))
        lay.addWidget(self.pin)
        self.unlock = QPushButton(tr("Unlock"))
        self.unlock.setObjectName("app_lock_unlock")
        self.unlock.clicked.connect(lambda: ui.try_unlock(self.pin.text()))
        lay.addWidget(self.unlock)
        self.message = QLabel("")
        self.message.setObjectName("app_lock_message")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)


class PinDialog(QDialog):
    def __init__(self, ui: AppLockUi) -> None:
        super().__init__(ui.window)
        tr = ui.ctx.tr
        self.setWindowTitle(tr("App lock"))
        self.setObjectName("app_lock_dialog")
        form = QFormLayout(self)
        self.pin = QLineEdit()
        self.pin.setObjectName("app_lock_new_pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(tr("PIN (4 to 12 digits)"), self.pin)
        self.idle = QSpinBox()
        self.idle.setRange(1, 480)
        self.idle.setValue(ui.idle_min)
        form.addRow(tr("Lock after idle minutes"), self.idle)
        self.error = QLabel("")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(lambda: ui.save_pin(self))
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class AppLockUi(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx: AppContext = window.ctx
        self.has_pin = False
        self.idle_min = applock.DEFAULT_IDLE_MIN
        self.panel: LockPanel | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        window.built.connect(self.mount)
        self.mount()
        if self.ctx.is_ready:
            self.refresh()
        else:
            self.ctx.store_ready.connect(self.refresh)

    @property
    def locked(self) -> bool:
        return self.panel is not None

    def mount(self) -> None:
        w = self.window
        file = w.menu("&File")
        file.addSeparator()
        file.addAction(w.make_action("app_lock_pin", "App lock PIN…", self.open_pin_dialog))
        file.addAction(w.make_action("app_lock_now", "Lock now", self.lock, "Ctrl+Shift+L"))

    def refresh(self) -> None:
        self.ctx.run(applock.state, self._got_state)

    def _got_state(self, st: applock.LockState) -> None:
        self.has_pin, self.idle_min = st.has_pin, st.idle_min
        self._restart()

    def _restart(self) -> None:
        if self.has_pin and not self.locked:
            self.timer.start(self.idle_min * 60_000)
        else:
            self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in WATCHED and not self.locked and self.has_pin:
            self.timer.start(self.idle_min * 60_000)
        return False

    # ------------------------------------------------------------ lock / unlock
    def lock(self) -> None:
        if not self.has_pin or self.locked:
            return
        self.timer.stop()
        self.panel = LockPanel(self)
        self.panel.setGeometry(self.window.rect())
        self.window.menuBar().setEnabled(False)
        if self.window.main_toolbar is not None:
            self.window.main_toolbar.setEnabled(False)
        self.panel.show()
        self.panel.raise_()
        self.panel.pin.setFocus()

    def try_unlock(self, pin: str) -> None:
        profile = self.ctx.profile
        self.ctx.run(lambda store: applock.unlock(profile, store, pin), self._answered)

    def _answered(self, result: applock.Unlock) -> None:
        panel = self.panel
        if panel is None:
            return
        if result.ok:
            self.panel = None
            panel.hide()
            panel.deleteLater()
            self.window.menuBar().setEnabled(True)
            if self.window.main_toolbar is not None:
                self.window.main_toolbar.setEnabled(True)
            self._restart()
            return
        panel.pin.clear()
        if result.wiped:
            self.has_pin = False
            panel.pin.setEnabled(False)
            panel.unlock.setEnabled(False)
            panel.message.setText(self.ctx.tr(
                "Too many wrong PINs: this computer's data was removed. Sign in again to "
                "get it back from the server."))
        else:
            panel.message.setText(self.ctx.tr(
                "Wrong PIN: {n} tries left. After that this computer's data is removed.",
                n=result.tries_left))

    # ------------------------------------------------------------ setting the PIN
    def open_pin_dialog(self) -> PinDialog:
        dialog = PinDialog(self)
        self.window.dialog = dialog
        dialog.open()
        return dialog

    def save_pin(self, dialog: PinDialog) -> None:
        pin, idle = dialog.pin.text(), dialog.idle.value()

        def done(st: applock.LockState) -> None:
            self._got_state(st)
            dialog.accept()
            self.window.statusBar().showMessage(
                self.ctx.tr("PIN set: FieldCRM locks after {n} idle minutes.", n=st.idle_min))

        def failed(exc: BaseException) -> None:
            dialog.error.setText(self.ctx.error_text(exc))

        self.ctx.run(lambda store: applock.set_pin(store, pin, idle_min=idle), done, failed)


def install(window: MainWindow) -> Any:
    ui = AppLockUi(window)
    window.app_lock_ui = ui  # type: ignore[attr-defined]
    return ui
