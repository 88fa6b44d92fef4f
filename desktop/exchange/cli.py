"""`fieldcrm import` and `fieldcrm export` (placeholder, filled below)."""

from __future__ import annotations

from typing import Any


def add_subcommands(subparsers: Any) -> None:
    return None
