"""Import and export in the app (issue 16), a feature of desktop.ui.features: File ▸
Import… opens the import dialog (import_dialog.py: file, encoding, column mapping with
a preview, saved mappings, dry run, import with progress and cancel); File ▸ Export
current list… writes the list on screen (its entity, and its filter where the view
has one) to CSV or XLSX in the background (export_job.py), while the rep keeps working.
The work itself is Qt-free, in desktop.exchange."""

from __future__ import annotations

from typing import Any

from desktop.ui.common.window import MainWindow
from desktop.ui.exchange.export_job import ExportUi
from desktop.ui.exchange.import_dialog import ImportDialog


class ExchangeUi:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.ctx = window.ctx
        self.exports = ExportUi(window)
        self.dialog: ImportDialog | None = None
        window.built.connect(self._add_actions)
        self._add_actions()

    def _add_actions(self) -> None:
        w = self.window
        file = w.menu("&File")
        first = file.actions()[0] if file.actions() else None
        for action in (w.make_action("import_file", "Import…", self.open_import),
                       w.make_action("export_list", "Export current list…",
                                     self.exports.choose_and_export)):
            file.insertAction(first, action)  # type: ignore[arg-type]
        if first is not None:
            file.insertSeparator(first)

    def open_import(self, entity: str | None = None) -> ImportDialog:
        entity = entity or self.exports.current_entity() or "account"
        import shiboken6

        if self.dialog is None or not shiboken6.isValid(self.dialog):
            self.dialog = ImportDialog(self.ctx, self.window, entity)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def install(window: MainWindow) -> Any:
    ui = ExchangeUi(window)
    window.exchange_ui = ui  # type: ignore[attr-defined]
    return ui
