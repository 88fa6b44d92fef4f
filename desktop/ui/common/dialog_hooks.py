"""What a feature adds to every record dialog (e.g. desktop.ui.dedupe: duplicate
candidates while the rep types). The records feature calls each hook with the dialog at
the end of its construction; features register here, so neither imports the other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The dialog is a desktop.ui.records.record_dialog.RecordDialog; typed loosely because
# features may not import the records feature (the independence contract).
DialogHook = Callable[[Any], object]
DIALOG_HOOKS: list[DialogHook] = []
