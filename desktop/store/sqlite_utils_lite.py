"""sqlite_utils, imported without the numpy it tries to import to map numpy column
types, which the store never writes: numpy costs 0.2 s of every CLI command's start
(`fieldcrm account list`, issue 20). A None entry in sys.modules makes sqlite_utils'
guarded import fail; code that needs numpy later imports it as usual."""

from __future__ import annotations

import sys

if "numpy" in sys.modules or "sqlite_utils" in sys.modules:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations
else:
    sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        from sqlite_utils import Database
        from sqlite_utils.migrations import Migrations
    finally:
        del sys.modules["numpy"]

__all__ = ["Database", "Migrations"]
