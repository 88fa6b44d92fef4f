"""The Leads tab (issue 17): the rep's leads and the pool, claim, log a contact, a claim
the server refused shown with its reason; in English and Chinese, with screenshots
(screenshots/leads_*.png)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.store import Store
from desktop.ui.common.i18n import Translator
from desktop.ui.leads import page as leads_page
from tests.ui.helpers import settle, shot


def _seed(profile: Path) -> dict[str, str]:
    with Store.open(profile) as store:
        store.set_user("ann")
        repo = store.repo("lead")
        mine = repo.create({"name": "王芳", "company": "北京星河科技有限公司",
                            "phone": "13812345678", "status": "assigned", "owner": "ann",
                            "assigned_at": "2026-12-05T01:00:00Z", "escalation": "reminded"})
        pool = repo.create({"name": "李雷", "company": "上海远航物流有限公司", "status": "pool"})
        gone = repo.create({"name": "韩梅", "status": "assigned", "owner": "bo",
                            "email": "han@x.cn"})
        store.repo("lead_claim").create({"lead_id": gone["id"], "action": "claim",
                                         "result": "lost",
                                         "reason": "bo has this lead: their claim reached "
                                                   "the server first."})
    return {"mine": mine["id"], "pool": pool["id"], "gone": gone["id"]}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_leads_tab_claim_contact_and_a_refused_claim(qtbot: Any, make_window: Callable[..., Any],
                                                     profile: Path, lang: str) -> None:
    ids = _seed(profile)
    window = make_window(lang, features=("desktop.ui.records", "desktop.ui.leads"))
    ctx = window.ctx
    ui = window.leads_ui
    page = ui.page
    window.tabs.setCurrentWidget(page)
    page.view.setCurrentIndex(page.view.findData("all"))
    settle(qtbot, ctx)
    assert {r["id"] for r in page.rows} == set(ids.values())
    refused = page.message.text()  # the claim the server refused, with its reason
    assert ("bo 已领取此线索" if lang == "zh" else "bo has this lead") in refused
    assert ("领取未成功" if lang == "zh" else "was not granted") in refused
    # the pool lead's phone is hidden until claimed
    pool_row = next(i for i, r in enumerate(page.rows) if r["id"] == ids["pool"])
    hidden = page.table.item(pool_row, leads_page.COLUMNS.index("phone")).text()
    assert hidden == page._t("(hidden until claimed)")
    shot(window, f"leads_tab_{lang}")
    # claim the pool lead: a claim record waits for the server
    page.table.selectRow(pool_row)
    page.buttons["claim"].click()
    settle(qtbot, ctx)
    assert page.message.text() == page._t("Claim asked: the server decides at the next sync.")
    # log a failed call on my lead
    mine_row = next(i for i, r in enumerate(page.rows) if r["id"] == ids["mine"])
    page.table.selectRow(mine_row)
    page.outcome.setCurrentIndex(page.outcome.findData("no_answer"))
    page.buttons["contact"].click()
    settle(qtbot, ctx)
    mine = next(r for r in page.rows if r["id"] == ids["mine"])
    assert (mine["attempts"], mine["last_outcome"]) == (1, "no_answer")
    # claiming a lead that is not in the pool is refused with a message, nothing written
    page.table.selectRow(mine_row)
    page.buttons["claim"].click()
    settle(qtbot, ctx)
    assert page.message.text()
    with Store.open(profile) as store:
        claims = store.repo("lead_claim").find(lead_id=ids["pool"])
        assert [c["action"] for c in claims] == ["claim"]
    # the add dialog opens without blocking and saves a lead the server will assign
    dialog = page.add()
    dialog.edits["name"].setText("赵六")
    dialog.edits["phone"].setText("13700001111")
    dialog.save()
    settle(qtbot, ctx)
    assert any(r["name"] == "赵六" and r["status"] == "new" for r in page.rows)


def test_every_leads_text_has_chinese() -> None:
    import ast

    tree = ast.parse(Path(leads_page.__file__).read_text(encoding="utf-8"))
    texts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("_t", "tr") and isinstance(node.args[0].value, str):
                texts.add(node.args[0].value)
    texts |= {text for _k, text in leads_page.VIEWS}
    texts |= {o.replace("_", " ").capitalize() for o in leads_page.LEAD_OUTCOMES}
    zh = Translator("zh")
    missing = sorted(t for t in texts if zh.translate(leads_page.CONTEXT, t) == t)
    assert len(texts) > 10 and missing == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_admin_edits_the_assignment_rules_in_the_app(qtbot: Any,
                                                        make_window: Callable[..., Any],
                                                        profile: Path, lang: str) -> None:
    from desktop.leads import service
    from desktop.sync.auth import Account, save_account

    with Store.open(profile) as store:
        save_account(store, Account("http://127.0.0.1:1", "root", store.device_id, "admin"))
        service.save_rules(store, [{"name": "华北网站线索", "regions": ["华北"],
                                    "sources": ["web"], "team": "north"}])
    window = make_window(lang, features=("desktop.ui.records", "desktop.ui.leads"))
    page = window.leads_ui.page
    window.tabs.setCurrentWidget(page)
    settle(qtbot, window.ctx)
    button = page.buttons["rules"]
    assert not button.isHidden()  # an admin sees it
    button.click()
    settle(qtbot, window.ctx)
    dialog = page.rules_dialog
    assert dialog is not None and dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == "华北"
    dialog.add_row({"active": True})
    for col, text in ((0, "大客户"), (4, "1000000"), (7, "cy, dan")):
        dialog.table.item(1, col).setText(text)
    shot(dialog, f"leads_rules_{lang}")
    dialog.save()
    settle(qtbot, window.ctx)
    with Store.open(profile) as store:
        got = service.rules(store)
    assert [(r["name"], r.get("reps"), r.get("min_budget")) for r in got] == [
        ("华北网站线索", None, None), ("大客户", ["cy", "dan"], 1_000_000)]
    # a rule naming nobody is refused in the dialog, nothing saved
    button.click()
    settle(qtbot, window.ctx)
    dialog = page.rules_dialog
    dialog.add_row({"active": True})
    dialog.table.item(2, 0).setText("空规则")
    dialog.save()
    settle(qtbot, window.ctx)
    assert ("既没有指定团队" if lang == "zh" else "names no team and no reps") in (
        dialog.message.text())


def test_a_rep_does_not_see_the_rules_button(qtbot: Any, make_window: Callable[..., Any],
                                             profile: Path) -> None:
    _seed(profile)
    window = make_window("en", features=("desktop.ui.records", "desktop.ui.leads"))
    settle(qtbot, window.ctx)
    assert window.leads_ui.page.buttons["rules"].isHidden()
