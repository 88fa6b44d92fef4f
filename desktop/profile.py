"""Where a rep's profile lives: one folder with the database, blobs and settings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs

SETTINGS_FILE = "settings.json"
# The voice recorder's files while a note is made (desktop.capture.recording): sealed in
# an encrypted profile; a saved note keeps its audio as a blob and the file goes
# (desktop.capture.note_apply); a wipe removes the folder.
RECORDINGS_DIR = "recordings"
# The camera's contract photos until the contract is saved (desktop.capture.camera_photos):
# sealed in an encrypted profile; saving keeps them as blobs and removes them; a wipe
# removes the folder.
CAPTURES_DIR = "captures"


def fresh_path(folder: Path, stem: str, suffix: str) -> Path:
    """`folder/stem+suffix`, or `stem-2`, `stem-3`... when taken (two within one second)."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def remove_own(folder: Path, paths: list[Path] | tuple[Path, ...]) -> None:
    """Remove those of `paths` that lie in the profile's `folder` (the recorder's, the
    camera's); a file the rep picked from elsewhere is theirs and stays."""
    try:
        own = Path(folder).resolve()
    except OSError:
        return
    for path in paths:
        try:
            if Path(path).resolve().parent == own:
                Path(path).unlink(missing_ok=True)
        except OSError:  # still open elsewhere (Windows): a wipe removes the folder
            pass


def default_profile() -> Path:
    env = os.environ.get("FIELDCRM_PROFILE")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("FieldCRM", "FieldCRM")) / "default"


def load_settings(profile: Path) -> dict[str, Any]:
    """The profile's settings (never secrets: those live in the OS keyring). A damaged
    file yields defaults rather than a refusal to start; it is kept aside for support."""
    path = profile / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        path.replace(path.with_suffix(".damaged.json"))
        return {}


def save_settings(profile: Path, settings: dict[str, Any]) -> None:
    profile.mkdir(parents=True, exist_ok=True)
    path = profile / SETTINGS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
