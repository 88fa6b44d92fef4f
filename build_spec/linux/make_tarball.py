"""The Linux release: dist/FieldCRM-<version>-linux-<arch>.tar.xz from the one-folder build.

    python build_spec/linux/make_tarball.py [--bundle dist/FieldCRM] [--out dist]
                                            [--level 9] [--json]

The archive holds one folder, FieldCRM/: the app (`fieldcrm`, `_internal/`), its icon
and a README in Chinese and English. A rep unpacks it anywhere (no root), runs
`./FieldCRM/fieldcrm`, and `./FieldCRM/fieldcrm menu-entry install` once to have it in
the application menu (desktop.menu_entry). The archive is repeatable: names sorted,
owner root, every time SOURCE_DATE_EPOCH (the spec already set the bundle's), so the
same tree gives the same bytes. Compressed by `xz` on every core (the Python lzma module
is single-threaded: minutes at -9 for ~550 MB); tests use `--level 0`.
Prints {"file", "download_mb", "installed_mib", "files", "seconds"}.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TOP = "FieldCRM"
README = """FieldCRM {version} (Linux x86_64)

启动 / Start:        ./FieldCRM/fieldcrm
加入应用程序菜单 / Add to the application menu (this user, no root):
                     ./FieldCRM/fieldcrm menu-entry install
移出菜单 / Remove from the menu:
                     ./FieldCRM/fieldcrm menu-entry remove
自检 / Self-check:   ./FieldCRM/fieldcrm --smoke-test

更新：删除此文件夹，在原位置解压新版本（放到别处时，再运行一次 menu-entry install）。
数据保存在 ~/.local/share/FieldCRM，不在此文件夹中：替换或删除此文件夹不会丢失数据。
To update, delete this folder and unpack the new version in its place (elsewhere: run
menu-entry install again). Your data lives in ~/.local/share/FieldCRM, not in this
folder: replacing or deleting the folder loses nothing.
Needs: glibc 2.31+, an X11 or Wayland (XWayland) desktop; the system keyring
(GNOME Keyring or KWallet) keeps the sign-in and the store's key.
"""


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def archive_name(ver: str) -> str:
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower())
    return f"FieldCRM-{ver}-linux-{arch}.tar.xz"


def _epoch() -> int:
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        return int(env)
    out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
                         capture_output=True, text=True, check=False).stdout.strip()
    return int(out) if out.isdigit() else 315532800


def _entries(bundle: Path, extra: dict[str, bytes]) -> list[tuple[str, Path | bytes]]:
    """(name in the archive, file or contents), sorted, folders before what they hold."""
    out: list[tuple[str, Path | bytes]] = [(TOP, bundle)]
    for path in sorted(bundle.rglob("*"), key=lambda p: p.relative_to(bundle).as_posix()):
        out.append((f"{TOP}/{path.relative_to(bundle).as_posix()}", path))
    out += [(f"{TOP}/{name}", data) for name, data in sorted(extra.items())]
    return out


def make_tarball(bundle: Path, out_dir: Path, level: int = 9) -> dict[str, object]:
    if not (bundle / "fieldcrm").is_file():
        raise SystemExit(f"{bundle} is not the Linux one-folder build (no fieldcrm in it)")
    xz = shutil.which("xz")
    if xz is None:
        raise SystemExit("make_tarball needs the xz program (apt-get install xz-utils)")
    ver = version()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / archive_name(ver)
    partial = target.with_name(target.name + ".partial")
    epoch = _epoch()
    extra = {"fieldcrm.png": (HERE / "fieldcrm.png").read_bytes(),
             "README.txt": README.format(version=ver).encode("utf-8")}
    started = time.monotonic()
    installed = files = 0
    with partial.open("wb") as sink:
        proc = subprocess.Popen([xz, "-T0", f"-{level}", "-c"], stdin=subprocess.PIPE,
                                stdout=sink)
        assert proc.stdin is not None
        try:
            with tarfile.open(fileobj=proc.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for name, src in _entries(bundle, extra):
                    info = tarfile.TarInfo(name)
                    info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
                    if isinstance(src, bytes):
                        info.size, info.mode = len(src), 0o644
                        tar.addfile(info, io.BytesIO(src))
                    elif src.is_symlink():
                        info.type, info.mode = tarfile.SYMTYPE, 0o777
                        info.linkname = os.readlink(src)
                        tar.addfile(info)
                        continue
                    elif src.is_dir():
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        tar.addfile(info)
                        continue
                    else:
                        info.size = src.stat().st_size
                        info.mode = 0o755 if os.access(src, os.X_OK) else 0o644
                        with src.open("rb") as fh:
                            tar.addfile(info, fh)
                    installed += info.size
                    files += 1
        finally:
            proc.stdin.close()
            code = proc.wait()
    if code != 0:
        partial.unlink(missing_ok=True)
        raise SystemExit(f"xz failed (exit {code})")
    os.replace(partial, target)
    return {"file": str(target), "download_mb": round(target.stat().st_size / 1e6, 1),
            "installed_mib": round(installed / 2**20, 1), "files": files,
            "seconds": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=ROOT / "dist" / TOP)
    ap.add_argument("--out", type=Path, default=ROOT / "dist")
    ap.add_argument("--level", type=int, default=9, choices=range(10))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    done = make_tarball(args.bundle, args.out, args.level)
    print(json.dumps(done) if args.json else
          f"{done['file']}: {done['download_mb']} MB to download, "
          f"{done['installed_mib']} MiB unpacked ({done['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
