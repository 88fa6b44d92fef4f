"""The plain banner across the top of the window when the sync server names a newer
FieldCRM: "FieldCRM 1.4.0 is available: download it from <url>", or, below the server's
minimum, that this version can no longer sync and its changes wait for the update.

What to say comes from desktop.sync.versions (no Qt): the versions the server named are
kept in the store, so the banner shows at start, before any sync, and follows the sync
engine's status after that.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QToolBar

from desktop.store import Store
from desktop.sync import versions
from desktop.sync.status import SyncStatus
from desktop.sync.versions import CLIENT_VERSION, ServerVersions
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

register_catalog({
    "FieldCRM {latest} is available (you have {current}).":
        "FieldCRM {latest} 已发布（当前版本 {current}）。",
    "This version of FieldCRM ({current}) can no longer sync: install {latest}. Your changes "
    "are kept on this computer and are sent once you have updated.":
        "此版本的 FieldCRM（{current}）已无法同步：请安装 {latest}。您的修改保存在本机，"
        "更新后会自动发送。",
    "Download: {link}": "下载：{link}",
    "Ask your administrator for the new version.": "请向管理员索取新版本。",
    "New version": "新版本",
})
STYLES = {"available": "background: #ddf4ff; color: #0a3069; padding: 6px 10px;",
          "required": "background: #ffebe9; color: #82071e; padding: 6px 10px;"}


class UpdateBanner(QToolBar):
    """A fixed bar of its own row under the toolbar; hidden while no update is known."""

    def __init__(self, ctx: AppContext, window: QMainWindow) -> None:
        super().__init__(ctx.tr("New version"), window)
        self.ctx = ctx
        self.setObjectName("update_banner")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)
        self.label = QLabel()
        self.label.setObjectName("update_banner_text")
        # one line (a wrapped label in a tool bar keeps the height of its narrowest
        # layout); the full text is also its tool tip
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setOpenExternalLinks(True)
        # across the whole window
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.label)
        window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self)
        self.update_kind = "none"
        self.setVisible(False)
        if ctx.is_ready:
            self.load_saved()
        else:
            ctx.store_ready.connect(self.load_saved)

    def load_saved(self) -> None:
        def read(store: Store) -> ServerVersions:
            return versions.load(store)

        self.ctx.run(read, on_done=self.show_versions)

    def show_status(self, status: SyncStatus) -> None:
        if status.latest_version is None and status.update == "none":
            return  # the server has not said anything (yet): keep what is shown
        self.show_versions(ServerVersions(status.latest_version, None, status.download_url),
                           status.update)

    def show_versions(self, got: ServerVersions, kind: str | None = None) -> None:
        kind = kind or got.update()
        self.update_kind = kind
        if kind == "none":
            self.setVisible(False)
            return
        tr = self.ctx.tr
        latest = escape(got.latest or got.minimum or "")
        if kind == "required":
            text = tr("This version of FieldCRM ({current}) can no longer sync: install "
                      "{latest}. Your changes are kept on this computer and are sent once "
                      "you have updated.").format(current=CLIENT_VERSION, latest=latest)
        else:
            text = tr("FieldCRM {latest} is available (you have {current}).").format(
                latest=latest, current=CLIENT_VERSION)
        if got.download_url:
            url = escape(got.download_url, quote=True)
            text += " " + tr("Download: {link}").format(link=f'<a href="{url}">{url}</a>')
        else:
            text += " " + tr("Ask your administrator for the new version.")
        self.label.setText(text)
        self.label.setToolTip(text)
        self.label.setStyleSheet(STYLES[kind])
        self.setVisible(True)
