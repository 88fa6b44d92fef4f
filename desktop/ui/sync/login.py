"""The sign-in dialog: server address, user name, password. Signing in talks to the
network, so it runs as a background task (`ctx.run_task`); a failure is shown with the
shared error text (`ctx.error_text`).
The password is never stored; the refresh token goes to the OS keyring
(desktop.sync.session)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import FieldCRMError
from desktop.sync import session
from desktop.sync.auth import Account
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.jobs import BackgroundTask

log = logging.getLogger(__name__)

register_catalog({
    "Sign in to sync": "登录同步服务器", "Server": "服务器", "User name": "用户名",
    "Password": "密码", "Sign in": "登录", "Signing in…": "正在登录…",
    "Signed in as {user}.": "已登录为 {user}。",
})


class LoginDialog(QDialog):
    signed_in = Signal(object)  # Account

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, server_url: str = "",
                 username: str = "", transport: Any = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._transport = transport
        tr = ctx.tr
        self.setWindowTitle(tr("Sign in to sync"))
        self.server = QLineEdit(server_url or "https://")
        self.user = QLineEdit(username)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(tr("Server"), self.server)
        form.addRow(tr("User name"), self.user)
        form.addRow(tr("Password"), self.password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr("Sign in"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def submit(self) -> None:
        server, user, password = self.server.text(), self.user.text(), self.password.text()
        self.ok.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(self.ctx.tr("Signing in…"))

        def work(_task: BackgroundTask) -> Account:
            return session.login(self.ctx.profile, server, user, password,
                                 transport=self._transport)

        self.ctx.run_task(work, on_done=self._signed_in, on_error=self._failed,
                          name="sync-login")

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, FieldCRMError):
            log.error("signing in failed", exc_info=exc)
        self.ok.setEnabled(True)
        self.password.clear()
        self.message.setStyleSheet("color: #cf222e")
        self.message.setText(self.ctx.error_text(exc))

    def _signed_in(self, account: Account) -> None:
        self.ok.setEnabled(True)
        self.password.clear()
        self.message.setText(self.ctx.tr("Signed in as {user}.", user=account.username))
        self.signed_in.emit(account)
        self.accept()
