"""Save a confirmed contract: the record on its deal, page images, party accounts. No Qt.

    outcome = save_contract(store, confirmed_values, deal_id=deal["id"], files=[...])
    outcome.matched    # side -> the existing account the party was linked to
    outcome.unmatched  # parties with no account yet: offer create_party_account(...)

A party is linked to the account the duplicate matcher (desktop.dedupe, the same rule and
threshold as the record dialog) finds for its name and credit code, so a captured
contract never adds a second record for a customer the book already holds.

Everything is written in one store transaction: a failure keeps nothing (page files
already copied into the blob folder are content-addressed and harmless).
Raises ValidationError (a value does not fit, e.g. a credit code failing its check
digit), NotFoundError (the deal is gone), StoreError.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from desktop.capture import places
from desktop.capture.camera_photos import display_name, drop_captures, is_sealed, read_capture
from desktop.capture.contract_fields import FIELDS, FieldResult
from desktop.dedupe import rules
from desktop.dedupe.service import check

# A party is matched against keys built at most this many records at a time: a big import
# still being keyed in the background must not hold up the save.
_KEY_BUDGET = 2000

SIDES = ("a", "b")


@dataclass
class UnmatchedParty:
    side: str  # "a" or "b"
    name: str
    uscc: str | None


@dataclass
class SaveOutcome:
    contract: dict[str, Any]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    matched: dict[str, dict[str, Any]] = field(default_factory=dict)  # side -> account
    unmatched: list[UnmatchedParty] = field(default_factory=list)
    # side -> why the party is that account ("uscc", "name"), as the matcher gives them
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)


def find_party(store: Any, name: str | None,
               uscc: str | None) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The existing account a party is, with the reasons: the same credit code, else the
    best probable duplicate by name (legal forms, a city in brackets, full-width
    characters and the like do not tell companies apart; another city's branch does)."""
    repo = store.repo("account")
    if uscc:
        hits = [r for r in repo.find(uscc=uscc.strip().upper()) if not r.get("deleted")]
        if hits:
            return hits[0], ("uscc",)
    if not name or not name.strip():
        return None
    rule = rules.rule_for(store, "account")
    found = check(store, "account", {"name": name.strip(), "uscc": uscc},
                  threshold=rule.threshold, limit=1, refresh_limit=_KEY_BUDGET)
    if not found:
        return None
    return repo.get(found[0].id), found[0].reasons


# An account's name replaces the name as read when they differ by at most this many
# characters (OCR's misreads), not when they are the same company written another way.
MAX_MISREAD_CHARS = 2


def reconcile_parties(store: Any, fields: Mapping[str, FieldResult]) -> dict[str, dict[str, Any]]:
    """Party names as the book already knows them: where the duplicate matcher finds an
    existing account for a party (by credit code or by name, also after correcting a
    misread place name at its start: 厦内 -> 厦门, or 上诲 -> 上海 rather than 上饶 because
    that account exists) and its name differs from the name as read by a character or
    two, the field takes the account's name, flagged for checking. Changes `fields` in
    place; returns side -> the matched account."""
    matched: dict[str, dict[str, Any]] = {}
    for side in SIDES:
        field_ = fields.get(f"party_{side}_name")
        uscc_field = fields.get(f"party_{side}_uscc")
        if field_ is None or not isinstance(field_.value, str) or not field_.value.strip():
            continue
        name = field_.value
        uscc = (uscc_field.value if uscc_field is not None and uscc_field.warning is None
                and isinstance(uscc_field.value, str) else None)
        hit = find_party(store, name, uscc)
        if hit is None:
            for reading in places.readings(name):
                hit = find_party(store, reading.text, None)
                if hit:
                    break
        if hit is None:
            continue
        account = hit[0]
        matched[side] = account
        known = str(account.get("name") or "")
        if (known and known != name and abs(len(known) - len(name)) <= 1
                and Levenshtein.distance(known, name) <= MAX_MISREAD_CHARS):
            field_.raw = field_.raw or name
            field_.value = known
            field_.confidence = round(min(field_.confidence, 0.75), 3)
            field_.flag("name_from_account", name=known)
    return matched


def match_account(store: Any, name: str | None, uscc: str | None) -> dict[str, Any] | None:
    """The existing account for a party, or None (see find_party)."""
    hit = find_party(store, name, uscc)
    return hit[0] if hit else None


def save_contract(store: Any, values: Mapping[str, Any], *, deal_id: str | None,
                  files: list[Path], owner: str | None = None) -> SaveOutcome:
    """Create the contract record with page attachments, linked to matched accounts."""
    blobs = [_keep(store, Path(f)) for f in files]
    record: dict[str, Any] = {k: values.get(k) for k in FIELDS if values.get(k) not in (None, "")}
    matched: dict[str, dict[str, Any]] = {}
    reasons: dict[str, tuple[str, ...]] = {}
    unmatched: list[UnmatchedParty] = []
    with store.write():
        if deal_id:
            store.repo("deal").get(deal_id)  # NotFoundError if the deal was deleted meanwhile
        for side in SIDES:
            name, uscc = values.get(f"party_{side}_name"), values.get(f"party_{side}_uscc")
            if not name and not uscc:
                continue
            hit = find_party(store, name, uscc)
            if hit:
                matched[side], reasons[side] = hit
                record[f"party_{side}_account_id"] = hit[0]["id"]
            else:
                unmatched.append(UnmatchedParty(side, name or "", uscc or None))
        attachments = []
        for name, sha in blobs:
            attachments.append(store.repo("attachment").create({
                "sha256": sha, "file_name": name,
                "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "size": store.blobs.size(sha), "deal_id": deal_id,
                "account_id": matched["a"]["id"] if "a" in matched else None,
                "owner": owner,
            }))
        record.update({"deal_id": deal_id, "pages": [sha for _, sha in blobs] or None,
                       "owner": owner})
        contract = store.repo("contract").create(record)
    drop_captures(Path(store.profile), files)  # the camera's photos are blobs now
    return SaveOutcome(contract, attachments, matched, unmatched, reasons)


def _keep(store: Any, path: Path) -> tuple[str, str]:
    """A page file as a blob: its name and hash. A camera photo sealed in the profile is
    decrypted in memory and kept as the JPEG it is."""
    if is_sealed(path):
        return display_name(path), store.blobs.put_bytes(read_capture(path, store.profile))
    return path.name, store.blobs.put_file(path)


def create_party_account(store: Any, contract_id: str, party: UnmatchedParty) -> dict[str, Any]:
    """Create the missing account for a party and link the contract to it; if the account
    has come into the book since the contract was saved (a sync, another window), link
    to that one instead of making a second."""
    with store.write():
        hit = find_party(store, party.name, party.uscc)
        account = hit[0] if hit else store.repo("account").create(
            {"name": party.name, "uscc": party.uscc})
        store.repo("contract").update(contract_id,
                                      {f"party_{party.side}_account_id": account["id"]})
    return dict(account)
