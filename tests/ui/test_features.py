"""The features of desktop.ui: each listed once in FEATURES, each a subpackage with one
`install(window)`, and all of them in the import-linter contract that keeps them
independent of each other (a new feature added to FEATURES must be added there too)."""

from __future__ import annotations

import importlib
import inspect
import tomllib
from pathlib import Path

from desktop.ui.features import FEATURES

ROOT = Path(__file__).resolve().parents[2]


def test_every_feature_is_a_subpackage_with_one_install() -> None:
    assert len(set(FEATURES)) == len(FEATURES)
    for name in FEATURES:
        module = importlib.import_module(name)
        assert Path(module.__file__ or "").name == "__init__.py", name
        params = list(inspect.signature(module.install).parameters)
        assert params == ["window"], name


def test_the_features_are_independent_and_common_imports_none() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"]
    independent = [c for c in contracts if c["type"] == "independence"
                   and "desktop.ui.records" in c["modules"]]
    assert len(independent) == 1 and set(independent[0]["modules"]) == set(FEATURES)
    [common] = [c for c in contracts if c.get("source_modules") == ["desktop.ui.common"]]
    assert set(FEATURES) <= set(common["forbidden_modules"])
