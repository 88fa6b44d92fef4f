"""`ctx.run_task`: work that needs no store runs off the UI thread, and its result,
progress and errors come back on the UI thread in the same shape as `ctx.run_long`."""

from __future__ import annotations

import threading
from typing import Any

from desktop.errors import Cancelled, FieldCRMError


def test_result_and_progress_come_back_on_the_ui_thread(qtbot: Any, ctx: Any) -> None:
    ui_thread = threading.get_ident()
    seen: dict[str, Any] = {"progress": []}

    def work(task: Any) -> int:
        seen["worker"] = threading.get_ident()
        task.report(0.5, "half")
        return 42

    def done(result: int) -> None:
        seen["done"] = (result, threading.get_ident())

    ctx.run_task(work, on_done=done,
                 on_progress=lambda f, t: seen["progress"].append((f, t, threading.get_ident())))
    qtbot.waitUntil(lambda: "done" in seen, timeout=5000)
    assert seen["worker"] != ui_thread
    assert seen["done"] == (42, ui_thread)
    assert seen["progress"] == [(0.5, "half", ui_thread)]


def test_cancel_reaches_on_error_as_cancelled(qtbot: Any, ctx: Any) -> None:
    started = threading.Event()
    errors: list[BaseException] = []

    def work(task: Any) -> None:
        started.set()
        while True:
            task.report(0.0)  # raises Cancelled once cancelled
            task.msleep(5)

    task = ctx.run_task(work, on_done=lambda _r: errors.append(AssertionError("done")),
                        on_error=errors.append)
    assert started.wait(5)
    task.cancel()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], Cancelled)


def test_without_on_error_the_shared_error_display_says_it(qtbot: Any, ctx: Any) -> None:
    shown: list[str] = []
    ctx.error_shown.connect(shown.append)

    def work(_task: Any) -> None:
        raise FieldCRMError("The server could not be reached.")

    ctx.run_task(work)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == ["The server could not be reached."]


def test_shutdown_stops_running_tasks(qtbot: Any, make_ctx: Any) -> None:
    ctx = make_ctx("en")
    started = threading.Event()

    def work(task: Any) -> None:
        started.set()
        while not task.cancelled():
            task.msleep(5)

    task = ctx.run_task(work)
    assert started.wait(5)
    ctx.shutdown()
    assert task.isFinished()


def test_a_result_for_a_deleted_view_is_dropped(qtbot: Any, ctx: Any) -> None:
    """A view deleted while its op ran (a language switch rebuilds every view) gets no
    result, also when its method is wrapped in functools.partial."""
    import functools

    import shiboken6
    from PySide6.QtCore import QObject

    class View(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.got: list[object] = []

        def show(self, gen: int, result: object) -> None:
            self.got.append((gen, result))

    view, kept = View(), View()
    got = view.got
    gate = threading.Event()
    ctx.run(lambda _s: gate.wait(5), on_done=functools.partial(view.show, 1))
    ctx.run(lambda _s: 7, on_done=functools.partial(kept.show, 2))
    shiboken6.delete(view)
    gate.set()
    qtbot.waitUntil(lambda: bool(kept.got), timeout=5000)
    assert kept.got == [(2, 7)]
    assert got == []  # the deleted view was not called
