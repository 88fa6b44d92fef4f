"""PySide6 6.12 on CPython 3.11 drops a reference to True on every Python-side
signal emit; desktop.ui pads it so a long session does not abort."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent("""
    import gc, sys
    {setup}
    from PySide6.QtCore import QObject, Signal

    class O(QObject):
        fired = Signal(str)

    o = O()
    for _ in range(300_000):
        o.fired.emit("x")
    gc.collect()
    print("ok", sys.getrefcount(True) > 0)
""")


def run(setup: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)],
                          capture_output=True, text=True, timeout=60)


def test_many_emits_do_not_free_true() -> None:
    done = run("import desktop.ui")
    assert done.returncode == 0, done.stderr
    assert "ok True" in done.stdout
