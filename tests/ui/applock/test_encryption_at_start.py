"""The app's start encrypts a plain store, or re-encrypts one in the older format, before
it opens: the status bar says so with a percentage, then the window works as usual."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.store import Store, cipher
from desktop.ui.common.context import open_encrypted_store
from tests.ui.helpers import settle, shot

NAME = "Zhangwei Trading 张伟贸易"


def _book(profile: Path, n: int = 400) -> None:
    with Store.open(profile) as store:
        store.repo("account").import_many({"name": f"客户{i:05d}"} for i in range(n))
        store.repo("account").create({"name": NAME})


@pytest.mark.parametrize("start", ["plain", "legacy"])
def test_start_encrypts_with_progress_then_opens(qtbot: Any, make_window: Any,
                                                 profile: Path, start: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _book(profile)
    if start == "legacy":
        with monkeypatch.context() as m:
            m.setattr(cipher, "FORMAT", cipher.LEGACY)
            cipher.encrypt_store(profile)
        assert cipher.store_format(profile) == "legacy"
    heard: list[tuple[str, int]] = []

    def factory(profile: Path, progress: Any) -> Store:
        def both(phase: str, done: float) -> None:
            heard.append((phase, int(done * 100)))
            progress(phase, done)
        return open_encrypted_store(profile, both)

    window = make_window("zh", store_factory=factory)
    qtbot.waitUntil(lambda: window.ctx.is_ready, timeout=20000)
    settle(qtbot, window.ctx)
    assert cipher.store_format(profile) == "current"
    percents = [pct for _phase, pct in heard]
    assert percents == sorted(percents) and percents[-1] == 100, heard
    assert not window.progress.isVisible() and window.statusBar().currentMessage() == ""
    found = window.ctx.run_and_wait(lambda store: [h.id for h in store.search("张伟")])
    assert len(found) == 1


def test_the_status_bar_while_encrypting(qtbot: Any, make_window: Any) -> None:
    for lang, text in (("en", "Encrypting your local data: 42%"), ("zh", "正在加密本地数据：42%")):
        window = make_window(lang)
        qtbot.waitUntil(lambda w=window: w.ctx.is_ready, timeout=10000)
        window._store_opening("encrypt", 42)
        assert window.statusBar().currentMessage() == text
        assert window.progress.isVisible() and window.progress.value() == 42
        shot(window, f"encrypting_store_{lang}")
        window._store_opened()
        assert not window.progress.isVisible()
