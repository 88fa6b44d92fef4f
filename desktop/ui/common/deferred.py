"""Mount a feature once the store is open, after loading its Qt-free libraries on the
store worker, so the window shows before those imports cost anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.store import Store
    from desktop.ui.common.window import MainWindow


def mount_when_ready(window: MainWindow, warm: Callable[[Store], object],
                     mount: Callable[[MainWindow], object]) -> None:
    """Run `warm(store)` on the store worker once the store is open, then `mount(window)`
    on the UI thread (also when warming failed: mount says what is missing)."""
    ctx = window.ctx

    def mount_now(_result_or_error: object) -> None:
        mount(window)

    def queue() -> None:
        ctx.run(warm, on_done=mount_now, on_error=mount_now)

    if ctx.is_ready:
        queue()
    else:
        ctx.store_ready.connect(queue)
