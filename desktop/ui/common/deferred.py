"""Mount a feature once the store is open, after loading its Qt-free libraries on the
store worker, so the window shows before those imports cost anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def mount_when_ready(window: Any, warm: Callable[[Any], None], mount: Callable[[Any], Any]) -> None:
    """Run `warm(store)` on the store worker once the store is open, then `mount(window)`
    on the UI thread (also when warming failed: mount says what is missing)."""
    ctx = window.ctx

    def queue() -> None:
        ctx.run(warm, on_done=lambda _r: mount(window), on_error=lambda _exc: mount(window))

    if ctx.is_ready:
        queue()
    else:
        ctx.store_ready.connect(queue)
