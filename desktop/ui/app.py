"""`run_app`: the desktop app's entry point (desktop.cli calls it for `fieldcrm`).

The window is shown at once; the store is opened on the store worker thread, never
on the UI thread, and the views fill in as their first pages arrive.

Set FIELDCRM_STARTUP_PROBE=1 to print start-up timings (JSON, on stderr) and quit once
the first page of accounts is on screen (used to measure start-up time).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.ui.features import FEATURES

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from desktop.ui.common.context import AppContext
    from desktop.ui.common.window import MainWindow

log = logging.getLogger(__name__)
PROBE_TIMEOUT_MS = 60000


def install_features(window: MainWindow, features: tuple[str, ...] = FEATURES) -> None:
    """Call `install(window)` of each feature (desktop.ui.features). A feature that
    fails to load is logged and left out; the app runs without it."""
    for name in features:
        try:
            importlib.import_module(name).install(window)
        except Exception:
            log.exception("UI feature %s failed to load; the app runs without it", name)


def run_app(profile: Path, argv: list[str], lang: str | None) -> int:
    """Open the main window on the store in `profile`; return the exit code."""
    t0 = time.perf_counter()
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from desktop.ui.common.context import AppContext
    from desktop.ui.common.window import MainWindow

    program = sys.argv[0] if sys.argv else "fieldcrm"
    qt_args = list(argv) if argv and argv[0] == program else [program, *argv]
    app = QApplication.instance() or QApplication(qt_args)
    assert isinstance(app, QApplication)
    app.setApplicationName("FieldCRM")
    app.setOrganizationName("FieldCRM")
    font = QFont(app.font())
    font.setFamilies([font.family(), "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC"])
    app.setFont(font)
    from desktop.ui.common.context import open_encrypted_store

    ctx = AppContext(Path(profile), lang=lang, store_factory=open_encrypted_store)
    window = MainWindow(ctx)
    install_features(window)
    window.show()
    ctx.start()  # opens the store on the worker thread
    shown_ms = (time.perf_counter() - t0) * 1000
    shown_at = time.time()
    log.info("main window shown after %.0f ms", shown_ms)

    if os.environ.get("FIELDCRM_STARTUP_PROBE"):
        _probe(app, ctx, window, t0, shown_ms, shown_at)
    code = _exec_with_asyncio(app)
    ctx.shutdown()
    return int(code)


def _asyncio_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _exec_with_asyncio(app: object) -> int:
    """Run Qt's event loop as the asyncio loop (qasync), so that desktop-notifier can
    post native notifications and hear their buttons."""
    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return int(loop.run_forever())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _probe(app: QApplication, ctx: AppContext, window: MainWindow, t0: float, shown_ms: float,
           shown_at: float) -> None:
    from PySide6.QtCore import QTimer

    from desktop.ui.records.mount import RecordsUi

    records = window.records_ui
    assert isinstance(records, RecordsUi)
    marks: dict[str, float] = {"window_shown_ms": round(shown_ms, 1), "shown_at": shown_at}
    ctx.store_ready.connect(lambda: marks.setdefault(
        "store_open_ms", round((time.perf_counter() - t0) * 1000, 1)))

    guard = QTimer(window, singleShot=True, interval=PROBE_TIMEOUT_MS)
    guard.timeout.connect(app.quit)
    guard.start()

    def first_page() -> None:
        if "first_page_ms" in marks:
            return
        guard.stop()
        marks["first_page_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        marks["rows"] = records.accounts.model.rowCount()
        marks["asyncio_loop"] = _asyncio_running()
        print(json.dumps(marks), file=sys.stderr, flush=True)
        app.quit()

    records.accounts.model.loaded.connect(first_page)
    window.show_tab(1)
