"""Screens of a rep's day at 200% scaling (run in a process of its own: the scale factor
is fixed when Qt starts): `python -m tests.ui.hidpi_shots LANG PROFILE OUT_DIR`.

The window is 1366×768 logical pixels (2732×1536 on screen). Exits non-zero when a
Chinese account name that matters is cut: the account page's title, and the agenda's
account column for a name of ordinary length."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_SCALE_FACTOR"] = "2"


def main(lang: str, profile: Path, out: Path) -> int:
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    font = QFont(app.font())
    font.setFamilies([font.family(), "Noto Sans CJK SC"])
    app.setFont(font)
    from desktop.demo_op import add_demo
    from desktop.followup.clock import iso
    from desktop.rep import set_user_name
    from desktop.ui.app import install_features
    from desktop.ui.common.context import AppContext
    from desktop.ui.common.window import MainWindow

    def wait(ms: int) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    ctx = AppContext(profile, lang=lang)
    ctx.start()
    window = MainWindow(ctx)
    install_features(window, ("desktop.ui.records", "desktop.ui.followup", "desktop.ui.home",
                              "desktop.ui.quickadd"))
    window.resize(1366, 768)
    window.show()
    while not ctx.is_ready:
        wait(50)
    name = "上海远大物流股份有限公司" if lang == "zh" else "Brightwater Farms LLC"

    class Quiet:
        def report(self, done: int, total: int = 0, text: str = "") -> None:
            pass

    def seed(store: object) -> str:
        set_user_name(store, "张伟" if lang == "zh" else "Wendy Walker")  # type: ignore[arg-type]
        add_demo(store, Quiet(), 20, seed=3, lang=lang)  # type: ignore[arg-type]
        repo = store.repo  # type: ignore[attr-defined]
        acc = repo("account").create({"name": name, "phone": "021-58881234"})
        repo("activity").create({"kind": "call", "subject": "回电确认报价" if lang == "zh"
                                 else "Call back on the quote", "account_id": acc["id"],
                                 "due_at": iso(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))})
        return str(acc["id"])

    acc_id = ctx.run_and_wait(seed, timeout=60)
    dialog = getattr(window, "home_ui").name_dialog  # noqa: B009
    if dialog is not None:
        dialog.reject()
    wait(1500)
    window.show_tab(0)
    agenda = window.followup_ui.agenda  # type: ignore[attr-defined]
    agenda.refresh()
    wait(1500)
    problems = []
    for row in agenda._rows():
        if row.text(2) == name:
            width = agenda.tree.columnWidth(2)
            needed = agenda.tree.fontMetrics().horizontalAdvance(name) + 12
            if needed > width:
                problems.append(f"agenda account column {width} < {needed} for {name}")
    out.mkdir(parents=True, exist_ok=True)
    shots = {}
    window.grab().save(str(out / f"repday_{lang}_200pct_today.png"))
    window.home_ui.show()  # type: ignore[attr-defined]
    wait(800)
    shots["home"] = window.grab().save(str(out / f"repday_{lang}_200pct_home.png"))
    window.records_ui.open_account(acc_id)  # type: ignore[union-attr]
    wait(1000)
    page = window.records_ui.account_page  # type: ignore[union-attr]
    if page.title.text() != name:
        problems.append(f"account title cut: {page.title.text()!r}")
    window.grab().save(str(out / f"repday_{lang}_200pct_account.png"))
    window.show_tab(3)
    wait(1200)
    window.grab().save(str(out / f"repday_{lang}_200pct_deal_board.png"))
    window.actions_by_name["quick_add"].trigger()
    wait(300)
    quick = window.quickadd_ui.dialog  # type: ignore[attr-defined]
    quick.grab().save(str(out / f"repday_{lang}_200pct_quick_add.png"))
    quick.reject()
    window.close()
    ctx.shutdown()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
