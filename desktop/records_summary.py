"""Summaries the record screens show (Qt-free): deal totals per stage in each deal's own
currency (never summed across currencies), the owners a board can be filtered by, an
account with everything hanging off it (the account page's tabs), and the tel:/mailto:
links of a contact's call and email actions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from desktop.schema import ENTITIES, STAGES

if TYPE_CHECKING:
    from desktop.store import Store

NO_CURRENCY = ""  # deals without a currency are totalled apart, never guessed
TAB_LIMIT = 500  # rows per account-page tab
NO_OWNER = "\x00none"  # the owner filter's "no owner" choice


@dataclass
class StageTotal:
    count: int = 0
    amounts: dict[str, float] = field(default_factory=dict)  # currency -> sum

    def lines(self) -> list[str]:
        """"CNY 1,250,000" per currency, largest first."""
        out = []
        for cur, total in sorted(self.amounts.items(), key=lambda kv: -kv[1]):
            text = f"{total:,.0f}" if float(total).is_integer() else f"{total:,.2f}"
            out.append(f"{cur} {text}".strip())
        return out


def owner_where(owner: str | None) -> tuple[str, tuple[str, ...]]:
    """SQL for the owner filter: None = everyone, NO_OWNER = records without one."""
    if owner is None:
        return "", ()
    if owner == NO_OWNER:
        return "(owner IS NULL OR owner = '')", ()
    return "owner = ?", (owner,)


def stage_totals(store: Store, owner: str | None = None) -> dict[str, StageTotal]:
    """Count and amount per stage (deals without a stage count as the first stage)."""
    where, args = owner_where(owner)
    out = {s: StageTotal() for s in STAGES}
    for stage, currency, n, total in store.conn.execute(
            "SELECT coalesce(stage, ?), coalesce(currency, ''), count(*), sum(amount) "
            f"FROM deal WHERE deleted = 0 {'AND ' + where if where else ''} "
            "GROUP BY 1, 2", (STAGES[0], *args)):
        st = out.setdefault(stage, StageTotal())
        st.count += n
        if total is not None:
            key = currency or NO_CURRENCY
            st.amounts[key] = st.amounts.get(key, 0.0) + total
    return out


def deal_owners(store: Store) -> list[str]:
    """The owners of live deals, sorted (an empty owner is not listed)."""
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT owner FROM deal WHERE deleted = 0 AND owner IS NOT NULL "
        "AND owner != '' ORDER BY owner LIMIT 500")]


def account_bundle(store: Store, account_id: str) -> dict[str, Any]:
    """The account and its contacts, deals, activities (newest first), contracts (of its
    deals, or naming it as a party) and files (attached to it or to its deals)."""
    account = store.repo("account").get(account_id)
    contacts = sorted(store.repo("contact").find(account_id=account_id),
                      key=lambda r: str(r.get("name") or ""))[:TAB_LIMIT]
    deals = sorted(store.repo("deal").find(account_id=account_id),
                   key=lambda r: (str(r.get("close_date") or "9999"), str(r.get("title"))))
    acts = sorted(store.repo("activity").find(account_id=account_id),
                  key=lambda a: str(a.get("done_at") or a.get("due_at") or a.get("created_at")
                                    or ""), reverse=True)[:TAB_LIMIT]
    deal_ids = [d["id"] for d in deals]
    contracts = _by(store, "contract",
                    "party_a_account_id = ? OR party_b_account_id = ?"
                    + (f" OR deal_id IN ({', '.join('?' * len(deal_ids))})" if deal_ids else ""),
                    (account_id, account_id, *deal_ids))
    files = _by(store, "attachment",
                "account_id = ?"
                + (f" OR deal_id IN ({', '.join('?' * len(deal_ids))})" if deal_ids else ""),
                (account_id, *deal_ids))
    open_acts = [a for a in acts if not a.get("done_at") and a.get("due_at")]
    return {"account": account, "contacts": contacts, "deals": deals[:TAB_LIMIT],
            "activities": acts, "contracts": contracts, "files": files,
            "next_due": min((str(a["due_at"]) for a in open_acts), default=None),
            "open_deals": sum(1 for d in deals if d.get("stage") not in ("won", "lost"))}


def _by(store: Store, entity: str, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    from desktop.store.rows import from_row  # (the store is not loaded before it is opened)

    ent = ENTITIES[entity]
    rows = store.conn.execute(f'SELECT * FROM "{entity}" WHERE deleted = 0 AND ({where}) '
                              "ORDER BY rid DESC LIMIT ?", (*args, TAB_LIMIT)).fetchall()
    return [from_row(ent, r) for r in rows]


def tel_url(phone: str) -> str | None:
    """tel: link of a phone as typed ("+86 139-1234-5678" -> "tel:+8613912345678")."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    plus = digits.startswith("+")
    digits = digits.replace("+", "")
    if len(digits) < 3:
        return None
    return "tel:" + ("+" if plus else "") + digits


def mailto_url(email: str) -> str | None:
    email = (email or "").strip()
    if "@" not in email or any(c.isspace() for c in email):
        return None
    return "mailto:" + quote(email, safe="@.+-_")
