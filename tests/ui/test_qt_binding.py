"""The Qt binding itself: a release of PySide6 (6.12.0 on Python 3.11) took a reference
from None on every call of a method that returns nothing (setText, repaint,
processEvents...), so a long session died with "Fatal Python error: none_dealloc" once
None's count ran out. The app makes such calls all day; this holds the pinned binding
to not leaking them."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtWidgets import QLabel


def test_void_calls_leave_none_alone(qapp: Any) -> None:
    import gc

    label = QLabel()
    for _ in range(3):  # what earlier tests left queued (deferred deletes) goes first
        qapp.processEvents()
        gc.collect()
    before = sys.getrefcount(None)
    for i in range(2000):
        label.setText(str(i))
        label.repaint()
    lost = before - sys.getrefcount(None)
    # nothing else runs meanwhile; the bug took one per call: 4,000
    assert lost < 200, f"{lost} references to None lost by 4,000 void calls"
    label.deleteLater()
