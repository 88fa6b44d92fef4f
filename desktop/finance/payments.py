"""A deal's payments summed exactly, the payments list's rows and filter, who may write.

Money is Decimal to the cent. Amounts are stored as numbers (REAL in SQLite); each is
read through its shortest decimal text (`Decimal(str(x))`) and rounded half-up to the
cent before it is added, so 0.10 + 0.20 is 0.30, never 0.30000000000000004. Sums are
kept per currency: a payment in another currency than its deal's is shown beside the
deal's figures and never added to them unconverted (the reports convert at dated
`fx_rate` records; a deal's page does not).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from desktop.schema import FINANCE_WRITES, Role

if TYPE_CHECKING:
    from desktop.store import Store

CENT = Decimal("0.01")
BASE = "CNY"  # a record without a currency is in CNY (as the reports read it)
TARGET_LIMIT = 10


def money(value: Any) -> Decimal:
    """A stored amount (int, float, text or Decimal) as Decimal to the cent; None is 0."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, float):
        value = str(value)  # the shortest text that reads back as the same float
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def currency_of(rec: Mapping[str, Any]) -> str:
    return str(rec.get("currency") or BASE).upper()


def may_record_payments(role: str | None) -> bool:
    """Whether `role` may write payments (finance and admin); the server checks again."""
    try:
        return Role(role or "") in FINANCE_WRITES
    except ValueError:
        return False


def payment_role(store: Store) -> str:
    """The role this profile is signed in with; "" when not signed in (a rep's rights)."""
    from desktop.sync.auth import load_account

    account = load_account(store)
    return account.role if account is not None else ""


# ------------------------------------------------------------ a deal's payments
@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    received: Decimal
    planned: Decimal


@dataclass(frozen=True)
class DealPayments:
    """A deal's money: `signed` (its signed amount, else its amount: `signed_is_amount`),
    `collected` (received payments) and `planned` in the deal's currency, `outstanding`
    (signed minus collected; None without a signed amount), the totals of payments in
    other currencies (never added in), and the payments, newest first."""

    deal_id: str
    currency: str
    signed: Decimal | None
    signed_is_amount: bool
    collected: Decimal
    planned: Decimal
    outstanding: Decimal | None
    other: tuple[CurrencyTotals, ...] = ()
    payments: tuple[dict[str, Any], ...] = field(default=())


def summarize(deal: Mapping[str, Any], payments: Iterable[Mapping[str, Any]]) -> DealPayments:
    """The figures of `deal` from its (live) payments (pure: no store)."""
    currency = currency_of(deal)
    sums: dict[str, dict[str, Decimal]] = {}
    kept: list[dict[str, Any]] = []
    for p in payments:
        if p.get("deleted"):
            continue
        kept.append(dict(p))
        kind = p.get("kind")
        if kind not in ("planned", "received"):
            continue
        per = sums.setdefault(currency_of(p), {"planned": Decimal("0.00"),
                                                "received": Decimal("0.00")})
        per[str(kind)] += money(p.get("amount"))
    own = sums.pop(currency, {"planned": Decimal("0.00"), "received": Decimal("0.00")})
    signed_value = deal.get("signed_amount")
    signed_is_amount = signed_value is None and deal.get("amount") is not None
    if signed_is_amount:
        signed_value = deal.get("amount")
    signed = None if signed_value is None else money(signed_value)
    collected = own["received"]
    kept.sort(key=lambda p: (str(p.get("date") or ""), str(p.get("id") or "")), reverse=True)
    return DealPayments(
        deal_id=str(deal.get("id") or ""), currency=currency, signed=signed,
        signed_is_amount=signed_is_amount, collected=collected, planned=own["planned"],
        outstanding=None if signed is None else signed - collected,
        other=tuple(CurrencyTotals(c, s["received"], s["planned"])
                    for c, s in sorted(sums.items())),
        payments=tuple(kept))


def deal_payments(store: Store, deal_id: str) -> DealPayments:
    """The deal's figures: its own payments and those of its contracts (worker side).
    Raises NotFoundError for an unknown or deleted deal."""
    deal = store.repo("deal").get(deal_id)
    contract_ids = [r[0] for r in store.conn.execute(
        "SELECT id FROM contract WHERE deal_id = ? AND deleted = 0", (deal_id,))]
    marks = ",".join("?" * len(contract_ids))
    where = "deal_id = ?" + (f" OR contract_id IN ({marks})" if contract_ids else "")
    rows = store.repo("payment").page(limit=10_000, where=where,
                                      params=(deal_id, *contract_ids))
    attach_targets(store, rows)
    return summarize(deal, rows)


# ------------------------------------------------------------ saving
def owner_for(store: Store, deal_id: str | None, contract_id: str | None) -> str | None:
    """Who a payment belongs to: its deal's rep, else its contract's (finance writes it,
    the rep reads it; the server gives a system's payment the same owner)."""
    for table, rid in (("deal", deal_id), ("contract", contract_id)):
        if rid:
            row = store.conn.execute(f"SELECT owner FROM {table} WHERE id = ?",
                                     (rid,)).fetchone()
            if row is not None and row[0]:
                return str(row[0])
    return None


def save_payment(store: Store, values: Mapping[str, Any],
                 before: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Create a payment from the form's checked `values`, or write what changed of the
    stored `before`. A new payment, or one moved to another deal or contract, belongs
    to its deal's (else contract's) rep."""
    repo = store.repo("payment")
    if before is None:
        new = {k: v for k, v in values.items() if v is not None}
        owner = owner_for(store, new.get("deal_id"), new.get("contract_id"))
        if owner:
            new["owner"] = owner
        return repo.create(new)
    changes = {k: v for k, v in values.items() if before.get(k) != v}
    if "deal_id" in changes or "contract_id" in changes:
        owner = owner_for(store, values.get("deal_id"), values.get("contract_id"))
        if owner and owner != before.get("owner"):
            changes["owner"] = owner
    return repo.update(str(before["id"]), changes) if changes else dict(before)


# ------------------------------------------------------------ list rows
def contract_label(rec: Mapping[str, Any]) -> str:
    """How a contract is named where it is picked or listed: its number and party A
    (else the start of its id)."""
    parts = [str(rec[k]) for k in ("contract_no", "party_a_name") if rec.get(k)]
    return " · ".join(parts) or str(rec.get("id", ""))[:8]


def attach_targets(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put the deal's title (else the contract's label) of each payment into
    rec["_target"], and "deal" or "contract" into rec["_target_kind"] (worker side)."""
    deal_ids = sorted({r["deal_id"] for r in rows if r.get("deal_id")})
    contract_ids = sorted({r["contract_id"] for r in rows if r.get("contract_id")})
    titles: dict[str, str] = {}
    for table, ids, cols in (("deal", deal_ids, "id, title"),
                             ("contract", contract_ids,
                              "id, contract_no, party_a_name")):
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in store.conn.execute(
                    f"SELECT {cols} FROM {table} WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk):
                rec = dict(r)
                titles[rec["id"]] = (str(rec.get("title") or "") if table == "deal"
                                     else contract_label(rec))
    for r in rows:
        if r.get("deal_id") and r["deal_id"] in titles:
            r["_target"], r["_target_kind"] = titles[r["deal_id"]], "deal"
        elif r.get("contract_id") and r["contract_id"] in titles:
            r["_target"], r["_target_kind"] = titles[r["contract_id"]], "contract"
        else:
            r["_target"], r["_target_kind"] = "", ""
    return rows


def _like(text: str) -> str:
    return "%" + text.replace("%", "").replace("_", "") + "%"


def list_filter(kind: str | None = None, text: str = "") -> tuple[str, tuple[Any, ...]]:
    """The (where, params) of the payments list: one kind ("planned"/"received", or None
    for both) and a search over the invoice No., the note, the deal's title and the
    contract's number and party A."""
    clauses: list[str] = []
    params: list[Any] = []
    if kind:
        clauses.append("kind = ?")
        params.append(kind)
    text = text.strip()
    if text:
        like = _like(text)
        clauses.append(
            "invoice_no LIKE ? OR note LIKE ? OR deal_id IN (SELECT id FROM deal WHERE "
            "deleted = 0 AND title LIKE ?) OR contract_id IN (SELECT id FROM contract WHERE "
            "deleted = 0 AND (contract_no LIKE ? OR party_a_name LIKE ?))")
        params += [like] * 5
    return " AND ".join(f"({c})" for c in clauses), tuple(params)


# ------------------------------------------------------------ picking a deal or contract
@dataclass(frozen=True)
class Target:
    """A deal or contract a payment belongs to, as the form's picker offers it."""

    entity: str  # "deal" or "contract"
    id: str
    title: str
    currency: str | None = None
    deal_id: str | None = None  # a contract's deal


def find_targets(store: Store, text: str, limit: int = TARGET_LIMIT) -> list[Target]:
    """Deals whose title, and contracts whose number or party A contain
    `text` (deals first), at most `limit` of each."""
    like = _like(text.strip())
    out = [Target("deal", r["id"], str(r["title"] or ""), r["currency"])
           for r in store.conn.execute(
               "SELECT id, title, currency FROM deal WHERE deleted = 0 AND title LIKE ? "
               "ORDER BY title COLLATE NOCASE LIMIT ?", (like, limit))]
    out += [Target("contract", r["id"], contract_label(dict(r)), r["currency"], r["deal_id"])
            for r in store.conn.execute(
                "SELECT id, contract_no, party_a_name, currency, deal_id FROM contract "
                "WHERE deleted = 0 AND (contract_no LIKE ? OR party_a_name LIKE ?) "
                "ORDER BY contract_no LIMIT ?", (like, like, limit))]
    return out


def target_of(store: Store, payment: Mapping[str, Any]) -> Target | None:
    """What a stored payment's form shows as picked: its contract (with the contract's
    deal kept), else its deal. Editing it then keeps both links."""
    if payment.get("contract_id"):
        row = store.conn.execute(
            "SELECT id, contract_no, party_a_name, currency FROM contract WHERE id = ?",
            (payment["contract_id"],)).fetchone()
        if row is not None:
            return Target("contract", row["id"], contract_label(dict(row)), row["currency"],
                          payment.get("deal_id"))
    if payment.get("deal_id"):
        row = store.conn.execute("SELECT id, title, currency FROM deal WHERE id = ?",
                                 (payment["deal_id"],)).fetchone()
        if row is not None:
            return Target("deal", row["id"], str(row["title"] or ""), row["currency"])
    return None


def currencies(extra: Sequence[str | None] = ()) -> tuple[str, ...]:
    """The currencies the form offers: the schema's list, and any other a record holds."""
    from desktop.schema import CURRENCIES

    more = [c.upper() for c in extra if c and c.upper() not in CURRENCIES]
    return (*CURRENCIES, *more)
