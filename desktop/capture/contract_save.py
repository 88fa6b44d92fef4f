"""Save a confirmed contract: the record on its deal, page images, party accounts. No Qt.

    outcome = save_contract(store, confirmed_values, deal_id=deal["id"], files=[...])
    outcome.unmatched  # parties with no account yet: offer create_party_account(...)

Everything is written in one store transaction: a failure keeps nothing (page files
already copied into the blob folder are content-addressed and harmless).
Raises ValidationError (a value does not fit, e.g. a credit code failing its check
digit), NotFoundError (the deal is gone), StoreError.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.capture.contract_fields import FIELDS

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


def normalize_name(name: str) -> str:
    """Company name for comparison: full-width folded, no spaces/brackets/punctuation,
    case-insensitive, common English suffix forms unified."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"[\s()（）\[\]【】,.，。·'\"-]", "", text)
    return text.replace("company", "co").replace("limited", "ltd")


def match_account(store: Any, name: str | None, uscc: str | None) -> dict[str, Any] | None:
    """The account for a party: by credit code first, then exact name, then normalised name."""
    repo = store.repo("account")
    if uscc:
        hits = [r for r in repo.find(uscc=uscc.strip().upper()) if not r.get("deleted")]
        if hits:
            return hits[0]
    if not name:
        return None
    hits = [r for r in repo.find(name=name.strip()) if not r.get("deleted")]
    if hits:
        return hits[0]
    wanted = normalize_name(name)
    for rec in repo.iter_all():
        if rec.get("name") and normalize_name(rec["name"]) == wanted:
            return rec
    return None


def save_contract(store: Any, values: Mapping[str, Any], *, deal_id: str | None,
                  files: list[Path], owner: str | None = None) -> SaveOutcome:
    """Create the contract record with page attachments, linked to matched accounts."""
    blobs = [(Path(f), store.blobs.put_file(Path(f))) for f in files]
    record: dict[str, Any] = {k: values.get(k) for k in FIELDS if values.get(k) not in (None, "")}
    matched: dict[str, dict[str, Any]] = {}
    unmatched: list[UnmatchedParty] = []
    with store.write():
        if deal_id:
            store.repo("deal").get(deal_id)  # NotFoundError if the deal was deleted meanwhile
        for side in SIDES:
            name, uscc = values.get(f"party_{side}_name"), values.get(f"party_{side}_uscc")
            if not name and not uscc:
                continue
            account = match_account(store, name, uscc)
            if account:
                matched[side] = account
                record[f"party_{side}_account_id"] = account["id"]
            else:
                unmatched.append(UnmatchedParty(side, name or "", uscc or None))
        attachments = []
        for path, sha in blobs:
            attachments.append(store.repo("attachment").create({
                "sha256": sha, "file_name": path.name,
                "mime_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                "size": path.stat().st_size, "deal_id": deal_id,
                "account_id": matched["a"]["id"] if "a" in matched else None,
                "owner": owner,
            }))
        record.update({"deal_id": deal_id, "pages": [sha for _, sha in blobs] or None,
                       "owner": owner})
        contract = store.repo("contract").create(record)
    return SaveOutcome(contract, attachments, matched, unmatched)


def create_party_account(store: Any, contract_id: str, party: UnmatchedParty) -> dict[str, Any]:
    """Create the missing account for a party and link the contract to it."""
    with store.write():
        account = store.repo("account").create({"name": party.name, "uscc": party.uscc})
        store.repo("contract").update(contract_id,
                                      {f"party_{party.side}_account_id": account["id"]})
    return dict(account)
