"""Hatch build hook: a workspace package's wheel takes its modules from the one source tree.

The desktop app, fieldcrm-core and fieldcrm-server are three distributions (so a server
installs without Qt, OCR or speech recognition), but their code stays one tree of
`desktop/` and `server/`: the tests, the benchmarks and PyInstaller read it in place, and
no import path changed. Each package's pyproject names the paths its wheel holds:

    [tool.hatch.build.targets.wheel.hooks.custom]
    path = "../../build_spec/wheel_files.py"
    include = ["server"]                 # files or folders, relative to the tree's root
    exclude-package = "packages/core"    # leave out what that package's wheel holds

An editable install (uv sync) copies nothing: the root project's editable install already
puts the tree on sys.path.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


def tree_root(project_root: str | Path) -> Path:
    """The repository root: the nearest folder above the project holding desktop/."""
    here = Path(project_root).resolve()
    for p in (here, *here.parents):
        if (p / "desktop").is_dir() and (p / "server").is_dir():
            return p
    raise FileNotFoundError(f"no desktop/ and server/ above {here}")


def hook_config(tree: Path, package: str) -> dict[str, Any]:
    data = tomllib.loads((tree / package / "pyproject.toml").read_text("utf-8"))
    return dict(data["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["custom"])


def expand(tree: Path, paths: list[str]) -> set[str]:
    """Every shipped file under `paths` (folders recursively), as tree-relative posix paths."""
    out: set[str] = set()
    for rel in paths:
        p = tree / rel
        if p.is_file():
            out.add(rel)
        elif p.is_dir():
            for f in p.rglob("*"):
                if (f.is_file() and f.suffix not in SKIP_SUFFIXES
                        and not SKIP_DIRS.intersection(f.relative_to(tree).parts)):
                    out.add(f.relative_to(tree).as_posix())
        else:
            raise FileNotFoundError(f"{rel} (named in a workspace package) does not exist")
    return out


def wheel_files(tree: Path, config: dict[str, Any]) -> set[str]:
    files = expand(tree, list(config.get("include", [])))
    other = config.get("exclude-package")
    if other:
        files -= expand(tree, list(hook_config(tree, other).get("include", [])))
    return files


class FilesFromTree(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        tree = tree_root(self.root)
        for rel in sorted(wheel_files(tree, self.config)):
            build_data["force_include"][str(tree / rel)] = rel
