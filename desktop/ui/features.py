"""The features of the app, in the order they are mounted in the main window.

Each is a subpackage of desktop.ui with one entry, `install(window)`: it adds the
feature's menus, tabs, pages and status-bar items to the window (and again after each
`window.built`), or arranges to do so once the store is open. Adding a feature is one
line here. Features never import each other (import-linter checks it); they share
desktop.ui.common and reach each other through the window (desktop.ui.common.window).

The order is the order of their menus in the menu bar.
"""

from __future__ import annotations

FEATURES: tuple[str, ...] = (
    "desktop.ui.records",
    "desktop.ui.capture",
    "desktop.ui.followup",
    "desktop.ui.sync",
    "desktop.ui.dedupe",
    "desktop.ui.fields",
    "desktop.ui.exchange",
    "desktop.ui.home",
    "desktop.ui.quickadd",
    "desktop.ui.leads",
    "desktop.ui.applock",
    "desktop.ui.reports",
)
