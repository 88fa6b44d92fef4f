"""Linux: FieldCRM in the desktop's application menu, for this user, without root.

The Linux build ships as a `.tar.xz` of the one-folder app (build_spec/linux/); a rep
unpacks it anywhere and runs `./FieldCRM/fieldcrm menu-entry install` once (or the app
from a terminal). That writes a freedesktop entry and the icon under $XDG_DATA_HOME
(default ~/.local/share), pointing at the folder the app runs from, so moving the folder
and installing again is all an update needs; `menu-entry remove` takes both away.

    fieldcrm menu-entry install|remove|show [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from desktop.errors import FieldCRMError

ENTRY_NAME = "com.fieldcrm.desktop.desktop"  # reverse-DNS, as the macOS bundle id
ICON_NAME = "com.fieldcrm.desktop.png"
ICON_FILE = "fieldcrm.png"  # beside the executable in the Linux build


class MenuEntryError(FieldCRMError):
    """The application menu entry could not be written: the folder for it is not writable.
    FieldCRM itself is unchanged and still runs from its folder."""


def data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env) if env and os.path.isabs(env) else Path.home() / ".local" / "share"


def _quoted(path: Path) -> str:
    """An Exec argument per the Desktop Entry spec: double quotes, with `"`, `` ` ``, `$`
    and `\\` escaped by a backslash, then every backslash doubled for the string level."""
    inner = "".join("\\" + c if c in '"`$\\' else c for c in str(path))
    return '"' + inner.replace("\\", "\\\\") + '"'


def entry_text(executable: Path, icon: Path | None) -> str:
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=FieldCRM",
        "GenericName=Field sales CRM",
        "GenericName[zh_CN]=外勤销售客户管理",
        "Comment=Customers, deals and visits, also offline",
        "Comment[zh_CN]=客户、商机与拜访，离线也能用",
        f"Exec={_quoted(executable)}",
        f"TryExec={executable}",
        "Terminal=false",
        "Categories=Office;ContactManagement;",
        "Keywords=CRM;customers;sales;客户;销售;",
        "StartupNotify=true",
    ]
    if icon is not None:
        lines.append(f"Icon={icon}")
    return "\n".join(lines) + "\n"


def app_executable() -> Path:
    """The program the entry starts: the frozen app itself, or this Python's `fieldcrm`."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve()
    script = Path(sys.executable).with_name("fieldcrm")
    return script if script.exists() else Path(sys.argv[0]).resolve()


def paths(home: Path | None = None) -> dict[str, Path]:
    home = home or data_home()
    return {"entry": home / "applications" / ENTRY_NAME,
            "icon": home / "icons" / "hicolor" / "256x256" / "apps" / ICON_NAME}


def install(executable: Path | None = None, home: Path | None = None) -> dict[str, str | None]:
    """Write the entry (and copy the icon shipped beside the executable, when there is
    one). Each file is written whole (temp file, then rename): a menu never reads half."""
    exe = executable or app_executable()
    where = paths(home)
    shipped = exe.parent / ICON_FILE
    icon = where["icon"] if shipped.is_file() else None
    try:
        if icon is not None:
            _write(icon, shipped.read_bytes())
        _write(where["entry"], entry_text(exe, icon).encode("utf-8"))
    except OSError as exc:
        raise MenuEntryError(f"{MenuEntryError.__doc__} ({exc.strerror}: "
                             f"{exc.filename})") from exc
    return {"entry": str(where["entry"]), "icon": None if icon is None else str(icon),
            "exec": str(exe)}


def remove(home: Path | None = None) -> dict[str, list[str]]:
    removed = []
    for path in paths(home).values():
        if path.exists():
            path.unlink()
            removed.append(str(path))
    return {"removed": removed}


def show(home: Path | None = None) -> dict[str, str | bool]:
    where = paths(home)
    return {"entry": str(where["entry"]), "installed": where["entry"].is_file()}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- CLI
def add_subcommands(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "menu-entry", help="Linux: add FieldCRM to this user's application menu, or take it away")
    p.add_argument("action", choices=("install", "remove", "show"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    out: Any
    if args.action == "install":
        out = install()
        text = f"FieldCRM is in the application menu: {out['entry']}"
    elif args.action == "remove":
        out = remove()
        text = "removed: " + (", ".join(out["removed"]) or "nothing was installed")
    else:
        out = show()
        text = f"{out['entry']}: {'installed' if out['installed'] else 'not installed'}"
    print(json.dumps(out, ensure_ascii=False) if args.json else text)
    return 0
