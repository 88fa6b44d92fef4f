"""docs/architecture.md is the map of the house: it must name every package there is,
and nothing that is not there, so a newcomer can trust it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _layout_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"## Layout\n\n```\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md has no Layout block"
    return match.group(1)


def _packages(under: Path) -> set[str]:
    return {p.parent.name for p in under.glob("*/__init__.py")}


def test_every_package_is_on_the_map() -> None:
    block = _layout_block()
    named = set(re.findall(r"^\s*([a-z_]+)/", block, re.M))
    for where in (ROOT / "desktop", ROOT / "desktop" / "ui"):
        missing = _packages(where) - named
        assert not missing, f"packages of {where.name} not on the map: {sorted(missing)}"


def test_the_map_names_only_what_exists() -> None:
    block = _layout_block()
    top = {"desktop", "server", "resources", "build_spec", "benchmarks", "tests"}
    for name in set(re.findall(r"^\s*([a-z_]+)/", block, re.M)):
        candidates = [ROOT / name, ROOT / "desktop" / name, ROOT / "desktop" / "ui" / name,
                      ROOT / "desktop" / "ui" / "capture" / name]
        assert name in top or any(c.is_dir() for c in candidates), f"{name}/ is on the map only"
    for name in re.findall(r"^\s*([a-z_]+\.py)\b", block, re.M):
        candidates = [ROOT / "desktop" / name, ROOT / "desktop" / "ui" / name]
        assert any(c.is_file() for c in candidates), f"{name} is on the map only"


def test_readme_links_the_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme
    assert "../shared/" not in readme
