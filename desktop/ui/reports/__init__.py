"""The Reports tab (issue 18): a report, its period, owners and currency; bars and a
table; every bar and row drills down to its records; print to PDF. The figures are
desktop.reports on the store worker (what this laptop holds, offline).

    install(window)  -> ReportsUi (window.reports_ui)
"""

from __future__ import annotations

from desktop.ui.common.window import MainWindow
from desktop.ui.reports.page import ReportsUi


def install(window: MainWindow) -> ReportsUi:
    ui = ReportsUi(window)
    window.reports_ui = ui
    return ui
