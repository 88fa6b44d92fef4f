"""The device's lead commands, offline: add, list, claim, release, log a contact, convert.

Who owns a lead is the server's to decide: a lead added here has no owner until the
server assigns it at the next sync; a claim or a release is a `lead_claim` record the
server arbitrates (its `result` comes back as "won" or "lost" with the reason). A
conversion makes the account, the contact and the deal in one local transaction,
linking to an existing account or contact the duplicate check finds instead of making a
copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from desktop.dedupe import rules as dedupe_rules
from desktop.dedupe.service import check
from desktop.errors import ValidationError
from desktop.schema import LEAD_OUTCOMES, to_utc_iso

if TYPE_CHECKING:
    from desktop.store import Store

LEAD, CLAIM = "lead", "lead_claim"
CLOSED = ("qualified", "disqualified", "converted")
FIRST_CONTACT_OUTCOMES = LEAD_OUTCOMES


def _now() -> str:
    return to_utc_iso(dt.datetime.now(dt.UTC))


def add(store: Store, values: Mapping[str, Any]) -> dict[str, Any]:
    """A lead the rep met (a card at a fair, a call): the server assigns it on sync."""
    clean = {k: v for k, v in values.items() if v not in (None, "") and k != "owner"}
    if not clean.get("phone") and not clean.get("email"):
        raise ValidationError("A lead needs a phone or an email to be reached.", field="phone")
    return store.repo(LEAD).create({**clean, "status": "new"})


def list_leads(store: Store, *, view: str = "all", status: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    """Leads held here, newest first. `view`: all, mine (owned by this rep), pool."""
    where, params = [], []
    if view == "mine":
        where.append("owner = ?")
        params.append(store.user)
    elif view == "pool":
        where.append("(owner IS NULL OR owner = '') AND status = 'pool'")
    if status:
        where.append("status = ?")
        params.append(status)
    sql = " AND ".join(where) or "1"
    rows = store.conn.execute(
        f"SELECT id FROM lead WHERE deleted = 0 AND {sql} ORDER BY id DESC LIMIT ?",
        [*params, limit]).fetchall()
    repo = store.repo(LEAD)
    return [repo.get(r[0]) for r in rows]


def show(store: Store, lead_id: str) -> dict[str, Any]:
    """The lead with its claims and releases (each with the server's answer when known)."""
    lead = store.repo(LEAD).get(lead_id)
    claims = store.repo(CLAIM).find(lead_id=lead_id)
    return {**lead, "claims": [{"id": c["id"], "action": c.get("action"),
                                "owner": c.get("owner"), "made_at": c.get("made_at"),
                                "result": c.get("result") or "pending",
                                "reason": c.get("reason")} for c in claims]}


def _ask(store: Store, lead_id: str, action: str) -> dict[str, Any]:
    return store.repo(CLAIM).create({"lead_id": lead_id, "action": action, "made_at": _now()})


def claim(store: Store, lead_id: str) -> dict[str, Any]:
    """Ask for a pool lead. The server decides at the next sync (first claim wins)."""
    lead = store.repo(LEAD).get(lead_id)
    if lead.get("owner") == store.user and store.user:
        raise ValidationError("This lead is already yours.")
    if lead.get("owner") or lead.get("status") != "pool":
        raise ValidationError("Only a lead in the pool can be claimed.")
    return _ask(store, lead_id, "claim")


def release(store: Store, lead_id: str) -> dict[str, Any]:
    """Give one's lead back to the pool (the server confirms at the next sync)."""
    lead = store.repo(LEAD).get(lead_id)
    if not store.user or lead.get("owner") != store.user:
        raise ValidationError("Only the lead's owner can return it to the pool.")
    return _ask(store, lead_id, "release")


def contact(store: Store, lead_id: str, outcome: str, *, at: str | None = None,
            note: str | None = None) -> dict[str, Any]:
    """Log a contact attempt and its outcome (the SLA clock's evidence): the lead's
    attempts, last contact and outcome, its first contact if none yet, and a call activity."""
    if outcome not in LEAD_OUTCOMES:
        raise ValidationError(f"The outcome is one of {', '.join(LEAD_OUTCOMES)}.",
                              field="outcome")
    when = at or _now()
    with store.write():
        lead = store.repo(LEAD).get(lead_id)
        changes: dict[str, Any] = {"attempts": int(lead.get("attempts") or 0) + 1,
                                   "last_contact_at": when, "last_outcome": outcome}
        if not lead.get("first_contact_at"):
            changes["first_contact_at"] = when
        if outcome == "reached" and lead.get("status") in ("new", "assigned"):
            changes["status"] = "contacted"
        updated = store.repo(LEAD).update(lead_id, changes)
        store.repo("activity").create({
            "kind": "call", "subject": f"{lead['name']}: {outcome.replace('_', ' ')}",
            "body": note, "done_at": when, "outcome": outcome})
    return updated


def convert(store: Store, lead_id: str, *, deal_title: str | None = None,
            amount: float | None = None) -> dict[str, Any]:
    """Account + contact + deal from the lead in one step; an existing account or contact
    the duplicate check finds is linked instead of copied."""
    repo = store.repo(LEAD)
    lead = repo.get(lead_id)
    if lead.get("status") == "converted":
        raise ValidationError("This lead is already converted.")
    account_values = {"name": lead.get("company") or lead["name"], "phone": lead.get("phone"),
                      "region": lead.get("region"), "lifecycle": "prospect"}
    acc_rule = dedupe_rules.rule_for(store, "account")
    same_account = check(store, "account", account_values, threshold=acc_rule.threshold)
    contact_values: dict[str, Any] = {"name": lead["name"], "email": lead.get("email"),
                                      "phones": [lead["phone"]] if lead.get("phone") else None}
    out: dict[str, Any] = {"lead_id": lead_id}
    with store.write():
        if same_account:
            account_id, out["account_linked"] = same_account[0].id, True
        else:
            account_id = store.repo("account").create(
                {k: v for k, v in account_values.items() if v})["id"]
            out["account_linked"] = False
        contact_values["account_id"] = account_id
        con_rule = dedupe_rules.rule_for(store, "contact")
        same_contact = check(store, "contact", contact_values, threshold=con_rule.threshold)
        if same_contact:
            contact_id, out["contact_linked"] = same_contact[0].id, True
        else:
            contact_id = store.repo("contact").create(
                {k: v for k, v in contact_values.items() if v})["id"]
            out["contact_linked"] = False
        deal = store.repo("deal").create({
            "title": deal_title or f"{account_values['name']} - {lead.get('product') or 'lead'}",
            "account_id": account_id, "stage": "qualified",
            "amount": amount if amount is not None else lead.get("budget")})
        repo.update(lead_id, {"status": "converted", "account_id": account_id,
                              "contact_id": contact_id, "deal_id": deal["id"]})
    out.update(account_id=account_id, contact_id=contact_id, deal_id=deal["id"])
    return out



# ---------------------------------------------------------------- rules, by an admin
RULE = "lead_rule"
RULE_FIELDS = ("name", "position", "regions", "sources", "products", "min_budget",
               "max_budget", "team", "reps", "active")


def rules(store: Store) -> list[dict[str, Any]]:
    """The assignment rules this device holds, in the order the server tries them."""
    return sorted(store.repo(RULE).iter_all(),
                  key=lambda r: (int(r.get("position") or 0), str(r.get("name") or "")))


def save_rules(store: Store, wanted: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An admin's edit of the whole list (in order): rows with an "id" are updated, new
    rows created, rules left out deleted; one transaction. The server uses them once
    the admin's device has synced (a rep's device cannot: the fields are admin-only)."""
    names = [str(r.get("name") or "").strip() for r in wanted]
    if any(not n for n in names):
        raise ValidationError("Every rule needs a name.", field="name")
    if len(set(names)) != len(names):
        raise ValidationError("Two rules have the same name.", field="name")
    for r in wanted:
        if not r.get("team") and not r.get("reps"):
            raise ValidationError(f"Rule '{r.get('name')}' names no team and no reps.",
                                  field="team")
    repo = store.repo(RULE)
    with store.write():
        keep = set()
        for position, r in enumerate(wanted):
            values = {k: r.get(k) for k in RULE_FIELDS if k in r}
            values["position"] = position
            if r.get("id"):
                repo.update(str(r["id"]), values)
                keep.add(str(r["id"]))
            else:
                keep.add(repo.create(values)["id"])
        for old in repo.iter_all():
            if old["id"] not in keep:
                repo.delete(old["id"])
    return rules(store)
