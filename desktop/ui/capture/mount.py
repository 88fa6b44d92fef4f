"""Mount contract capture and voice notes in the main window: a "Capture" menu with
"Contract…", "Voice note…" and "Speech models…" (the Speech models tab of Settings, which
this module registers).

The windows are imported only when first opened, so the app starts as fast as before.
Each opens in the context the rep is looking at: a deal selected on the board (or open
in its dialog) becomes the contract's deal; on an account page, the account's open deal
is preselected and voice notes link to that account.

Other code may open them directly: `open_contract_capture(window, deal_id=...)`,
`open_voice_note(window, account_id=...)`.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog
from desktop.ui.common.settings_dialog import register_settings_page
from desktop.ui.common.window import MainWindow

register_catalog({"&Capture": "采集(&C)", "Contract…": "合同…", "Voice note…": "语音笔记…",
                  "Speech models": "语音模型", "Speech models…": "语音模型…"})

MENU_NAME = "capture_menu"
SETTINGS_PAGE = "speech_models"


def _speech_models_page(ctx: AppContext, parent: QWidget) -> QWidget:
    from desktop.ui.capture.models.page import SpeechModelsPage

    return SpeechModelsPage(ctx, parent)


register_settings_page(SETTINGS_PAGE, "Speech models", _speech_models_page)


class CaptureUi(QObject):
    """The menu and the (one each) open capture windows of a main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)  # dies with the window, and its connections with it
        self.window = window
        self.ctx = window.ctx
        self.windows: dict[str, QWidget] = {}
        self.actions: dict[str, QAction] = {}
        self.add_menu()
        # MainWindow rebuilds its menus (bar.clear()) after a language switch and then
        # says `built`: the menu goes back in the same place as the other features'.
        window.built.connect(self.add_menu)
        self.ctx.language_changed.connect(self._language_changed)
        # (OCR and speech run as ctx.run_task tasks: ctx.shutdown stops them at exit)

    def add_menu(self) -> None:
        tr = self.ctx.tr
        menu = self.window.menuBar().addMenu(tr("&Capture"))
        menu.setObjectName(MENU_NAME)
        self.menu = menu
        self.actions = {}
        for name, text, slot in (("capture_contract", "Contract…", self.open_contract),
                                 ("capture_voice", "Voice note…", self.open_voice),
                                 ("capture_models", "Speech models…", self.open_models)):
            a = QAction(tr(text), self.window)
            a.setObjectName(name)
            a.triggered.connect(lambda _checked=False, s=slot: s())
            menu.addAction(a)
            self.actions[name] = a

    def _language_changed(self) -> None:
        for key, w in list(self.windows.items()):  # their texts are in the old language
            if shiboken6.isValid(w) and w.isVisible():
                w.close()
            self.windows.pop(key, None)

    # ------------------------------------------------------------ context
    def context(self) -> tuple[str | None, str | None]:
        """(deal id, account id) of what the rep is looking at."""
        return self.window.focused_ids()

    def _existing(self, key: str) -> QWidget | None:
        w = self.windows.get(key)
        if w is not None and shiboken6.isValid(w):
            return w
        self.windows.pop(key, None)
        return None

    def _show(self, key: str, w: QWidget) -> QWidget:
        self.windows[key] = w
        w.show()
        w.raise_()
        w.activateWindow()
        return w

    # ------------------------------------------------------------ opening
    def open_contract(self, deal_id: str | None = None, account_id: str | None = None) -> QWidget:
        from PySide6.QtCore import Qt

        from desktop.ui.capture.contract.window import ContractCaptureWindow

        if deal_id is None and account_id is None:
            deal_id, account_id = self.context()
        existing = self._existing("contract")
        if isinstance(existing, ContractCaptureWindow):
            if deal_id:
                existing.set_deal(deal_id)
            return self._show("contract", existing)
        w = ContractCaptureWindow(self.ctx, self.window, deal_id=deal_id, account_id=account_id,
                                  open_record=self.window.open_record)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return self._show("contract", w)

    def open_models(self) -> QWidget:
        """Settings, on the Speech models tab."""
        return self.window.open_settings(page=SETTINGS_PAGE)

    def open_voice(self, account_id: str | None = None) -> QWidget:
        from PySide6.QtCore import Qt

        from desktop.ui.capture.voice.window import VoiceNoteWindow

        if account_id is None:
            account_id = self.context()[1]
        existing = self._existing("voice")
        if existing is not None:
            return self._show("voice", existing)
        w = VoiceNoteWindow(self.ctx, self.window, account_id=account_id)
        w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return self._show("voice", w)


def install(window: MainWindow) -> CaptureUi:
    """Add the Capture menu to `window` (a MainWindow), and let voice notes read MP3,
    M4A/AAC and OGG files through Qt Multimedia (desktop.capture reads only WAV itself)."""
    from desktop.ui.capture.voice import audio_decoder

    audio_decoder.install()
    ui = CaptureUi(window)
    window.capture_ui = ui
    return ui


def _ui(window: MainWindow) -> CaptureUi:
    ui = getattr(window, "capture_ui", None)
    return ui if isinstance(ui, CaptureUi) else install(window)


def open_contract_capture(window: MainWindow, deal_id: str | None = None,
                          account_id: str | None = None) -> QWidget:
    return _ui(window).open_contract(deal_id, account_id)


def open_voice_note(window: MainWindow, account_id: str | None = None) -> QWidget:
    return _ui(window).open_voice(account_id)
