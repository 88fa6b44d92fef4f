"""Helpers for the Qt tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shiboken6

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def settle(qtbot: Any, ctx: Any, timeout: int = 10000) -> None:
    """Wait until every queued op has run and its result was delivered, twice over
    (a result often queues the next op, e.g. a reload after a change)."""
    for _ in range(3):
        qtbot.waitUntil(lambda: not ctx.busy, timeout=timeout)
        qtbot.wait(30)


def shot(widget: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not write {path}"
    return path


def closed(widget: Any) -> bool:
    """A dialog that was closed (and maybe deleted)."""
    return not shiboken6.isValid(widget) or not widget.isVisible()
