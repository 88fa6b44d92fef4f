"""Fixtures for the Qt tests: an AppContext on a fresh profile (store opened on its
worker thread), the main window, helpers to wait for the worker and to save
screenshots into /work/main/screenshots (git-ignored)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _local_noon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every Qt test with the local wall clock near noon: the screens group a rep's
    day by the local date ("due later today" is tomorrow after 22:00), and a test that
    seeds "in two hours" must not fail because CI ran late in the evening. The zone is
    a fixed offset from UTC, a real zone setting as a rep in another country has;
    tests that need a named zone set TZ themselves."""
    import datetime as dt
    import time

    offset = 12 - dt.datetime.now(dt.UTC).hour  # -11 .. +12 hours
    monkeypatch.setenv("TZ", f"NOON{-offset:+d}")  # POSIX: the sign is west of UTC
    time.tzset()


@pytest.fixture
def make_ctx(qapp: Any, profile: Path) -> Iterator[Callable[..., Any]]:
    from desktop.ui.common.context import AppContext

    made: list[AppContext] = []

    def make(lang: str = "en", **kw: Any) -> AppContext:
        ctx = AppContext(kw.pop("profile_dir", profile), lang=lang, **kw)
        ctx.start()
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.shutdown()


@pytest.fixture
def ctx(make_ctx: Callable[..., Any]) -> Any:
    return make_ctx("en")


@pytest.fixture
def make_window(qtbot: Any, make_ctx: Callable[..., Any]) -> Callable[..., Any]:
    from desktop.ui.app import install_features
    from desktop.ui.common.window import MainWindow

    def make(lang: str = "en", features: tuple[str, ...] = ("desktop.ui.records",),
             **kw: Any) -> MainWindow:
        """The main window with `features` mounted (records only, unless asked)."""
        ctx = make_ctx(lang, **kw)
        window = MainWindow(ctx)
        install_features(window, features)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitUntil(lambda: ctx.is_ready or ctx.open_error is not None, timeout=10000)
        return window

    return make


@pytest.fixture
def window(make_window: Callable[..., Any]) -> Any:
    return make_window("en")
