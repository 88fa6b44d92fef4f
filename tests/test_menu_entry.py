"""desktop.menu_entry: the Linux archive's application menu entry, for this user."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import pytest

from desktop import menu_entry
from desktop.cli import main


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _exec_argv(value: str) -> list[str]:
    """Read Exec as a menu does (Desktop Entry spec): the string level turns `\\\\` into
    `\\`; then a double-quoted argument where a backslash escapes `"`, `` ` ``, `$`, `\\`."""
    text = value.replace("\\\\", "\\")
    assert text.startswith('"') and text.endswith('"'), text
    out, chars = [], iter(text[1:-1])
    for c in chars:
        if c == "\\":
            nxt = next(chars)
            assert nxt in '"`$\\', f"stray backslash before {nxt!r}"
            out.append(nxt)
        else:
            assert c not in '"`$', f"unescaped {c!r}"
            out.append(c)
    return ["".join(out)]


def test_install_points_the_menu_at_this_folder_and_remove_takes_it_away(
        tmp_path: Path) -> None:
    app = tmp_path / "软件" / 'Field "CRM" $HOME `x` \\ dir'  # every character Exec escapes
    app.mkdir(parents=True)
    exe = app / "fieldcrm"
    exe.write_text("#!/bin/sh\n")
    (app / "fieldcrm.png").write_bytes(b"\x89PNG\r\n\x1a\nicon")
    home = tmp_path / "share"
    done = menu_entry.install(exe, home)
    de = _entry(Path(done["entry"]))
    assert _exec_argv(de["Exec"]) == [str(exe)]
    assert de["TryExec"] == str(exe) and de["Name"] == "FieldCRM"
    assert "客户" in de["Comment[zh_CN]"] and de["Categories"].startswith("Office;")
    assert Path(de["Icon"]).read_bytes() == (app / "fieldcrm.png").read_bytes()
    assert menu_entry.show(home)["installed"] is True
    assert sorted(menu_entry.remove(home)["removed"]) == sorted([done["entry"], de["Icon"]])
    assert menu_entry.show(home)["installed"] is False
    assert menu_entry.remove(home) == {"removed": []}


def test_without_an_icon_beside_the_program_the_entry_has_none(tmp_path: Path) -> None:
    exe = tmp_path / "fieldcrm"
    exe.write_text("")
    done = menu_entry.install(exe, tmp_path / "share")
    assert done["icon"] is None and "Icon" not in _entry(Path(done["entry"]))


def test_an_unwritable_menu_folder_is_a_clear_error_and_changes_nothing(
        tmp_path: Path) -> None:
    exe = tmp_path / "fieldcrm"
    exe.write_text("")
    blocked = tmp_path / "share"
    blocked.write_text("a file where the folder should be")  # fails for root too
    with pytest.raises(menu_entry.MenuEntryError, match="not writable"):
        menu_entry.install(exe, blocked)
    assert blocked.read_text() == "a file where the folder should be"


def test_cli_install_show_remove_with_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["menu-entry", "install", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert Path(out["entry"]) == tmp_path / "share" / "applications" / menu_entry.ENTRY_NAME
    assert main(["menu-entry", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["installed"] is True
    assert main(["menu-entry", "remove", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == [out["entry"]]
