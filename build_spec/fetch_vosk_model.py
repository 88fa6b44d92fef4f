"""Download a Vosk model for a speech-model build, check its SHA-256, unpack it.

    python build_spec/fetch_vosk_model.py URL SHA256 OUT_DIR
    # prints the model folder; then FIELDCRM_VOSK_MODEL_DIRS=<that folder> pyinstaller ...

The hash is required: a model is only bundled when its exact archive was pinned (CI
reads URL and hash from the repository variables VOSK_MODEL_URL / VOSK_MODEL_SHA256;
without them the installers are built without a speech model, and reps add one in
their profile's "models" folder, see docs/packaging.md). Build machines only: the app
itself never downloads anything.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import urllib.request
import zipfile
from pathlib import Path

CHUNK = 1 << 20


def fetch(url: str, sha256: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    archive = out / url.rsplit("/", 1)[-1]
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as f:
        while chunk := response.read(CHUNK):
            digest.update(chunk)
            f.write(chunk)
    if digest.hexdigest() != sha256.lower():
        archive.unlink()
        raise SystemExit(f"{url}: SHA-256 {digest.hexdigest()}, expected {sha256}")
    with zipfile.ZipFile(archive) as zf:
        tops = {Path(n).parts[0] for n in zf.namelist() if n.strip("/")}
        if len(tops) != 1:
            raise SystemExit(f"{archive.name}: expected one model folder, found {sorted(tops)}")
        target = out / tops.pop()
        shutil.rmtree(target, ignore_errors=True)
        for member in zf.namelist():  # no absolute paths or .. in a model archive
            if Path(member).is_absolute() or ".." in Path(member).parts:
                raise SystemExit(f"{archive.name}: unsafe path {member}")
        zf.extractall(out)
    archive.unlink()
    for needed in ("am/final.mdl", "conf/mfcc.conf"):
        if not (target / needed).is_file():
            raise SystemExit(f"{target} is not a Vosk model (no {needed})")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    print(fetch(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
