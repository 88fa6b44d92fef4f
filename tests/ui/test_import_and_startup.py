"""Bulk CSV import in the background, and the app's entry point."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tests.ui.helpers import settle


def write_csv(path: Path, n: int, bad_lines: dict[int, dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "Phone", "industry", "unknown column"])
        for i in range(n):
            row = {"name": f"苏州工业园区第{i:04d}号精密制造有限公司",
                   "phone": f"0512 6{i % 1000:03d} {i:04d}", "industry": "制造业"}
            row.update(bad_lines.get(i, {}))
            w.writerow([row["name"], row["phone"], row["industry"], "x"])


def test_csv_import_runs_in_the_background_and_reports_skipped_rows(
        qtbot: Any, window: Any, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    write_csv(path, 2500, {7: {"phone": "12"}, 900: {"name": ""}, 2400: {"phone": "not a phone"}})
    ctx = window.ctx
    seen: list[int] = []
    ctx.progress_changed.connect(lambda op, done, total, text: seen.append(done))
    window.records_ui.import_csv(path)
    assert window.progress.isVisible()
    settle(qtbot, ctx, timeout=30000)
    assert ctx.run_and_wait(lambda s: s.repo("account").count()) == 2497
    result = window.records_ui.last_import
    assert result.imported == 2497 and result.skipped_count == 3
    assert [line for line, _ in result.skipped] == [9, 902, 2402]  # header is line 1
    assert "Skipped 3 rows" in window.statusBar().currentMessage()
    assert len(seen) >= 3 and not window.progress.isVisible()
    window.show_tab(1)
    settle(qtbot, ctx)
    assert window.records_ui.accounts.model.rowCount() == 200  # the list shows the first page


def test_unreadable_csv_says_what_is_wrong(qtbot: Any, window: Any, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    window.records_ui.import_csv(path)
    settle(qtbot, window.ctx)
    assert "no column matches" in window.statusBar().currentMessage()


def test_run_app_shows_the_window_then_the_first_page(profile: Path) -> None:
    """The real entry point, in its own process (app.exec() and quit would disturb the
    test process's QApplication): the window comes up, then the first page of accounts."""
    import json
    import os
    import subprocess
    import sys

    from desktop.store import Store

    with Store.open(profile) as store:
        store.repo("account").import_many({"name": f"客户{i:03d}"} for i in range(300))
    code = ("from pathlib import Path; from desktop.ui.app import run_app; "
            f"raise SystemExit(run_app(Path({str(profile)!r}), [], 'zh'))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FIELDCRM_STARTUP_PROBE="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=90, env=env, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    marks = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("{")))
    assert marks["rows"] == 200
    assert marks["window_shown_ms"] <= marks["first_page_ms"]
    assert marks["asyncio_loop"], "native notifications need Qt's loop to be the asyncio loop"


def test_records_an_interrupted_import_left_unindexed_become_searchable_once_the_app_opens(
        qtbot: Any, make_ctx: Any, profile: Path) -> None:
    from desktop.store import Store

    with Store.open(profile) as store:  # as if killed between the import and its indexing
        store.repo("account").import_many(({"name": f"客户{i:04d}"} for i in range(4500)),
                                          index=False)
    ctx = make_ctx("zh")
    qtbot.waitUntil(lambda: ctx.is_ready, timeout=10000)
    qtbot.waitUntil(lambda: ctx.run_and_wait(lambda s: s.search_backlog()) == 0, timeout=20000)
    assert len(ctx.run_and_wait(lambda s: s.search("kehu"))) == 20  # pinyin: the built index only
