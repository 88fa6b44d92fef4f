"""`fieldcrm capture models list|download|use`: the speech models, from a script.

    fieldcrm capture models list --json          # the catalogue, what is installed, in use
    fieldcrm capture models download vosk-model-small-cn-0.22 [--use] --json
    fieldcrm capture models download my-model --url http://intranet/m.zip --sha256 HEX
    fieldcrm capture models use ~/models/vosk-model-small-en-us-0.15 --json

`--catalog FILE|URL` reads another model list (also FIELDCRM_MODEL_CATALOG). A download
that stops (Ctrl+C, a cut connection) resumes when run again. Progress goes to stderr;
the result to stdout. Nothing heavy is imported until a command runs (start-up time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, ClassVar

from desktop.errors import FieldCRMError, ValidationError


def add_subcommands(capture_subparsers: Any) -> None:
    """Add `models` to the `fieldcrm capture` sub-commands."""
    models = capture_subparsers.add_parser(
        "models", help="speech models: list, download (resumable, checked) or choose one")
    sub = models.add_subparsers(dest="models_command", required=True)

    ls = sub.add_parser("list", help="the models you can download, installed, and in use")
    _catalog_option(ls)
    _json(ls)
    ls.set_defaults(func=cmd_list)

    dl = sub.add_parser("download", help="download a model into the profile's models folder")
    dl.add_argument("name", help="a model of the list (e.g. vosk-model-small-cn-0.22), or "
                                 "the folder name to install as with --url")
    dl.add_argument("--url", default=None, help="download from this address instead")
    dl.add_argument("--sha256", default=None, help="the zip's expected sha256 (hex)")
    dl.add_argument("--size", type=int, default=None, help="the zip's size in bytes "
                    "(for the disk-space check, with --url)")
    dl.add_argument("--replace", action="store_true", help="replace an installed copy")
    dl.add_argument("--use", action="store_true", help="then use it for voice notes")
    _catalog_option(dl)
    _json(dl)
    dl.set_defaults(func=cmd_download)

    use = sub.add_parser("use", help="use this model folder (or installed model) for voice "
                                     "notes")
    use.add_argument("model", help="a folder holding a Vosk model, or an installed model's "
                                   "name")
    _json(use)
    use.set_defaults(func=cmd_use)


def _catalog_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", default=None,
                   help="the model list to read (a JSON file or URL; default: the setting, "
                        "FIELDCRM_MODEL_CATALOG, else the one shipped with FieldCRM)")


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _profile(args: argparse.Namespace) -> Path:
    profile = getattr(args, "profile", None)
    if profile is None:
        from desktop.profile import default_profile

        return default_profile()
    return Path(profile)


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str) if args.json else text)


def _fail(exc: FieldCRMError) -> int:
    print(exc.message, file=sys.stderr)
    return 2 if isinstance(exc, ValidationError) else 1


# ---------------------------------------------------------------- list
def cmd_list(args: argparse.Namespace) -> int:
    from desktop.capture.model_catalog import (
        catalog_address,
        load_catalog,
        model_in_use,
        models_dir,
    )
    from desktop.capture.voice_models import discover_models

    profile = _profile(args)
    try:
        address = catalog_address(profile, args.catalog)
        entries = load_catalog(address)
    except FieldCRMError as exc:
        return _fail(exc)
    folder = models_dir(profile)
    installed = discover_models(profile)
    in_use = model_in_use(profile)
    catalog = [{**e.to_json(), "installed": (folder / e.name).is_dir()} for e in entries]
    data = {"catalog": address, "models_dir": str(folder), "available": catalog,
            "installed": [m.to_json() for m in installed],
            "in_use": in_use.to_json() if in_use else None}
    lines = [f"Models you can download (from {address}):"]
    lines += [f"  {e['name']:<32} [{e['language'] or '?'}]  "
              f"{_size(e['size'])}{'  (installed)' if e['installed'] else ''}" for e in catalog]
    lines += [f"Installed (downloads go to {folder}):"]
    lines += [f"  {m.name:<32} [{m.language or '?'}]  {m.path}" for m in installed] or \
        ["  (none)"]
    lines += [f"In use: {in_use.path}" if in_use else
              "In use: none. Download one: fieldcrm capture models download NAME"]
    _out(args, data, "\n".join(lines))
    return 0


def _size(n: int | None) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n else "size unknown"


# ---------------------------------------------------------------- download
class _Progress:
    """Progress lines on stderr, at most one every 5 % (none with --json)."""

    LABELS: ClassVar[dict[str, str]] = {"download": "downloading", "verify": "checking",
                                        "unpack": "unpacking"}

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        step = int(done * 20 / total) if total else done // 5_000_000
        if (phase, step) == self.last:
            return
        self.last = (phase, step)
        of = f" of {total / 1_000_000:,.1f} MB" if total else " MB"
        print(f"{self.LABELS.get(phase, phase)} {done / 1_000_000:,.1f}{of}", file=sys.stderr)


def cmd_download(args: argparse.Namespace) -> int:
    from desktop.capture.model_catalog import (
        entry_for_url,
        find_entry,
        load_catalog,
        models_dir,
        use_model,
    )
    from desktop.capture.model_download import install_model

    profile = _profile(args)
    try:
        if args.url:
            entry = entry_for_url(args.name, args.url, args.sha256 or "", args.size)
        else:
            entry = find_entry(load_catalog(args.catalog, profile=profile), args.name)
            if args.sha256:
                from dataclasses import replace

                entry = replace(entry, sha256=args.sha256.strip().lower())
        result = install_model(entry, models_dir(profile), on_progress=_Progress(args.json),
                               replace=args.replace)
        data = result.to_json()
        if args.use:
            data["in_use"] = str(use_model(profile, result.path).path)
    except FieldCRMError as exc:
        return _fail(exc)
    check = "sha256 checked" if result.verified else "no sha256 in the list to check against"
    _out(args, data, f"installed {result.name} in {result.path} ({result.size / 1e6:,.1f} MB, "
                     f"{check}: {result.sha256})"
                     + (f"\nvoice notes now use {data['in_use']}" if args.use else ""))
    return 0


# ---------------------------------------------------------------- use
def cmd_use(args: argparse.Namespace) -> int:
    from desktop.capture.model_catalog import models_dir, use_model

    profile = _profile(args)
    folder = Path(args.model).expanduser()
    if not folder.exists() and (models_dir(profile) / args.model).is_dir():
        folder = models_dir(profile) / args.model
    try:
        model = use_model(profile, folder)
    except FieldCRMError as exc:
        return _fail(exc)
    _out(args, {"in_use": model.to_json()}, f"voice notes now use {model.path}")
    return 0
