"""Every UI text has its Chinese; the keyboard shortcuts do what the menus say;
times are shown in local time."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.errors import ValidationError
from desktop.ui.common.catalog_zh import ZH
from desktop.ui.common.formatting import local_time, parse_local_time
from desktop.ui.common.i18n import Translator
from tests.ui.helpers import settle

UI = Path(__file__).resolve().parents[2] / "desktop" / "ui"
MINE = ("records/account_page", "app", "common/context", "records/deal_board",
        "common/formatting", "records/lazy_model", "common/window", "records/mount",
        "records/record_dialog", "records/record_list", "records/search_panel",
        "common/settings_dialog", "records/today_view")


def literal_texts(path: Path) -> set[str]:
    """Strings passed to tr(...) and the values of the *_TEXT tables."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "tr" and node.args and isinstance(node.args[0], ast.Constant):
                out.add(node.args[0].value)
            if name == "make_action" and len(node.args) >= 2 and isinstance(node.args[1],
                                                                            ast.Constant):
                out.add(node.args[1].value)  # menu actions
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id.endswith("_TEXT") for t in node.targets):
            out |= {v.value for v in node.value.values if isinstance(v, ast.Constant)}
    return {t for t in out if isinstance(t, str)}


def test_every_ui_text_has_chinese() -> None:
    texts: set[str] = set()
    for name in MINE:
        texts |= literal_texts(UI / f"{name}.py")
    assert len(texts) > 60
    missing = sorted(t for t in texts if t not in ZH)
    assert missing == []


def test_every_text_of_every_ui_module_has_chinese() -> None:
    """All of desktop/ui, not only the modules above: every literal handed to tr, L, _t
    or translate is in the shared catalog or a catalog a module registers."""
    import importlib
    import pkgutil

    import desktop.ui
    from desktop.ui.common import i18n

    for module in pkgutil.walk_packages(desktop.ui.__path__, "desktop.ui."):
        importlib.import_module(module.name)
    known = set(ZH) | set(i18n._EXTRA) | {k for d in i18n._IN_CONTEXT.values() for k in d}
    missing: list[str] = []
    for path in sorted(UI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name not in ("tr", "L", "_t", "translate") or not node.args:
                continue
            arg = node.args[1] if name == "translate" and len(node.args) > 1 else node.args[0]
            if (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    and any(c.isalpha() for c in arg.value) and arg.value not in known):
                missing.append(f"{path.relative_to(UI)}: {arg.value}")
    assert missing == []


def test_choices_and_placeholders_translate() -> None:
    zh = Translator("zh_CN")
    assert zh.choice("legal_review") == "法务审核" and zh.choice("visit") == "拜访"
    assert Translator("en").choice("legal_review") == "Legal review"
    assert zh.tr("Saved “{title}”.", title="腾讯") == "已保存“腾讯”。"


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def test_times_are_stored_utc_and_shown_local(shanghai: Any) -> None:
    assert local_time("2026-11-22T04:15:08Z") == "2026-11-22 12:15"
    assert parse_local_time("2026-11-22 12:15") == "2026-11-22T04:15:00Z"
    assert parse_local_time("  ") is None
    with pytest.raises(ValidationError, match="not a date and time"):
        parse_local_time("tomorrow")


def test_shortcuts(qtbot: Any, window: Any) -> None:
    keys = {name: a.shortcut().toString() for name, a in window.actions_by_name.items()}
    assert keys["new"] == "Ctrl+N" and keys["find"] == "Ctrl+F" and keys["undo"] == "Ctrl+Z"
    assert keys["delete"] == "Del" and keys["refresh"] == "F5"
    assert [keys[f"tab{i}"] for i in range(1, 6)] == [f"Ctrl+{i}" for i in range(1, 6)]
    ctx = window.ctx
    for i in range(1, 6):
        window.actions_by_name[f"tab{i}"].trigger()
        assert window.tabs.currentIndex() == i - 1
    window.actions_by_name["tab3"].trigger()  # Contacts: Ctrl+N makes a contact
    window.actions_by_name["new"].trigger()
    assert window.dialog.ent.name == "contact"
    window.dialog.reject()
    window.actions_by_name["find"].trigger()
    search = window.records_ui.search
    assert search.box.hasFocus() or window.focusWidget() is search.box
    window.records_ui.search.box.setText("abc")
    from PySide6.QtCore import Qt

    qtbot.keyClick(window.records_ui.search.box, Qt.Key.Key_Escape)  # Esc clears the search
    assert search.box.text() == "" and not search.results.isVisible()
    ctx.run_and_wait(lambda s: s.repo("contact").create({"name": "李雷"}))
    window.actions_by_name["refresh"].trigger()  # F5
    settle(qtbot, ctx)
    assert window.records_ui.contacts.model.rowCount() == 1
    window.actions_by_name["undo"].trigger()  # nothing deleted yet
    assert "Nothing to undo" in window.statusBar().currentMessage()


def test_registered_today_sections_survive_a_language_switch(
        qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QLabel

    from desktop.ui.records import mount

    monkeypatch.setattr(mount, "TODAY_SECTIONS", [])
    mount.register_today_section(lambda ctx, win: QLabel(ctx.tr("Today"), objectName="extra"))
    window = make_window("en")
    assert window.records_ui.today.findChild(QLabel, "extra").text() == "Today"
    window.ctx.set_language("zh")
    assert window.records_ui.today.findChild(QLabel, "extra").text() == "今天"
    window.ctx.set_language("en")
    acc = window.ctx.run_and_wait(
        lambda s: s.repo("account").create({"name": "小米科技有限责任公司"}))
    window.open_record("account", acc["id"])
    page = window.records_ui.account_page
    qtbot.waitUntil(lambda: page.title.full == "小米科技有限责任公司", timeout=5000)


def test_every_error_kind_has_chinese_and_details_are_kept() -> None:
    import inspect

    import desktop.capture.errors
    import desktop.errors
    import desktop.sync.errors
    from desktop.capture.errors import NotAnImageError
    from desktop.errors import FieldCRMError
    from desktop.ui.common.error_texts import ZH_BY_KIND, zh_error_text

    kinds = {name for mod in (desktop.errors, desktop.capture.errors, desktop.sync.errors)
             for name, cls in inspect.getmembers(mod, inspect.isclass)
             if issubclass(cls, FieldCRMError) and cls.__module__ == mod.__name__}
    assert sorted(kinds - set(ZH_BY_KIND)) == []
    assert zh_error_text(NotAnImageError()) == ZH_BY_KIND["NotAnImageError"]
    detailed = zh_error_text(NotAnImageError("合同.txt is empty (0 bytes)."))
    assert detailed is not None and detailed.endswith("（合同.txt is empty (0 bytes).）")
    assert "\n    " not in NotAnImageError().message  # default messages are one line
