"""Records: the Today, Accounts, Contacts, Deals and Activities tabs, search, the account
page, the record dialogs, delete-with-undo, CSV import and demo data."""

from __future__ import annotations

from desktop.ui.common.window import MainWindow
from desktop.ui.records.mount import RecordsUi, register_today_section

__all__ = ["install", "register_today_section"]


def install(window: MainWindow) -> RecordsUi:
    """Build the record views into `window` (again after each `window.built`)."""
    return RecordsUi(window)
