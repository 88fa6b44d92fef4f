"""The Leads tab (issue 17): my leads and the pool; add a lead, claim from the pool,
give one back, log a contact with its outcome, convert. The work is desktop.leads.service
on the store worker; the server decides owners and answers claims at the next sync.

    install(window)  -> LeadsUi (window.leads_ui)
"""

from __future__ import annotations

from desktop.ui.common.window import MainWindow
from desktop.ui.leads.page import LeadsUi


def install(window: MainWindow) -> LeadsUi:
    ui = LeadsUi(window)
    window.leads_ui = ui
    return ui
