"""Write build_spec/requirements-build.txt: the hash-pinned packages a release build installs.

    python build_spec/make_requirements.py          # rewrite the file from uv.lock
    python build_spec/make_requirements.py --check  # exit 1 when the file is out of date

It is uv.lock's runtime set (`uv export --frozen --no-dev --format requirements-txt
--no-emit-workspace`) plus PyInstaller and what it needs, taken from the lock's dev group
with their hashes, so `pip install --require-hashes --no-deps -r ...` installs exactly
the locked files on every build machine. uv.lock and pyproject.toml are not touched.

Deliberate differences from the lock, until pyproject/uv.lock pin them per platform
(`--check` lists every locked package that has no wheel for a release platform):
- vosk 0.3.45 has no macOS wheel: on macOS, vosk 0.3.44's universal2 wheel;
- onnxruntime >= 1.24 has no Intel-macOS wheel: on Intel macOS, onnxruntime 1.23.2.
Their hashes were taken from the wheels on PyPI.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import unquote

from packaging.tags import mac_platforms

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build_spec" / "requirements-build.txt"
BUILD_TOOLS = ("pyinstaller",)
# name -> (marker where the locked version has no wheel, replacement block)
OVERRIDES = {
    "vosk": ('sys_platform != "darwin"',
             'vosk==0.3.44 ; sys_platform == "darwin" \\\n'
             "    --hash=sha256:029d0b3d6a5cff874c575b8a5814a4cccfb37608cff52e846c02a8c67a882801\n"
             "    # macOS: vosk 0.3.45 has no macOS wheel (make_requirements.py)\n"),
    "onnxruntime": ('sys_platform != "darwin" or platform_machine != "x86_64"',
                    'onnxruntime==1.23.2 ; sys_platform == "darwin" '
                    'and platform_machine == "x86_64" \\\n'
                    "    --hash=sha256:"
                    "87d8b6eaf0fbeb6835a60a4265fde7a3b60157cf1b2764773ac47237b4d48612\n"
                    "    # Intel macOS: the last onnxruntime with an x86_64 macOS wheel\n"),
}
OVERRIDE_WHEELS = {
    "029d0b3d6a5cff874c575b8a5814a4cccfb37608cff52e846c02a8c67a882801":
        "vosk-0.3.44-py3-none-macosx_10_6_universal2.whl",
    "87d8b6eaf0fbeb6835a60a4265fde7a3b60157cf1b2764773ac47237b4d48612":
        "onnxruntime-1.23.2-cp311-cp311-macosx_13_0_x86_64.whl",
}
# Release platforms: (label, marker environment, wheel platform tags). The macOS build
# runners run macOS 15; PySide6 6.12 itself needs macOS 14 (LSMinimumSystemVersion).
MACOS_RUNNER = (15, 0)
PLATFORMS = (
    ("windows-x64", {"sys_platform": "win32", "platform_system": "Windows",
                     "platform_machine": "AMD64", "os_name": "nt"}, ["win_amd64"]),
    ("macos-arm64", {"sys_platform": "darwin", "platform_system": "Darwin",
                     "platform_machine": "arm64", "os_name": "posix"},
     list(mac_platforms(MACOS_RUNNER, "arm64"))),
    ("macos-x86_64", {"sys_platform": "darwin", "platform_system": "Darwin",
                      "platform_machine": "x86_64", "os_name": "posix"},
     list(mac_platforms(MACOS_RUNNER, "x86_64"))),
)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _export(*args: str) -> str:
    return subprocess.run(["uv", "export", "--frozen", "--format", "requirements-txt",
                           "--no-emit-workspace", "--no-header", *args],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout


def _blocks(text: str) -> dict[str, str]:
    """requirement name -> its block (the line, its --hash lines and # via comments)."""
    blocks: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines(keepends=True):
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            current = _norm(re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0])
            blocks[current] = line
        elif current is not None:
            blocks[current] += line
    return blocks


def _closure(lock: dict, roots: tuple[str, ...]) -> set[str]:
    deps = {_norm(p["name"]): [_norm(d["name"]) for d in p.get("dependencies", [])]
            for p in lock["package"]}
    seen: set[str] = set()
    todo = [_norm(r) for r in roots]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += deps.get(name, [])
    return seen


def render() -> str:
    runtime = _blocks(_export("--no-dev"))
    dev = _blocks(_export("--only-group", "dev"))
    lock = tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))
    tools = {n: b for n, b in dev.items() if n in _closure(lock, BUILD_TOOLS) and n not in runtime}
    missing = [t for t in BUILD_TOOLS if _norm(t) not in tools]
    if missing:
        raise SystemExit(f"{missing} not in uv.lock's dev group")
    for name, (marker, replacement) in OVERRIDES.items():
        block = runtime.get(name)
        if block is None:
            continue
        head, rest = block.split("\\\n", 1)
        head = head.rstrip()
        head = (f"{head[: head.index(' ; ')]} ; ({head.split(' ; ', 1)[1]}) and ({marker}) "
                if " ; " in head else f"{head} ; {marker} ")
        runtime[name] = head + "\\\n" + rest + replacement
    body = "".join(runtime[k] for k in sorted(runtime))
    body += "# ---- build tools (uv.lock, dev group) ----\n"
    body += "".join(tools[k] for k in sorted(tools))
    return ("# Hash-pinned build requirements. Generated by build_spec/make_requirements.py from\n"
            "# uv.lock; do not edit. Install: pip install --require-hashes --no-deps -r this file\n"
            + body)


def platform_gaps(text: str) -> list[str]:
    """Requirements of `text` that would install on a release platform but have no wheel
    for it (checked against the hashes: a wheel counts only if its hash is pinned)."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import parse_wheel_filename

    lock = tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))
    files: dict[str, str] = {}  # sha256 -> wheel or sdist file name
    for pkg in lock["package"]:
        for w in pkg.get("wheels", []) + ([pkg["sdist"]] if "sdist" in pkg else []):
            if "hash" in w and "url" in w:
                files[w["hash"].split(":", 1)[1]] = unquote(w["url"].rsplit("/", 1)[1])
    files.update(OVERRIDE_WHEELS)
    gaps = []
    for label, env, plats in PLATFORMS:
        full_env = {"python_version": "3.11", "python_full_version": "3.11.9",
                    "implementation_name": "cpython", "platform_python_implementation": "CPython",
                    **env}
        tags = set(cpython_tags((3, 11), ["cp311", "abi3", "none"], plats))
        tags |= set(compatible_tags((3, 11), "cp311", plats))
        for block in _blocks(text).values():
            line = block.split("\\\n", 1)[0].strip()
            req = Requirement(line)
            if req.marker and not Marker(str(req.marker)).evaluate(full_env):
                continue
            names = [files.get(h, "") for h in re.findall(r"sha256:([0-9a-f]{64})", block)]
            wheels = [n for n in names if n.endswith(".whl")]
            if any(t in tags for n in wheels for t in parse_wheel_filename(n)[3]):
                continue
            if not any(n.endswith(".whl") and "-none-any" in n for n in names) and \
                    not any(n.endswith((".tar.gz", ".zip")) for n in names):
                gaps.append(f"{label}: {req.name} {req.specifier} has no wheel")
            elif not wheels:
                pass  # sdist only (pure Python, e.g. srt): pip builds it
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file")
    args = parser.parse_args()
    text = render()
    if args.check:
        gaps = platform_gaps(text)
        for gap in gaps:
            print(gap, file=sys.stderr)
        if not OUT.is_file() or OUT.read_text("utf-8") != text:
            print(f"{OUT} is out of date: run python build_spec/make_requirements.py",
                  file=sys.stderr)
            return 1
        return 1 if gaps else 0
    OUT.write_text(text, "utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
