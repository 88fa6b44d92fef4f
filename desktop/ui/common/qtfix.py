"""Work-around for a reference-count bug of PySide6 6.12 on CPython 3.11.

`SignalInstance.emit()` returns `True` without taking a new reference, so every
signal emitted from Python code takes one reference away from `True`. After a few
thousand emits CPython frees `True` and the process aborts with "Fatal Python error:
bool_dealloc: deallocating True or False" (seen in our tests; an app left open for a
day would hit it too). CPython 3.12+ makes True/False immortal, which hides the bug.
We do the same on older versions: give True and False an enormous reference count
(2**40 more emits than anyone will ever make). Applied once, when desktop.ui is
imported; checked by tests/ui/test_qtfix.py.
"""

from __future__ import annotations

import ctypes
import sys

PAD = 1 << 40


def make_bools_immortal() -> bool:
    """Pad the reference counts of True and False; True when it was applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    applied = False
    for obj in (True, False):
        before = sys.getrefcount(obj)
        if before > PAD:
            continue  # already done
        cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt, first field of the object
        if cell.value != before - 1 and cell.value != before:
            return applied  # an unusual build layout: leave it alone
        cell.value += PAD
        applied = True
    return applied
