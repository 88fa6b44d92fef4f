"""The Qt side of `fieldcrm --smoke-test`'s window check (desktop.smoke holds the rest,
Qt-free): start the app as `fieldcrm` does, with its start-up probe on, and give up
after a timeout."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WindowRun:
    exit_code: int
    stderr: str
    timed_out: bool
    platform: str


def run_window_probe(profile: Path, timeout_ms: int) -> WindowRun:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.ui.app import run_app

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "fieldcrm"])
    timed_out: list[bool] = []

    def give_up() -> None:
        timed_out.append(True)
        app.quit()

    QTimer.singleShot(timeout_ms, give_up)
    err = io.StringIO()
    old = os.environ.get("FIELDCRM_STARTUP_PROBE")
    os.environ["FIELDCRM_STARTUP_PROBE"] = "1"
    try:
        with contextlib.redirect_stderr(err):
            code = run_app(profile, [], "en")
    finally:
        if old is None:
            os.environ.pop("FIELDCRM_STARTUP_PROBE", None)
        else:
            os.environ["FIELDCRM_STARTUP_PROBE"] = old
    return WindowRun(code, err.getvalue(), bool(timed_out), QApplication.platformName())
