"""SQLite's memory statistics off, once per process, before the first connection.

With them on (SQLite's default), every allocation SQLite makes takes one global mutex to
count it. Two threads with connections of their own (the export's helper, the index
builder's read-ahead) then wait on that mutex, not on their work: an export of 1M
accounts on two connections spent a third of its samples locking and waking (futex),
and took 7.3 s instead of 2.6 s. Nothing here reads the statistics (Python's sqlite3
does not expose them).

`sqlite3_config` may only be called while the library is not initialized, and Python's
module initializes it on import: so the library is shut down and started again, but
only while it holds no memory at all (sqlite3_memory_used() == 0, which the statistics
still count then), that is, with no connection open anywhere in the process. Otherwise,
or where the library cannot be reached through ctypes, nothing changes: this is speed,
never behaviour. A library that starts itself when its module is imported holding
memory (SQLCipher's, for encrypted stores) is configured before that import instead
(`without_memory_stats_before_import`): loaded through ctypes first, configured while it
is not yet initialized, which is how sqlite3_config is meant to be used.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from pathlib import Path

_SQLITE_CONFIG_MEMSTATUS = 9
_done: set[str] = set()
_lock = threading.Lock()


def _library(extension: str) -> ctypes.CDLL | None:
    """The SQLite library the C extension `extension` calls."""
    path = getattr(importlib.import_module(extension), "__file__", None)
    candidates = [path] if path else []
    if sys.platform == "win32":  # the .pyd exports nothing: sqlite3.dll beside it has them
        candidates.append("sqlite3")
    for name in candidates:
        with contextlib.suppress(OSError):
            lib = ctypes.CDLL(name)
            if hasattr(lib, "sqlite3_config") and hasattr(lib, "sqlite3_memory_used"):
                return lib
    return None


def without_memory_stats(extension: str) -> bool:
    """Turn SQLite's memory statistics off for the library that the DB-API module's C
    extension `extension` (`_sqlite3`, `sqlcipher3._sqlite3`) calls. Returns whether
    they are off now (by this call or an earlier one)."""
    with _lock:
        if extension in _done:
            return True
        lib = _library(extension)
        if lib is None:
            return False
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        # variadic: argtypes naming only the first argument make ctypes call it as such
        # (where variadic arguments travel differently, as on Apple's arm64)
        lib.sqlite3_config.argtypes = [ctypes.c_int]
        lib.sqlite3_config.restype = ctypes.c_int
        if lib.sqlite3_memory_used() != 0:  # a connection is open: leave the library be
            return False
        if lib.sqlite3_shutdown() != 0:
            return False
        ok = lib.sqlite3_config(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0
        lib.sqlite3_initialize()
        if ok:
            _done.add(extension)
        return ok


def without_memory_stats_before_import(package: str, extension: str = "_sqlite3") -> bool:
    """Turn the statistics off for the SQLite library inside `package`'s C extension
    `extension`, before that extension is first imported (call it just before the
    import). Returns whether they are off now."""
    name = f"{package}.{extension}"
    if name in sys.modules:
        return without_memory_stats(name)
    with _lock:
        if name in _done:
            return True
        spec = importlib.util.find_spec(package)
        places = (spec.submodule_search_locations or []) if spec is not None else []
        found = [Path(d) / (extension + suffix) for d in places
                 for suffix in importlib.machinery.EXTENSION_SUFFIXES]
        path = next((p for p in found if p.exists()), None)
        if path is None:
            return False
        try:
            lib = ctypes.CDLL(str(path))  # the same handle the import then gets
            config = lib.sqlite3_config
        except (OSError, AttributeError):
            return False
        config.argtypes = [ctypes.c_int]  # variadic, as above
        config.restype = ctypes.c_int
        if config(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) != 0:  # already started
            return False
        _done.add(name)
        return True
