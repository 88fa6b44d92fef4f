"""Apply a confirmed voice note through the store, and read the candidates it may mention.

Everything goes through the store's repositories inside one write transaction
(`store.write()`), so the task, the timeline note, the deal amount and the audio
attachment are journaled and synced like any edit, and either all land or none does.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from desktop.capture.note_mentions import AccountCandidate, Candidates, ContactCandidate
from desktop.capture.note_parse import NoteParse
from desktop.capture.recording import drop_recording, is_sealed, recording_as_wav
from desktop.schema import to_utc_iso

DEFAULT_CURRENCY = "CNY"
OPEN_STAGES_EXCLUDED = ("won", "lost")
RECENT_ACCOUNTS = 5
NOTE_SUBJECT_CHARS = 60


class StoreLike(Protocol):
    """What this module needs of desktop.store.Store."""

    blobs: Any
    profile: Path

    def repo(self, entity: str) -> Any: ...

    def write(self) -> Any: ...


@dataclass
class ConfirmedNote:
    """The values the rep confirmed on the review card (each may have been edited)."""

    note: str
    subject: str | None = None  # None: no task
    due_at: dt.datetime | None = None  # aware
    amount: float | None = None
    currency: str | None = None  # said in the note (or chosen on the card)
    # not said but implied by the note's language (CNY for a Chinese note): used when
    # the deal has no currency of its own
    currency_assumed: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    deal_id: str | None = None
    transcript: str | None = None
    audio_path: Path | None = None
    keep_audio: bool = False

    @classmethod
    def from_parse(cls, parse: NoteParse, **overrides: Any) -> ConfirmedNote:
        contact = parse.contact
        values: dict[str, Any] = {
            "note": parse.text, "subject": parse.subject, "due_at": parse.due_at(),
            "amount": parse.amount,
            "currency": parse.currency if parse.currency_said else None,
            "currency_assumed": None if parse.currency_said else parse.currency,
            "account_id": parse.account_id, "contact_id": contact.id if contact else None,
            "transcript": parse.text,
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class AppliedNote:
    task_id: str | None = None
    note_id: str | None = None
    deal_id: str | None = None
    deal_created: bool = False
    attachment_id: str | None = None
    audio_sha256: str | None = None
    ids: list[str] = field(default_factory=list)


def open_deal_for(store: StoreLike, account_id: str) -> dict[str, Any] | None:
    """The account's most recently updated deal that is neither won nor lost."""
    deals = [d for d in store.repo("deal").find(account_id=account_id)
             if not d.get("deleted") and d.get("stage") not in OPEN_STAGES_EXCLUDED]
    deals.sort(key=lambda d: d.get("updated_at") or "", reverse=True)
    return deals[0] if deals else None


def apply_note(store: StoreLike, note: ConfirmedNote, *,
               default_currency: str = DEFAULT_CURRENCY) -> AppliedNote:
    """Create the task and the timeline note, set the deal amount, keep the audio.

    - task: an activity of kind "task", due_at in UTC, linked to account/contact/deal;
    - note: an activity of kind "note" with the note text (and the transcript when it
      was edited), on the same records;
    - amount: set on the given deal, else the account's open deal, else a new deal on
      the account (currency: as said, else the deal's, else the one the note's language
      implies, else `default_currency`);
    - audio: stored as a blob with an `attachment` record when `keep_audio`.
    Raises ValidationError / StoreError from the store; nothing is written then.
    """
    result = AppliedNote()
    sha: str | None = None
    audio_name = ""
    if note.keep_audio and note.audio_path is not None:
        audio = Path(note.audio_path)
        if is_sealed(audio):  # the recorder's, sealed: kept as a WAV, encrypted as a blob
            audio_name, wav = recording_as_wav(audio, Path(store.profile))
            sha = store.blobs.put_bytes(wav)
        else:
            audio_name = audio.name
            sha = store.blobs.put_file(audio)  # content-addressed, idempotent
        result.audio_sha256 = sha
    with store.write():
        deal_id = note.deal_id
        if note.amount is not None:
            deal_id, result.deal_created = _set_amount(store, note, deal_id, default_currency)
        elif deal_id is None and note.account_id is not None:
            open_deal = open_deal_for(store, note.account_id)
            deal_id = open_deal["id"] if open_deal else None
        result.deal_id = deal_id
        links = {"account_id": note.account_id, "contact_id": note.contact_id,
                 "deal_id": deal_id}
        if sha is not None:
            att = store.repo("attachment").create({
                "sha256": sha, "file_name": audio_name or "voice-note.wav",
                "mime_type": mimetypes.guess_type(audio_name)[0] or "audio/wav",
                "size": store.blobs.size(sha),
                "account_id": note.account_id, "deal_id": deal_id})
            result.attachment_id = att["id"]
        attachments = [sha] if sha else None
        if note.subject:
            task = store.repo("activity").create({
                "kind": "task", "subject": note.subject, "body": note.note,
                "due_at": to_utc_iso(note.due_at) if note.due_at else None,
                "attachments": attachments, **links})
            result.task_id = task["id"]
        body = note.note
        if note.transcript and note.transcript.strip() != note.note.strip():
            body = f"{note.note}\n\n({note.transcript})"
        subject = " ".join(note.note.split())[:NOTE_SUBJECT_CHARS] or "Voice note"
        rec = store.repo("activity").create({
            "kind": "note", "subject": subject, "body": body,
            "done_at": to_utc_iso(dt.datetime.now(dt.UTC)),
            "attachments": attachments, **links})
        result.note_id = rec["id"]
    result.ids = [i for i in (result.task_id, result.note_id, result.deal_id,
                              result.attachment_id) if i]
    if note.audio_path is not None:  # saved (as a blob, or not kept by the rep's choice)
        drop_recording(Path(store.profile), Path(note.audio_path))
    return result


def _set_amount(store: StoreLike, note: ConfirmedNote, deal_id: str | None,
                default_currency: str) -> tuple[str, bool]:
    deals = store.repo("deal")
    deal = deals.get(deal_id) if deal_id else (
        open_deal_for(store, note.account_id) if note.account_id else None)
    if deal is not None:
        currency = (note.currency or deal.get("currency") or note.currency_assumed
                    or default_currency)
        deals.update(deal["id"], {"amount": note.amount, "currency": currency})
        return deal["id"], False
    title = note.subject or " ".join(note.note.split())[:NOTE_SUBJECT_CHARS] or "Voice note"
    created = deals.create({"title": title, "account_id": note.account_id,
                            "amount": note.amount,
                            "currency": (note.currency or note.currency_assumed
                                         or default_currency),
                            "stage": "qualified"})
    return created["id"], True


def load_candidates(store: StoreLike, current_account_id: str | None = None,
                    recent: int = RECENT_ACCOUNTS) -> Candidates:
    """The contacts and accounts a note may name, and the accounts the rep worked on
    last (from the newest activities), for `parse_note`."""
    contacts = [ContactCandidate(c["id"], c.get("name") or "", c.get("title") or "",
                                 c.get("account_id")) for c in store.repo("contact").iter_all()]
    accounts = [AccountCandidate(a["id"], a.get("name") or "")
                for a in store.repo("account").iter_all()]
    acts = sorted(store.repo("activity").iter_all(), key=lambda a: a.get("updated_at") or "",
                  reverse=True)
    recent_ids: list[str] = []
    for a in acts:
        acc = a.get("account_id")
        if acc and acc not in recent_ids:
            recent_ids.append(acc)
        if len(recent_ids) >= recent:
            break
    return Candidates(contacts, accounts, current_account_id, recent_ids)
