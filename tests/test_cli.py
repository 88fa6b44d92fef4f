"""`fieldcrm` sub-commands script the same services as the app, with --json output."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from desktop import cli


def run(capsys: pytest.CaptureFixture[str], profile: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--profile", str(profile), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_account_lifecycle_and_search(capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    code, out, _ = run(capsys, profile, "account", "add", "--name", "深圳市腾讯计算机系统有限公司",
                       "--phone", "+86 139-1234-5678", "--tags", "VIP,重点", "--json")
    assert code == 0
    rec = json.loads(out)
    assert rec["phone"] == "+8613912345678" and rec["tags"] == ["VIP", "重点"]
    code, out, _ = run(capsys, profile, "search", "txjs", "--json")
    assert [h["id"] for h in json.loads(out)] == [rec["id"]]
    assert run(capsys, profile, "account", "update", rec["id"], "--industry", "互联网",
               "--json")[0] == 0
    code, out, _ = run(capsys, profile, "account", "show", rec["id"], "--json")
    assert json.loads(out)["industry"] == "互联网"
    assert run(capsys, profile, "account", "delete", rec["id"])[0] == 0
    code, out, _ = run(capsys, profile, "account", "list", "--json")
    assert json.loads(out) == []
    assert run(capsys, profile, "account", "undelete", rec["id"])[0] == 0
    code, out, _ = run(capsys, profile, "journal", "--json")
    journal = json.loads(out)
    assert journal["counts"]["pending"] == 4
    assert [sorted(e["fields"]) for e in journal["entries"]][1:] == [
        ["industry"], ["deleted"], ["deleted"]]


def test_bad_input_gets_a_clear_message_and_saves_nothing(capsys: pytest.CaptureFixture[str],
                                                          profile: Path) -> None:
    code, out, err = run(capsys, profile, "account", "add", "--name", "Acme", "--phone", "12")
    assert code == 2 and "Phone" in err and "12" in err
    code, out, err = run(capsys, profile, "account", "show", "01a20000-0000-7000-8000-000000000001")
    assert code == 1 and "No account" in err
    assert json.loads(run(capsys, profile, "journal", "--json")[1])["counts"]["pending"] == 0


def test_demo_data_is_realistic_and_searchable(capsys: pytest.CaptureFixture[str],
                                               profile: Path) -> None:
    code, out, _ = run(capsys, profile, "demo", "--accounts", "60", "--json")
    assert json.loads(out)["accounts"] == 60 and json.loads(out)["contacts"] == 120
    code, out, _ = run(capsys, profile, "account", "list", "--limit", "100", "--json")
    names = [a["name"] for a in json.loads(out)]
    assert len(names) == 60 and any("有限公司" in n for n in names)
    code, out, _ = run(capsys, profile, "doctor", "--json")
    assert json.loads(out) == {"ok": True, "problems": []}


@pytest.mark.parametrize(("module", "function", "parent"), cli.PLUGINS)
def test_every_subcommand_group_is_present(module: str, function: str, parent: str | None) -> None:
    assert callable(getattr(importlib.import_module(module), function))


def test_a_plain_command_loads_no_ocr_http_qt_or_numpy(tmp_path: Path) -> None:
    """`fieldcrm account list` starts in a fraction of a second because it imports only
    what it uses (issue 20); a new top-level import of a heavy library shows here."""
    import subprocess
    import sys

    code = ("import sys; from desktop.cli import main; "
            f"main(['--profile', {str(tmp_path)!r}, 'account', 'list', '--json']); "
            "print(sorted(m for m in ('numpy', 'cv2', 'httpx', 'PySide6', 'vosk', "
            "'pypinyin') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "[]"
