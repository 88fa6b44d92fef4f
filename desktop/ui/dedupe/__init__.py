"""Duplicates in the app (issue 15), a feature of desktop.ui.features: candidates in
the record dialog (candidates.py), the "Possible duplicates" window with a status-bar
count (pairs_view.py) and the merge dialog (merge_dialog.py). The matching itself is
Qt-free, in desktop.dedupe."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtWidgets import QPushButton

from desktop.ui.common.dialog_hooks import DIALOG_HOOKS
from desktop.ui.common.window import MainWindow
from desktop.ui.dedupe import candidates
from desktop.ui.dedupe.pairs_view import WATCH, PairsView, count_op


class DuplicatesUi:
    """The status-bar count of one main window, and its (one) duplicates window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.ctx = window.ctx
        self.view: PairsView | None = None
        self.count = 0
        self.button = QPushButton()
        self.button.setObjectName("duplicates_count")
        self.button.setFlat(True)
        self.button.clicked.connect(self.open_view)
        self.button.hide()
        window.statusBar().addPermanentWidget(self.button)
        self.ctx.operation_did_execute.connect(self._changed)
        self.ctx.language_changed.connect(self._show_count)
        self.refresh()

    def _changed(self, changes: Any, _initiator: object) -> None:
        if WATCH & set(changes.entities):
            self.refresh()

    def refresh(self) -> None:
        self.ctx.run(count_op, on_done=self._got)

    def _got(self, n: int) -> None:
        self.count = n
        self._show_count()

    def _show_count(self, *_args: object) -> None:
        if not shiboken6.isValid(self.button):
            return
        self.button.setText(self.ctx.tr("Possible duplicates: {n}", n=self.count))
        self.button.setVisible(self.count > 0)

    def open_view(self) -> PairsView:
        if self.view is None or not shiboken6.isValid(self.view):
            self.view = PairsView(self.ctx, self.window)
        self.view.show()
        self.view.raise_()
        return self.view


def install(window: MainWindow) -> DuplicatesUi:
    if candidates.attach not in DIALOG_HOOKS:
        DIALOG_HOOKS.append(candidates.attach)
    ui = DuplicatesUi(window)
    window.duplicates_ui = ui  # type: ignore[attr-defined]
    return ui
