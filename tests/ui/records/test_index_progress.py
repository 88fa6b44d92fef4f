"""While the search index is built after a bulk arrival the app stays usable: a quiet
status-bar line says how far it is, and a search says its results may be incomplete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.store import Store
from tests.ui.helpers import settle, shot


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_progress_line_and_incomplete_search_while_the_index_builds(
        qtbot: Any, make_window: Any, profile: Path, monkeypatch: pytest.MonkeyPatch,
        lang: str) -> None:
    from desktop.store import indexer
    from desktop.ui.records import index_progress

    with Store.open(profile) as store:  # as a first sync leaves it: 5,000 records, 3,100 built
        store.repo("account").import_many(
            ({"name": f"杭州银行第{i:04d}分理处", "phone": f"+86 139 {i:04d} 0000"}
             for i in range(5000)),
            index=False)
        store.index_backlog(max_rows=3100)
    held = indexer.build_in_background
    monkeypatch.setattr(indexer, "build_in_background", lambda _store: None)  # the builder waits
    window = make_window(lang)
    ui = window.records_ui.index_progress
    search = window.records_ui.search
    label = window.findChild(type(ui.label), index_progress.WIDGET_NAME)
    qtbot.waitUntil(lambda: label.isVisible(), timeout=5000)
    want = "正在准备拼音搜索：62%" if lang == "zh" else "Preparing pinyin search: 62%"
    assert label.text() == want

    search.box.setText("139 0042")  # built: found by phone digits
    qtbot.waitUntil(lambda: search.shown_query == "139 0042", timeout=5000)
    assert search.titles() == ["杭州银行第0042分理处"] and not search.complete
    notice = search.results.item(search.results.count() - 1).text()
    assert notice == ("搜索仍在准备中：结果可能不完整。" if lang == "zh"
                      else "Search is still being prepared: results may be incomplete.")
    search.box.setText("第4999")  # not built yet: found by any part of its name
    qtbot.waitUntil(lambda: search.shown_query == "第4999", timeout=5000)
    assert search.titles() == ["杭州银行第4999分理处"]
    settle(qtbot, window.ctx)
    shot(window, f"index_progress_{lang}")

    monkeypatch.setattr(indexer, "build_in_background", held)  # the builder goes on
    window.ctx.run_and_wait(lambda s: indexer.build_in_background(s))
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=30000)  # gone once complete
    search.box.setText("139 4999")
    qtbot.waitUntil(lambda: search.shown_query == "139 4999", timeout=5000)
    assert search.titles() == ["杭州银行第4999分理处"] and search.complete
    assert search.results.count() == 1  # no notice any more


def test_the_app_mounts_the_progress_line(qtbot: Any, window: Any) -> None:
    from desktop.ui.records.index_progress import WIDGET_NAME

    settle(qtbot, window.ctx)
    label = window.statusBar().findChild(type(window.records_ui.index_progress.label), WIDGET_NAME)
    assert label is not None and not label.isVisible()  # an empty store: nothing to prepare
