"""Three distributions from one tree (issue 21): the desktop app, fieldcrm-core (what the
app and the server share) and fieldcrm-server, which installs without Qt, OCR or speech
recognition. The wheels are built from the tree by build_spec/wheel_files.py; the lists
they read are held true here, and the server's wheel is installed into a clean virtual
environment, run from outside the tree, and a laptop syncs against it."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from desktop.store import Store
from desktop.sync import session
from desktop.sync.engine import SyncEngine
from tests.packaging.test_requirements import _uv
from tests.servers import start_server

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build_spec"))
from wheel_files import expand, hook_config, wheel_files  # noqa: E402

# What a server machine must never need (pyproject's desktop-only parts)
DESKTOP_ONLY = {"PySide6", "shiboken6", "qasync", "vosk", "rapidocr", "onnxruntime", "cv2",
                "pytesseract", "PIL", "pypdfium2", "pi_heif", "soxr", "desktop_notifier", "av"}
DESKTOP_ONLY_DISTS = {"pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6", "vosk",
                      "rapidocr", "onnxruntime", "opencv-python-headless", "pytesseract",
                      "pillow", "qasync", "pypdfium2"}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _file(module: str) -> Path | None:
    p = ROOT / module.replace(".", "/")
    for f in (p / "__init__.py", p.with_suffix(".py")):
        if f.is_file():
            return f
    return None


@functools.cache
def _imports(module: str) -> frozenset[str]:
    """Every module named by an import anywhere in the file (function-level ones too:
    the server reaches the matcher and the readers lazily)."""
    f = _file(module)
    assert f is not None, module
    package = module if f.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(f.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
    return frozenset(out)


def _closure(start: set[str]) -> set[str]:
    """The tree's modules reachable from `start`, with the packages that hold them."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        m = todo.pop()
        if m in seen or _file(m) is None:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += [i for i in _imports(m) if i.split(".")[0] in ("desktop", "server")]
    return seen


def _modules(files: set[str]) -> set[str]:
    return {_module(ROOT / f) for f in files if f.endswith(".py")}


def _third_party(modules: set[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in modules:
        for i in _imports(m):
            top = i.split(".")[0]
            if top and top not in ("desktop", "server") and top not in sys.stdlib_module_names:
                out.setdefault(top, set()).add(m)
    return out


def _declared(pyproject: Path) -> set[str]:
    deps = tomllib.loads(pyproject.read_text("utf-8"))["project"]["dependencies"]
    return {_norm(re.split(r"[=<>!~ ;\[]", d, maxsplit=1)[0]) for d in deps}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _dists_of(top: str) -> set[str]:
    return {_norm(d) for d in _installed().get(top, [])}


CORE = hook_config(ROOT, "packages/core")
CORE_MODULES = _modules(expand(ROOT, CORE["include"]))
SERVER_MODULES = _modules(expand(ROOT, ["server"]))


def test_core_holds_exactly_what_the_server_imports_from_the_desktop_tree() -> None:
    reached = {m for m in _closure(SERVER_MODULES) if m.startswith("desktop")}
    assert reached - CORE_MODULES == set(), (
        "the server imports these desktop modules: add them to packages/core/pyproject.toml")
    assert CORE_MODULES - reached == set(), (
        "fieldcrm-core holds modules the server never imports: leave them to the app")
    assert _closure(CORE_MODULES) <= CORE_MODULES  # core needs nothing outside itself


def test_the_server_and_core_import_nothing_of_the_desktop_app() -> None:
    reached = _third_party(_closure(SERVER_MODULES))
    assert DESKTOP_ONLY.isdisjoint(reached), {k: reached[k] for k in DESKTOP_ONLY & set(reached)}


@pytest.mark.parametrize("package", ["packages/core", "packages/server", "."])
def test_every_imported_library_is_a_declared_dependency(package: str) -> None:
    if package == ".":
        modules = _modules(expand(ROOT, ["desktop"])) - CORE_MODULES
        declared = (_declared(ROOT / "pyproject.toml")
                    | _declared(ROOT / "packages/core/pyproject.toml"))
    else:
        modules = CORE_MODULES if package == "packages/core" else SERVER_MODULES
        declared = _declared(ROOT / package / "pyproject.toml")
    missing = {top: sorted(mods)[:3] for top, mods in _third_party(modules).items()
               if not _dists_of(top) & declared}
    assert missing == {}, f"imported but not in {package}/pyproject.toml's dependencies"


def test_the_wheels_split_the_tree_without_overlap(tmp_path: Path) -> None:
    subprocess.run([_uv(), "build", "--wheel", "--all-packages", "--offline", "--quiet",
                    "--out-dir", str(tmp_path)], cwd=ROOT, check=True, timeout=300)
    names = {w.name.split("-")[0]: {n for n in zipfile.ZipFile(w).namelist()
                                    if ".dist-info/" not in n}
             for w in tmp_path.glob("*.whl")}
    assert set(names) == {"fieldcrm", "fieldcrm_core", "fieldcrm_server"}
    app, core, server = names["fieldcrm"], names["fieldcrm_core"], names["fieldcrm_server"]
    assert app & core == set()
    assert app | core == expand(ROOT, ["desktop"])  # every desktop file ships, once
    assert server == expand(ROOT, ["server"]) == wheel_files(ROOT, hook_config(
        ROOT, "packages/server"))
    assert "server/migrations/script.py.mako" in server


def test_the_server_wheel_installs_alone_and_a_laptop_syncs_against_it(tmp_path: Path) -> None:
    env_dir = tmp_path / "server-venv"
    # the locked versions of fieldcrm-server's own dependencies, the two workspace wheels
    # built and installed (not linked to the tree); from the package cache, no network
    subprocess.run([_uv(), "sync", "--frozen", "--offline", "--package", "fieldcrm-server",
                    "--no-dev", "--no-editable", "--quiet", "--python", sys.executable],
                   cwd=ROOT, check=True, timeout=600,
                   env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(env_dir)})
    python = env_dir / "bin" / "python"
    listed = subprocess.run([_uv(), "pip", "list", "--format", "freeze", "--python", str(python)],
                            capture_output=True, text=True, check=True).stdout
    installed = {line.split("==")[0].lower() for line in listed.split()}
    assert {"fieldcrm-server", "fieldcrm-core"} <= installed
    assert "fieldcrm" not in installed
    assert installed.isdisjoint(DESKTOP_ONLY_DISTS), installed & DESKTOP_ONLY_DISTS
    where = subprocess.run([str(python), "-c", "import server, desktop; print(server.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(env_dir) in where and str(ROOT) not in where  # the wheel's code, not the tree's

    exe = str(env_dir / "bin" / "fieldcrm-server")
    data = tmp_path / "srv"
    clean = {"PYTHONPATH": "", "FIELDCRM_ARGON2_PROFILE": "test"}
    subprocess.run([exe, "user", "add", "wei", "--role", "rep", "--password-stdin",
                    "--data", str(data)], input="correct horse battery\n", text=True,
                   cwd=tmp_path, check=True, timeout=60, env={**os.environ, **clean})
    srv = start_server(data, env=clean, command=(exe,))
    try:
        laptop, phone = tmp_path / "laptop", tmp_path / "phone"
        for profile in (laptop, phone):
            session.login(profile, srv.url, "wei", "correct horse battery")
        with Store.open(laptop) as store:
            acc = store.repo("account").create({"name": "杭州西湖茶叶有限公司",
                                                "phone": "0571-8888 6666"})
        for profile in (laptop, phone):
            engine = SyncEngine(profile, live=False)
            try:
                engine.sync_once()
            finally:
                engine.close()
        with Store.open(phone) as store:
            got = store.repo("account").get(acc["id"])
        assert got is not None and got["name"] == "杭州西湖茶叶有限公司"
    finally:
        srv.close()
