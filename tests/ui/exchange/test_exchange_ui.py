"""Import and export in the app: File ▸ Import… (mapping with a preview, saved mapping,
dry run, import, cancel) and File ▸ Export current list… in the background.
Screenshots in en and zh under /work/helpers/shots/porter (and the repo's screenshots)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.exchange.files import USCC, read_csv, write_csv
from tests.ui.helpers import settle, shot

SHOTS = Path("/work/helpers/shots/porter")
LONG = "内蒙古自治区呼和浩特市赛罕区超长名称国际贸易与供应链管理集团股份有限公司（呼和浩特分公司）"


def save_shot(widget: Any, name: str) -> None:
    path = shot(widget, f"exchange_{name}")
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        shutil.copyfile(path, SHOTS / path.name)


@pytest.fixture(params=["en", "zh"])
def window(request: pytest.FixtureRequest, make_window: Any) -> Any:
    from desktop.ui.app import install_features

    w = make_window(request.param)
    install_features(w, ("desktop.ui.exchange",))
    return w


def source(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "客户名单.csv", [
        ["公司名称", "手机", "统一社会信用代码", "所属行业", "员工人数", "备注"],
        ["深圳市腾讯计算机系统有限公司", "13912345678", USCC[0], "互联网", "100000", "VIP"],
        [LONG, "", "", "贸易", "300", ""],
        ["华为技术有限公司", "12", "", "通信", "", ""],
        ["腾讯计算机系统（深圳）有限公司", "", "", "", "", ""]], "gbk")


def wait_done(qtbot: Any, dlg: Any) -> None:
    qtbot.waitUntil(lambda: dlg.op is None and dlg.result is not None, timeout=20000)


def test_import_dialog_maps_previews_dry_runs_and_imports(qtbot: Any, window: Any,
                                                         tmp_path: Path) -> None:
    lang = window.ctx.lang
    dlg = window.exchange_ui.open_import("account")
    qtbot.addWidget(dlg)
    save_shot(dlg, f"import_empty_{lang}")
    dlg.set_file(source(tmp_path))
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 6, timeout=10000)
    assert dlg.mapping() == {"公司名称": "name", "手机": "phone", "统一社会信用代码": "uscc",
                             "员工人数": "cf_employees"}
    assert "GB18030" in dlg.info.text().upper()
    dlg.set_target("所属行业", "industry")
    dlg.save_mapping("供应商名单")
    assert dlg.saved.currentData() == "供应商名单"
    dlg.start(dry_run=True)
    wait_done(qtbot, dlg)
    assert (dlg.result.created, dlg.result.skipped_duplicates, dlg.result.invalid) == (2, 1, 1)
    assert "2" in dlg.summary.text()
    save_shot(dlg, f"import_dry_run_{lang}")
    dlg.result = None
    dlg.start(dry_run=False)
    wait_done(qtbot, dlg)
    settle(qtbot, window.ctx)
    assert dlg.result.created == 2 and dlg.result.invalid == 1
    names = window.ctx.run_and_wait(
        lambda s: sorted((r["name"], r["industry"]) for r in s.repo("account").iter_all()))
    assert names == sorted([("深圳市腾讯计算机系统有限公司", "互联网"), (LONG, "贸易")])
    errors = read_csv(Path(dlg.result.errors_file))
    assert errors[1][0] == "华为技术有限公司" and "phone" in errors[1][-1].lower()
    save_shot(dlg, f"import_done_{lang}")


def test_a_file_with_no_name_column_says_so(qtbot: Any, window: Any, tmp_path: Path) -> None:
    dlg = window.exchange_ui.open_import("contact")
    qtbot.addWidget(dlg)
    dlg.set_file(write_csv(tmp_path / "x.csv", [["手机"], ["13912345678"]]))
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1, timeout=10000)
    dlg.start(dry_run=True)
    wait_done(qtbot, dlg)
    assert "Name" in dlg.summary.text() or "姓名" in dlg.summary.text()


def test_export_the_current_list_in_the_background(qtbot: Any, window: Any,
                                                   tmp_path: Path) -> None:
    window.ctx.run_and_wait(lambda s: s.repo("account").import_many(
        [{"name": f"{LONG} {i}", "industry": "=1+1"} for i in range(30_000)], index=False))
    window.show_tab(1)  # Accounts
    ui = window.exchange_ui.exports
    assert ui.current_entity() == "account"
    out = tmp_path / "accounts.csv"
    task = ui.export("account", out)
    qtbot.waitUntil(lambda: bool(window.findChildren(type(window.statusBar()))), timeout=1000)
    save_shot(window, f"export_running_{window.ctx.lang}")
    qtbot.waitUntil(lambda: ui.last_result is not None, timeout=60000)
    assert task.isFinished() or task.wait(5000)
    assert ui.last_result.rows == 30_000
    rows = read_csv(out)
    assert len(rows) == 30_001 and rows[1][3] == "'=1+1"
    # cancel: no file is left
    ui.last_result = None
    out2 = tmp_path / "cancelled.xlsx"
    task = ui.export("account", out2, "xlsx")
    task.cancel()
    qtbot.waitUntil(lambda: ui.last_result is not None, timeout=60000)
    from desktop.errors import Cancelled

    assert isinstance(ui.last_result, Cancelled) and not out2.exists()
