"""File ▸ Custom fields…: the custom field definitions (issue 24). Admins add, edit,
retire and restore fields; everyone else sees them read-only.

    install(window)  -> FieldsUi (window.fields_ui)
"""

from __future__ import annotations

from desktop.ui.common.window import MainWindow
from desktop.ui.fields.mount import FieldsUi


def install(window: MainWindow) -> FieldsUi:
    ui = FieldsUi(window)
    window.fields_ui = ui
    return ui
