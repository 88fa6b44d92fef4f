"""The app's settings: a small JSON file in the profile folder (never secrets)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

log = logging.getLogger(__name__)

SETTINGS_NAME = "settings.json"
LANGUAGES = ("auto", "en", "zh")


@dataclass
class Settings:
    language: str = "auto"  # "auto" follows the system locale
    voice_model: str = ""  # folder of the Vosk model for voice notes; "" = the first found
    hidden_columns: str = ""  # list columns of custom fields hidden: "account.cf_x,deal.cf_y"
    model_catalog: str = ""  # the list of downloadable speech models: file or URL ("" = shipped)

    @classmethod
    def load(cls, profile: Path) -> Settings:
        """Read settings.json; a missing or malformed file gives the defaults."""
        path = Path(profile) / SETTINGS_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings file %s: %s", path, exc)
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        out = cls(**{k: v for k, v in raw.items() if k in known and isinstance(v, str)})
        if out.language not in LANGUAGES:
            out.language = "auto"
        return out

    def save(self, profile: Path) -> None:
        """Write settings.json atomically (write a temp file, then rename)."""
        path = Path(profile) / SETTINGS_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
