"""`fieldcrm capture note "TEXT"` and `fieldcrm capture voice FILE`.

    fieldcrm capture note "张总说下周二看工厂，预算200万" --now 2026-03-11T10:00+08:00 --json
    {"due": "2026-03-17", "amount": 2000000, "currency": null, "task": {...},
     "mentions": [...], "note": "..."}
    fieldcrm capture voice note.m4a [--model DIR] --json   # transcript, parse, timings
    fieldcrm capture voice --list-models --json            # the installed speech models

Mentions are matched against the profile's contacts and accounts when the profile has
a store; `--apply` (voice and note) writes the task, note and amount through the store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop.capture.note_mentions import Candidates
from desktop.errors import FieldCRMError, ValidationError


def add_subcommands(capture_subparsers: Any) -> None:
    """Add `note` and `voice` to the `fieldcrm capture` sub-commands."""
    note = capture_subparsers.add_parser(
        "note", help="parse a note: due date, amount, people, task")
    note.add_argument("text", nargs="?", default="-",
                      help="the note, e.g. \"张总说下周二看工厂，预算200万\"; - or none: "
                           "read notes from stdin, one a line (with --json, one JSON line "
                           "out for each)")
    _common(note)
    note.set_defaults(func=cmd_note)

    voice = capture_subparsers.add_parser(
        "voice", help="transcribe a voice note offline (Vosk) and parse it")
    voice.add_argument("file", nargs="?", type=Path, help="WAV, MP3, M4A/AAC or OGG")
    voice.add_argument("--model", type=Path, default=None,
                       help="Vosk model folder (default: the one chosen with 'capture "
                            "models use' or in Settings, else the first installed model)")
    voice.add_argument("--language", default=None, help="prefer an installed model of this "
                       "language (zh, en, ...)")
    voice.add_argument("--list-models", action="store_true", help="list the installed models")
    voice.add_argument("--keep-audio", action="store_true",
                       help="with --apply: keep the recording as an attachment")
    _common(voice)
    voice.set_defaults(func=cmd_voice)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", default=None,
                   help="ISO-8601 moment relative dates are read from (default: now in your "
                        "time zone setting; no offset: a time there)")
    p.add_argument("--account", default=None, help="id of the current account (breaks ties)")
    p.add_argument("--apply", action="store_true",
                   help="create the task and note and set the deal amount in the profile")
    if not any(a.dest == "json" for a in p._actions):
        p.add_argument("--json", action="store_true", help="machine-readable output")


def parse_now(text: str | None, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The --now moment, aware, in the user's zone `zone` (default the system's), which
    relative dates ("明天", "tomorrow 10:00") are read in. A value without an offset is a
    wall time in that zone; one with an offset is kept as given.

    Raises ValidationError for a value that is not ISO-8601 (or a wall time the zone skips).
    """
    from desktop.timezones import now_in, system_zone, wall

    tz = zone or system_zone()
    if not text:
        return now_in(tz)
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"--now '{text}' is not an ISO-8601 date and time "
                              "(for example 2026-03-11T10:00+08:00)") from None
    return moment if moment.tzinfo is not None else wall(moment, tz).astimezone(tz)


def _zone(store: Any) -> dt.tzinfo:
    """The user's zone: the profile's setting, else the system's (no profile yet)."""
    from desktop.followup.clock import user_zone
    from desktop.timezones import system_zone

    return user_zone(store) if store is not None else system_zone()


def _profile(args: argparse.Namespace) -> Path | None:
    profile = getattr(args, "profile", None)
    return Path(profile) if profile is not None else None


def _candidates(args: argparse.Namespace) -> tuple[Any, Candidates]:
    """The open store (or None when the profile has none yet) and its candidates."""
    profile = _profile(args)
    if profile is None or not (profile.exists() or args.apply):
        return None, Candidates(current_account_id=args.account)
    from desktop.capture.note_apply import load_candidates
    from desktop.store import Store

    store = Store.open(profile)
    return store, load_candidates(store, args.account)


def _apply(store: Any, parse: Any, audio: Path | None, keep_audio: bool) -> dict[str, Any]:
    from desktop.capture.note_apply import ConfirmedNote, apply_note

    applied = apply_note(store, ConfirmedNote.from_parse(
        parse, audio_path=audio, keep_audio=keep_audio))
    return {"task_id": applied.task_id, "note_id": applied.note_id,
            "deal_id": applied.deal_id, "deal_created": applied.deal_created,
            "attachment_id": applied.attachment_id}


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(text)


def _parse_text(p: dict[str, Any]) -> str:
    task = p["task"]
    lines = [f"task:     {task['subject'] if task else '-'}",
             f"due:      {p['due'] or '-'}",
             f"amount:   {p['amount'] if p['amount'] is not None else '-'} "
             f"{p['currency'] or ''}".rstrip(),
             "mentions: " + (", ".join(f"{m['said']} -> {m['name']}" for m in p["mentions"])
                             or "-"),
             f"note:     {p['note']}"]
    return "\n".join(lines)


def cmd_note(args: argparse.Namespace) -> int:
    from desktop.capture.note_parse import parse_note

    texts: Iterable[str] = [args.text] if args.text != "-" else (
        line for line in sys.stdin if line.strip())  # one process for many notes
    try:
        store, cands = _candidates(args)
        try:
            now = parse_now(args.now, _zone(store))
            for text in texts:
                parse = parse_note(text, now, cands)
                data = parse.to_json()
                shown = _parse_text(data)
                if args.apply:
                    data["applied"] = _apply(store, parse, None, False)
                    shown += f"\napplied:  {data['applied']}"
                _print(args, data, shown)
                sys.stdout.flush()  # a caller reading line by line gets each as it is done
        finally:
            if store is not None:
                store.close()
    except FieldCRMError as exc:
        print(exc.message, file=sys.stderr)
        return 2 if isinstance(exc, ValidationError) else 1
    return 0


def cmd_voice(args: argparse.Namespace) -> int:
    from desktop.capture.voice_models import discover_models

    try:
        if args.list_models:
            models = [m.to_json() for m in discover_models(_profile(args))]
            if args.json:
                print(json.dumps({"models": models}, ensure_ascii=False))
            else:
                print("\n".join(f"{m['name']}  [{m['language'] or '?'}]  {m['path']}  "
                                f"({m['source']})"
                                for m in models) or "(no speech models installed)")
            return 0
        if args.file is None:
            raise ValidationError("Name the audio file to transcribe (or use --list-models).")
        from desktop.capture.voice_pipeline import transcribe_note

        store, cands = _candidates(args)
        try:
            now = parse_now(args.now, _zone(store))
            result = transcribe_note(args.file, now, model_path=args.model,
                                     profile=_profile(args), language=args.language,
                                     candidates=cands)
            data = result.to_json()
            if args.apply:
                data["applied"] = _apply(store, result.parse, args.file, args.keep_audio)
        finally:
            if store is not None:
                store.close()
    except FieldCRMError as exc:
        print(exc.message, file=sys.stderr)
        return 2 if isinstance(exc, ValidationError) else 1
    t = data["timings"]
    _print(args, data, f"transcript: {data['transcript']}\n{_parse_text(data['parse'])}\n"
           f"timings:  audio {t['audio_s']} s, decode {t['decode_s']} s, model load "
           f"{t['model_load_s']} s, transcribe {t['transcribe_s']} s (RTF {t['real_time_factor']})")
    return 0
