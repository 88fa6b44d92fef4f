"""PyInstaller hook for vosk (none ships with PyInstaller or the contrib hooks).

vosk loads its native library with cffi from its own package folder
(`os.path.dirname(vosk.__file__)`): libvosk.so (Linux), libvosk.dyld (macOS: note the
unusual suffix, which collect_dynamic_libs does not match) and libvosk.dll plus the
MinGW runtime DLLs beside it (Windows). All of them go to `vosk/` in the bundle.
"""

from pathlib import Path

from PyInstaller.utils.hooks import get_package_paths

_, _pkg = get_package_paths("vosk")
_NATIVE = ("*.so", "*.so.*", "*.dyld", "*.dylib", "*.dll")
binaries = sorted({(str(p), "vosk") for pattern in _NATIVE for p in Path(_pkg).glob(pattern)})
if not binaries:
    raise SystemExit(f"hook-vosk: no native vosk library found in {_pkg}")
hiddenimports = ["_cffi_backend", "srt"]
# The model-download helpers (requests, tqdm) are imported by vosk/__init__.py and so must
# stay importable; FieldCRM never calls them (models come from disk only).
