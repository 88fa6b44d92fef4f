"""The speech models FieldCRM can download, and the one in use.

The catalogue is a small JSON file (`speech_models.json` beside this module): for each
model its name, language, address (url), the zip's sha256 digest and size. An admin can
host a copy and the zips on an intranet server and point FieldCRM at it: the
FIELDCRM_MODEL_CATALOG environment variable, `--catalog` on the command line, or the
address in Settings ▸ Speech models. A model's url may be relative to the catalogue's
own address (a catalogue and its zips in one folder).

The model in use is the profile setting `voice_model` (settings.json, the same key the
voice window reads); "" means the first model found (desktop.capture.voice_models).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from desktop.capture.errors import ModelCatalogError, ModelNotInCatalogError
from desktop.capture.voice_models import (
    PROFILE_MODELS_DIR,
    VoiceModel,
    check_model,
    choose_model,
    guess_language,
)
from desktop.errors import FieldCRMError
from desktop.profile import load_settings, save_settings

CATALOG_ENV = "FIELDCRM_MODEL_CATALOG"
PACKAGED_CATALOG = Path(__file__).with_name("speech_models.json")
SETTING_MODEL = "voice_model"  # the folder of the model in use ("" = the first found)
SETTING_CATALOG = "model_catalog"  # the catalogue's address ("" = the packaged one)
CATALOG_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # also the folder it is installed as
    language: str | None
    url: str
    sha256: str = ""  # hex digest of the zip; "" = not known
    size: int | None = None  # bytes of the zip (for progress and the disk-space check)
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def catalog_address(profile: Path | None = None, explicit: str | None = None) -> str:
    """Where the catalogue is read from: `explicit`, else FIELDCRM_MODEL_CATALOG, else the
    profile's setting, else the packaged file."""
    for value in (explicit, os.environ.get(CATALOG_ENV),
                  _setting(profile, SETTING_CATALOG) if profile is not None else None):
        if value and value.strip():
            return value.strip()
    return str(PACKAGED_CATALOG)


def _is_http(address: str) -> bool:
    return urlparse(address).scheme in ("http", "https")


def load_catalog(address: str | None = None, *, profile: Path | None = None,
                 timeout: float = CATALOG_TIMEOUT_S) -> list[CatalogEntry]:
    """The models of the catalogue at `address` (a file or an http(s) URL; default: see
    catalog_address). Raises ModelCatalogError when it cannot be read or is malformed."""
    where = catalog_address(profile, address)
    try:
        if _is_http(where):
            import httpx

            response = httpx.get(where, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
            raw = response.json()
        else:
            path = Path(where[7:] if where.startswith("file://") else where).expanduser()
            raw = json.loads(path.read_text(encoding="utf-8"))
            where = str(path.resolve())
    except FieldCRMError:
        raise
    except Exception as exc:  # OSError, httpx errors, JSON errors: the user's message
        raise ModelCatalogError(f"The list of speech models at {where} could not be read "
                                f"({exc}). Check the address and try again.") from exc
    return parse_catalog(raw, where)


def parse_catalog(raw: Any, base: str) -> list[CatalogEntry]:
    """Entries of a catalogue document; relative urls are resolved against `base`."""
    items = raw.get("models") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ModelCatalogError(f"The list of speech models at {base} has no \"models\" list.")
    base_url = base if _is_http(base) else Path(base).resolve().as_uri()
    entries: list[CatalogEntry] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("name") or not item.get("url"):
            raise ModelCatalogError(f"Model {i + 1} in the list at {base} needs a name and "
                                    "a url.")
        name = str(item["name"]).strip()
        if "/" in name or "\\" in name or name.startswith("."):
            raise ModelCatalogError(f"The model name {name!r} in the list at {base} is not "
                                    "a plain folder name.")
        digest = str(item.get("sha256") or "").strip().lower()
        if digest and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
            raise ModelCatalogError(f"The sha256 of {name} in the list at {base} is not a "
                                    "64-digit hex digest.")
        size = item.get("size")
        entries.append(CatalogEntry(
            name=name, language=item.get("language") or guess_language(name),
            url=urljoin(base_url, str(item["url"]).strip()), sha256=digest,
            size=int(size) if isinstance(size, int | float) and size > 0 else None,
            title=str(item.get("title") or "")))
    return entries


def find_entry(entries: list[CatalogEntry], name: str) -> CatalogEntry:
    """The entry called `name` (case-insensitive, ".zip" ignored). Raises
    ModelNotInCatalogError naming the models that are known."""
    key = name.strip().lower().removesuffix(".zip")
    for e in entries:
        if e.name.lower() == key:
            return e
    known = ", ".join(e.name for e in entries) or "none"
    raise ModelNotInCatalogError(f"There is no speech model called {name!r} in the list "
                                 f"(known: {known}). Give its address with --url.")


def entry_for_url(name: str, url: str, sha256: str = "",
                  size: int | None = None) -> CatalogEntry:
    """An entry for a model that is not in the catalogue (`--url`)."""
    return parse_catalog({"models": [{"name": name, "url": url, "sha256": sha256,
                                      "size": size}]}, url)[0]


# ---------------------------------------------------------------- the models folder
def models_dir(profile: Path) -> Path:
    """Where downloaded models are installed: `<profile>/models`."""
    return Path(profile) / PROFILE_MODELS_DIR


def _setting(profile: Path | None, key: str) -> str:
    if profile is None:
        return ""
    value = load_settings(Path(profile)).get(key, "")
    return value if isinstance(value, str) else ""


def set_setting(profile: Path, key: str, value: str) -> None:
    """Change one key of settings.json, keeping the others."""
    settings = load_settings(Path(profile))
    settings[key] = value
    save_settings(Path(profile), settings)


def use_model(profile: Path, folder: Path) -> VoiceModel:
    """Make the model in `folder` the one voice notes use (any folder, not only the
    profile's models folder). Raises VoiceModelMissingError / VoiceModelBrokenError when
    it is not a complete Vosk model; nothing is changed then."""
    folder = Path(folder).expanduser().resolve()
    check_model(folder)
    set_setting(profile, SETTING_MODEL, str(folder))
    return VoiceModel(folder, folder.name, guess_language(folder.name), "chosen")


def model_in_use(profile: Path, language: str | None = None) -> VoiceModel | None:
    """The model voice notes use: the chosen folder when it is still a complete model,
    else the first installed one (of `language` when there is one); None when there is
    no model at all."""
    chosen = _setting(profile, SETTING_MODEL)
    if chosen:
        path = Path(chosen)
        try:
            check_model(path)
            return VoiceModel(path, path.name, guess_language(path.name), "chosen")
        except FieldCRMError:
            pass
    try:
        return choose_model(profile, language)
    except FieldCRMError:
        return None
