"""Quick add (Qt-free): find the account as the rep types (name, pinyin, initials or phone
digits, through the store's search), then add a call, visit, task, note or deal to it in
one write. A visit carries its check-in time and place; a call or visit its outcome and
an optional next step (a task)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.errors import ValidationError
from desktop.followup.agenda import log_contact
from desktop.followup.clock import iso

if TYPE_CHECKING:
    from desktop.store import Store

KINDS = ("call", "visit", "task", "note", "deal")
MATCHES = 8


@dataclass(frozen=True)
class AccountMatch:
    account_id: str
    name: str
    region: str = ""
    phone: str = ""
    contact_id: str | None = None
    contact: str = ""  # the contact that matched


def find_accounts(store: Store, text: str, limit: int = MATCHES) -> list[AccountMatch]:
    """Accounts matching what was typed; a contact that matches brings its account (and
    itself, so the activity is logged with that person). One row per account."""
    hits = store.search(text, limit=limit * 3, entities=("account", "contact"))
    out: list[AccountMatch] = []
    seen: set[str] = set()
    contact_ids = [h.id for h in hits if h.entity == "contact"]
    contacts = {}
    if contact_ids:
        marks = ", ".join("?" * len(contact_ids))
        contacts = {r[0]: (r[1], r[2]) for r in store.conn.execute(
            f"SELECT id, account_id, name FROM contact WHERE id IN ({marks})", contact_ids)}
    account_ids = [h.id for h in hits if h.entity == "account"] + [
        a for a, _n in contacts.values() if a]
    names: dict[str, tuple[str, str, str]] = {}
    if account_ids:
        marks = ", ".join("?" * len(account_ids))
        for rid, name, region, phone in store.conn.execute(
                f"SELECT id, name, region, phone FROM account WHERE deleted = 0 "
                f"AND id IN ({marks})", account_ids):
            names[rid] = (name or "", region or "", phone or "")
    for h in hits:
        if h.entity == "account":
            acc_id, contact_id, contact = h.id, None, ""
        else:
            acc_id, contact = contacts.get(h.id, (None, ""))
            contact_id = h.id
        if not acc_id or acc_id in seen or acc_id not in names:
            continue
        seen.add(acc_id)
        name, region, phone = names[acc_id]
        out.append(AccountMatch(acc_id, name, region, phone, contact_id, contact or ""))
        if len(out) >= limit:
            break
    return out


@dataclass
class QuickEntry:
    kind: str  # one of KINDS
    account_id: str | None
    subject: str = ""  # a deal's title
    contact_id: str | None = None
    outcome: str = ""  # call, visit
    next_step: str = ""  # call, visit: a task
    next_due: dt.datetime | None = None
    when: dt.datetime | None = None  # visit check-in / call time; a task's due time
    place: str = ""  # visit
    body: str = ""  # note text
    amount: float | None = None  # deal
    currency: str = "CNY"
    close_date: dt.date | None = None
    lang: str = "en"  # of a subject made up from the outcome


def parse_amount(text: str) -> float | None:
    """"12,800", "12.8万" (ten thousands), "1.5亿"; "" is no amount."""
    t = text.strip().replace(",", "").replace("，", "").replace(" ", "")
    if not t:
        return None
    scale = 1.0
    for unit, factor in (("亿", 1e8), ("万", 1e4), ("k", 1e3), ("K", 1e3), ("元", 1.0)):
        if t.endswith(unit):
            t, scale = t[: -len(unit)], factor
            break
    try:
        value = float(t) * scale
    except ValueError:
        raise ValidationError(f"“{text}” is not an amount.", field="amount") from None
    if value < 0:
        raise ValidationError("An amount cannot be negative.", field="amount")
    return round(value, 2)


def add(store: Store, entry: QuickEntry, now: dt.datetime) -> dict[str, Any]:
    """Write the entry; returns {"entity", "id", "ids"} (ids: everything written)."""
    if entry.kind not in KINDS:
        raise ValidationError(f"Unknown kind “{entry.kind}”.", field="kind")
    if entry.kind in ("call", "visit"):
        if not entry.account_id:
            raise ValidationError("Choose the account first.", field="account_id")
        ids = log_contact(store, entry.kind, entry.account_id, entry.outcome, now,
                          subject=entry.subject, contact_id=entry.contact_id,
                          next_step=entry.next_step, next_due=entry.next_due,
                          at=entry.when, place=entry.place if entry.kind == "visit" else "",
                          body=entry.body, lang=entry.lang)
        return {"entity": "activity", "id": ids[0], "ids": ids}
    if entry.kind == "deal":
        if not entry.account_id:
            raise ValidationError("Choose the account first.", field="account_id")
        rec = store.repo("deal").create({
            "title": entry.subject.strip(), "account_id": entry.account_id,
            "amount": entry.amount, "currency": entry.currency if entry.amount else None,
            "stage": "lead",
            "close_date": entry.close_date.isoformat() if entry.close_date else None})
        return {"entity": "deal", "id": rec["id"], "ids": [rec["id"]]}
    values: dict[str, Any] = {"kind": entry.kind, "account_id": entry.account_id,
                              "contact_id": entry.contact_id}
    if entry.kind == "task":
        values["subject"] = entry.subject.strip()
        values["due_at"] = iso(entry.when or now + dt.timedelta(days=1))
    else:  # note: written now, done
        text = (entry.body or entry.subject).strip()
        values["subject"] = (entry.subject.strip() or text.splitlines()[0] if text else "")[:300]
        values["body"] = entry.body.strip() or None
        values["done_at"] = iso(now)
    rec = store.repo("activity").create(values)
    return {"entity": "activity", "id": rec["id"], "ids": [rec["id"]]}
