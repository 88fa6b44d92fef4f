"""The Reports tab (issue 18): a report with bars and a table in English and Chinese,
a drill-down from a bar to its records, an empty period, a PDF; screenshots
(screenshots/reports_*.png)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate

from desktop.store import Store
from tests.ui.helpers import settle, shot

FEATURES = ("desktop.ui.records", "desktop.ui.reports")


def _seed(profile: Path) -> None:
    today = dt.date.today()
    with Store.open(profile) as store:
        deals = store.repo("deal")
        for i, (stage, owner) in enumerate((("proposal", "王芳"), ("proposal", "李雷"),
                                            ("negotiation", "王芳"), ("lead", "Alexandra "
                                             "Konstantinopoulou-Whitfield"))):
            deals.create({"title": f"深圳华星光电技术有限公司 年度框架采购项目 {i}",
                          "amount": 125000.5 * (i + 1), "currency": "CNY" if i else "USD",
                          "stage": stage, "owner": owner,
                          "close_date": (today + dt.timedelta(days=20 * i)).isoformat()})
        store.repo("fx_rate").create({"currency": "USD", "rate": 7.1,
                                      "valid_from": "2020-01-01"})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pipeline_bars_table_drill_down_and_pdf(qtbot: Any, make_window: Callable[..., Any],
                                               profile: Path, lang: str,
                                               tmp_path: Path) -> None:
    _seed(profile)
    window = make_window(lang, features=FEATURES)
    page = window.reports_ui.page
    window.tabs.setCurrentWidget(page)
    settle(qtbot, window.ctx)
    report = page.report
    assert report is not None and report.name == "pipeline"
    proposal = report.cell("proposal")
    assert proposal is not None and proposal.values["deals"] == 2
    # the table shows the stage in the user's language and the total row
    stages = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    assert ("方案" if lang == "zh" else "proposal") in stages
    assert ("合计" if lang == "zh" else "Total") in stages
    assert "1,137,504.55" in [page.table.item(r, 2).text() for r in range(page.table.rowCount())]
    shot(window, f"reports_pipeline_{lang}")
    # a bar opens the records behind it
    row = report.cells.index(proposal)
    page.chart.clicked.emit(row)
    settle(qtbot, window.ctx)
    dlg = window.dialog
    assert dlg is not None and dlg.objectName() == "report_drill"
    assert dlg.list.count() == 2
    assert all("年度框架采购项目" in dlg.list.item(i).text() for i in range(2))
    shot(dlg, f"reports_drill_{lang}")
    dlg.close()
    page.export_file(str(tmp_path / "pipeline.xlsx"))  # the shown report, as a sheet
    settle(qtbot, window.ctx)
    assert (tmp_path / "pipeline.xlsx").read_bytes()[:2] == b"PK"
    pdf = page.print_pdf(str(tmp_path / "pipeline.pdf"))
    assert pdf is not None and Path(pdf).read_bytes()[:5] == b"%PDF-"
    assert Path(pdf).stat().st_size > 2000


def test_an_empty_period_says_so(qtbot: Any, make_window: Callable[..., Any],
                                 profile: Path) -> None:
    window = make_window("zh", features=FEATURES)
    page = window.reports_ui.page
    window.tabs.setCurrentWidget(page)
    page.date_from.setDate(QDate(2020, 1, 1))
    page.date_to.setDate(QDate(2020, 3, 31))
    page.name.setCurrentIndex(page.name.findData("golden-72"))
    settle(qtbot, window.ctx)
    assert page.report is not None and page.report.name == "golden-72"
    assert page.report.cells == []
    assert "此期间没有记录" in page.notes.text()
    shot(window, "reports_empty_zh")


def test_notes_under_a_report_speak_the_screen_language(
        qtbot: Any, make_window: Callable[..., Any], profile: Path) -> None:
    window = make_window("zh", features=FEATURES)
    page = window.reports_ui.page
    window.tabs.setCurrentWidget(page)
    page.name.setCurrentIndex(page.name.findData("collections"))
    settle(qtbot, window.ctx)
    assert page.report is not None and page.report.name == "collections"
    assert "账龄（截至" in page.notes.text() and "天" in page.notes.text()
    assert "ageing" not in page.notes.text()
    shot(window, "reports_collections_notes_zh")


def test_golden_72_heat_map_rep_by_week(qtbot: Any, make_window: Callable[..., Any],
                                        profile: Path) -> None:
    with Store.open(profile) as store:
        acc = store.repo("account")
        for i, owner in enumerate(("王芳", "王芳", "李雷", "Alexandra Konstantinopoulou")):
            a = acc.create({"name": f"杭州示例科技有限公司{i}", "owner": owner})
            if owner == "王芳":  # followed up at once: a call and the customer's reply
                for kind, extra in (("call", {"duration_s": 120}),
                                    ("note", {"outcome": "customer_reply"})):
                    store.repo("activity").create({
                        "kind": kind, "subject": "跟进", "account_id": a["id"],
                        "done_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "owner": owner, **extra})
    window = make_window("zh", features=FEATURES)
    page = window.reports_ui.page
    window.tabs.setCurrentWidget(page)
    page.name.setCurrentIndex(page.name.findData("golden-72"))
    settle(qtbot, window.ctx)
    assert page.heat.isVisible() and not page.chart.isVisible()
    assert page.heat.owners[:2] == ["Alexandra Konstantinopoulou", "李雷"]
    assert sorted(page.heat.values.values()) == [0.0, 0.0, 100.0]
    shot(window, "reports_golden72_zh")
    # a square opens the accounts behind it
    at = next(k for k, v in page.heat.values.items() if v == 100.0)
    page.heat.clicked.emit(page.heat.rows[at])
    settle(qtbot, window.ctx)
    assert window.dialog.list.count() == 2
