"""Mount duplicate checking (issue 15): see desktop.ui.dedupe."""

from __future__ import annotations

from typing import Any


def install(window: Any) -> Any:
    from desktop.ui.dedupe import install as install_dedupe

    return install_dedupe(window)
